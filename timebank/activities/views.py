"""Pages: activities, the kiosk, the volunteer's check-in and scan pages, badges, my
attendance, the organizer's attendance review and the party-member view."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.validators import ValidationError as InvalidField

from timebank.activities import operations as activities
from timebank.activities.errors import NothingSelected
from timebank.activities.models import (
    ACTIVITY_KINDS,
    CAPACITY,
    CHECKIN_MODES,
    DESCRIPTION_MAX,
    LATITUDE,
    LONGITUDE,
    POINTS,
    RADIUS_M,
    TITLE_MAX,
    category_name,
)
from timebank.activities.schemas import CheckinRequestSchema
from timebank.core import access
from timebank.core.errors import InvalidInput, problem
from timebank.core.qr import qr_svg
from timebank.core.web import REDISPLAY, ActionForm, Form, flash_form_errors, page, redirect_to
from timebank.ledger import operations as ledger
from timebank.units import operations as units

bp = Blueprint("activities", __name__)
ACTIVITY = "/activities/<int(max=2147483647):activity_id>"
TARGET = activities.activity_target

KIND_NAMES = {"service": _l("Volunteer service"), "party": _l("Party activity")}
MODE_NAMES = {"kiosk": _l("Kiosk: volunteers scan the screen"), "badge": _l("Badge: staff scan")}
STATUS_NAMES = {
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
    "pending": _l("Waiting for approval"),
    "review": _l("Held for review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
REASON_NAMES = {
    "no_location": _l("no location sent"),
    "outside_radius": _l("scanned outside the activity's area"),
    "typed_code": _l("typed the short code instead of scanning"),
    "late_upload": _l("sent later than it was scanned (a forwarded screenshot looks the same)"),
}
RESULT_NAMES = {
    "checked_in": _l("You are checked in."),
    "checked_out": _l("You are checked out."),
    "already_checked_in": _l("You were already checked in."),
    "already_checked_out": _l("You were already checked out."),
}


def _a_real_moment(form, field):
    # the local time must exist in UTC too (0001-01-01 in Shanghai does not)
    if field.data is not None and not 1900 <= field.data.year <= 9998:
        raise InvalidField(_l("Give a date between 1900 and 9998."))


class ActivityForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    unit_id = SelectField(_l("Unit"), coerce=int)
    category = SelectField(_l("Category"))
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_NAMES[k]) for k in ACTIVITY_KINDS])
    description = TextAreaField(_l("Description"), validators=[Length(max=DESCRIPTION_MAX)])
    starts_at = DateTimeLocalField(_l("Starts"), validators=[DataRequired(), _a_real_moment])
    ends_at = DateTimeLocalField(_l("Ends"), validators=[DataRequired(), _a_real_moment])
    capacity = IntegerField(
        _l("Places (empty: no limit)"), validators=[Optional(), CAPACITY.form()]
    )
    signup_required = BooleanField(_l("Only members who signed up may check in"))
    points_per_hour = IntegerField(
        _l("Points per hour"), default=0, validators=[Optional(), POINTS.form()]
    )
    checkin_bonus = IntegerField(
        _l("Points for attending"), default=0, validators=[Optional(), POINTS.form()]
    )
    checkin_mode = SelectField(
        _l("Check-in mode"), choices=[SelectChoice(m, MODE_NAMES[m]) for m in CHECKIN_MODES]
    )
    requires_checkout = BooleanField(_l("Volunteers also check out"), default=True)
    lat = FloatField(_l("Latitude (optional)"), validators=[Optional(), LATITUDE.form()])
    lng = FloatField(_l("Longitude (optional)"), validators=[Optional(), LONGITUDE.form()])
    radius_m = IntegerField(_l("Radius in metres"), validators=[Optional(), RADIUS_M.form()])


def _aware(local: datetime | None) -> datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=activities.local_zone()).astimezone(UTC)


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(activities.local_zone()).strftime(fmt)


@bp.app_context_processor
def _names():
    return {
        "category_name": category_name,
        "KIND_NAMES": KIND_NAMES,
        "STATUS_NAMES": STATUS_NAMES,
        "REASON_NAMES": REASON_NAMES,
    }


def _organized_units():
    roots = access.scope_roots(access.current_actor(), "activities.manage")
    return units.list_units(within=roots) if roots else []


@bp.route("/activities")
@page("activities.view")
def index():
    actor = access.current_actor()
    category = request.args.get("category") or None
    if category not in activities.categories():
        category = None
    return render_template(
        "activities/list.html",
        items=activities.list_activities(actor, category=category, status="published"),
        category=category,
        categories=activities.categories(),
        can_create=bool(access.scope_roots(actor, "activities.manage")),
        organized_roots=[units.get_unit(uid) for uid in access.scope_roots(actor, "members.view")],
    )


@bp.route("/activities/new", methods=["GET", "POST"])
@page("activities.manage", on_error=REDISPLAY)
def new():
    actor = access.current_actor()
    access.authorize_anywhere(actor, "activities.manage")
    form = ActivityForm()
    form.unit_id.choices = [(u.id, u.name) for u in _organized_units()]
    form.category.choices = [SelectChoice(c, category_name(c)) for c in activities.categories()]
    if form.validate_on_submit():
        access.authorize(actor, "activities.manage", units.unit_target(form.unit_id.data))
        activity = activities.create_activity(
            actor=actor,
            unit_id=form.unit_id.data,
            title=form.title.data,
            description=form.description.data or "",
            category=form.category.data,
            kind=form.kind.data,
            starts_at=_aware(form.starts_at.data),
            ends_at=_aware(form.ends_at.data),
            lat=form.lat.data,
            lng=form.lng.data,
            radius_m=form.radius_m.data,
            capacity=form.capacity.data,
            signup_required=form.signup_required.data,
            points_per_hour=form.points_per_hour.data or 0,
            checkin_bonus=form.checkin_bonus.data or 0,
            checkin_mode=form.checkin_mode.data,
            requires_checkout=form.requires_checkout.data,
        )
        flash(_("%(title)s was published.", title=activity.title), "success")
        return redirect(url_for("activities.detail", activity_id=activity.id))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template("activities/new.html", form=form)


@bp.route(ACTIVITY)
@page("activities.view", target=TARGET)
def detail(activity_id: int):
    actor = access.current_actor()
    activity = activities.get_activity(activity_id)
    target = TARGET(activity_id)
    approves = access.may(actor, "attendance.approve", target)
    signup = activities.get_signup(activity.id, actor.id)
    return render_template(
        "activities/detail.html",
        activity=activity,
        manages=access.may(actor, "activities.manage", target),
        approves=approves,
        signed_up=signup is not None and signup.status == "signed_up",
        places_taken=activities.active_signup_count(activity.id),
        attendance=activities.list_attendance(activity) if approves else [],
        counts=activities.attendance_counts(activity.id),
        form=ActionForm(),
    )


_TO_DETAIL = redirect_to("activities.detail", "activity_id")
_TO_ATTENDANCE = redirect_to("activities.detail", "activity_id", anchor="attendance")


@bp.route(f"{ACTIVITY}/<any(signup, withdraw):choice>", methods=["POST"])
@page("activities.join", target=TARGET, on_error=_TO_DETAIL)
def signup(activity_id: int, choice: str):
    activity = activities.get_activity(activity_id)
    if ActionForm().validate_on_submit():
        if choice == "signup":
            activities.sign_up(activity, access.acting_member())
            flash(_("You have signed up."), "success")
        else:
            activities.withdraw(activity, access.acting_member())
            flash(_("You have withdrawn."), "success")
    return redirect(url_for("activities.detail", activity_id=activity_id))


@bp.route(f"{ACTIVITY}/cancel", methods=["POST"])
@page("activities.manage", target=TARGET, on_error=_TO_DETAIL)
def cancel(activity_id: int):
    if ActionForm().validate_on_submit():
        activities.cancel_activity(
            activities.get_activity(activity_id),
            actor=access.current_actor(),
            reason=request.form.get("reason", "")[:500],
        )
        flash(_("The activity was cancelled."), "success")
    return redirect(url_for("activities.detail", activity_id=activity_id))


@bp.route(f"{ACTIVITY}/attendance", methods=["POST"])
@page(
    "attendance.approve",
    target=TARGET,
    on_error=redirect_to("activities.detail", "activity_id", anchor="attendance"),
)
def decide(activity_id: int):
    """Approve or reject the ticked attendances (bulk)."""
    activity = activities.get_activity(activity_id)
    if ActionForm().validate_on_submit():
        ids = [
            int(i)
            for i in request.form.getlist("ids")
            if i.isascii() and i.isdigit() and len(i) < 10
        ]
        if not ids:
            raise NothingSelected("Tick at least one person.")
        actor = access.current_actor()
        if request.form.get("decision") == "reject":
            reason = request.form.get("reason") or ""
            activities.reject_attendance(activity, ids, actor=actor, reason=reason)
            flash(_("%(count)s rejected.", count=len(ids)), "success")
        else:
            activities.approve_attendance(activity, ids, actor=actor)
            flash(_("%(count)s approved and credited.", count=len(ids)), "success")
    return redirect(url_for("activities.detail", activity_id=activity_id) + "#attendance")


@bp.route(f"{ACTIVITY}/manual", methods=["POST"])
@page("activities.manage", target=TARGET, on_error=_TO_DETAIL)
def manual(activity_id: int):
    """Check in by name or phone number a member without a smartphone."""
    activity = activities.get_activity(activity_id)
    if ActionForm().validate_on_submit():
        actor = access.current_actor()
        member = activities.find_member_for_manual_check_in(
            activity, request.form.get("member", ""), actor=actor
        )
        result = activities.manual_check_in(activity, member, actor=actor)
        flash(f"{member.name}: {RESULT_NAMES[result.action]}", "success")
    return redirect(url_for("activities.detail", activity_id=activity_id))


@bp.route(f"{ACTIVITY}/kiosk")
@page("activities.manage", target=TARGET)
def kiosk(activity_id: int):
    activity = activities.get_activity(activity_id)
    state = activities.kiosk_state(activity)
    return render_template("activities/kiosk.html", activity=activity, state=state)


@bp.route(f"{ACTIVITY}/kiosk.json")
@page("activities.manage", target=TARGET)
def kiosk_state(activity_id: int):
    """The kiosk polls this every few seconds: the current code and the live counts."""
    return jsonify(activities.kiosk_state(activities.get_activity(activity_id)))


@bp.route("/checkin/<token>", methods=["GET"])
@page("activities.join")
def checkin_page(token: str):
    """The page a kiosk code opens: it asks the phone for its location, then submits."""
    return render_template("activities/checkin.html", token=token[:300], form=ActionForm())


def _checkin_refused(error, kwargs):
    page_ = render_template(
        "activities/checkin_result.html", error=error.localized(), code=error.code
    )
    return page_, error.status


@bp.route("/checkin/<token>", methods=["POST"])
@page("activities.join", on_error=_checkin_refused)
def checkin_submit(token: str):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("activities.checkin_page", token=token[:300]))
    lat, lng = _coordinate(request.form.get("lat"), 90), _coordinate(request.form.get("lng"), 180)
    activities.count_scan_attempt(access.acting_member())
    result = activities.check_in(access.acting_member(), token[:300], lat=lat, lng=lng)
    return render_template(
        "activities/checkin_result.html",
        result=result,
        message=RESULT_NAMES[result.action],
        code=result.action,
    )


def _coordinate(raw: str | None, bound: float) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if -bound <= value <= bound else None


def _upload_refused(error, kwargs):
    # the scan page shows ``detail`` to the volunteer: in their language
    return problem(error.status, error.code, error.localized(), error.errors)


@bp.route("/checkin-uploads", methods=["POST"])
@page("activities.join", on_error=_upload_refused)
def checkin_upload():
    """Scans the scan page stored while offline, uploaded as JSON (CSRF header)."""
    try:
        data = CheckinRequestSchema().load(request.get_json(silent=True) or {})
    except ValidationError as error:
        # a field error here means a code that is not ours
        raise InvalidInput("This check-in code is not valid.", errors=error.messages) from None
    activities.count_scan_attempt(access.acting_member())
    result = activities.check_in(
        access.acting_member(),
        data["token"],
        lat=data["lat"],
        lng=data["lng"],
        scanned_at=data["scanned_at"],
        nonce=data["nonce"],
    )
    return jsonify({"code": result.action, "detail": str(RESULT_NAMES[result.action])})


@bp.route("/scan")
@page("activities.join")
def scan():
    """The volunteer's camera page (and a box to type the code)."""
    return render_template("activities/scan.html")


@bp.route("/scan/code", methods=["POST"])
@page("activities.join")
def scan_code():
    code = activities.token_from_scan(request.form.get("code"))
    if not code:
        return redirect(url_for("activities.scan"))
    return redirect(url_for("activities.checkin_page", token=code))


@bp.route(f"{ACTIVITY}/badges")
@page("activities.manage", target=TARGET)
def badge_scan(activity_id: int):
    """Organizer staff scan members' badge codes with the phone camera."""
    return render_template(
        "activities/badge_scan.html",
        activity=activities.get_activity(activity_id),
        form=ActionForm(),
        counts=activities.attendance_counts(activity_id),
    )


@bp.route(f"{ACTIVITY}/badges", methods=["POST"])
@page("activities.manage", target=TARGET)
def badge_submit(activity_id: int):
    if ActionForm().validate_on_submit():
        result = activities.scan_badge(
            activities.get_activity(activity_id),
            (request.form.get("code") or "")[:300],
            actor=access.current_actor(),
        )
        flash(f"{result.attendance.member.name}: {RESULT_NAMES[result.action]}", "success")
    return redirect(url_for("activities.badge_scan", activity_id=activity_id))


@bp.route("/me/badge")
@page("me.activities")
def my_badge():
    badge = activities.current_badge(access.acting_member())
    return render_template("activities/badge.html", badge=badge, svg=qr_svg(badge["token"]))


@bp.route("/me/activities")
@page("me.activities")
def mine():
    member = access.acting_member()
    return render_template(
        "activities/mine.html",
        signups=activities.my_signups(member),
        attendance=activities.my_attendance(member),
        balances=ledger.balances(member.id),
    )


@bp.route("/units/<int(max=2147483647):unit_id>/party-attendance")
@page("party.report", target=units.unit_target)
def party(unit_id: int):
    return render_template(
        "activities/party.html",
        unit=units.get_unit(unit_id),
        rows=activities.party_report(unit_id),
    )
