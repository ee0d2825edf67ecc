"""Pages: activities, the kiosk, the volunteer's check-in and scan pages, badges, my
attendance, the organizer's attendance review and the party-member view."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
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
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from timebank.activities import operations as activities
from timebank.activities.errors import NothingSelected
from timebank.activities.models import ACTIVITY_KINDS, CHECKIN_MODES, category_name
from timebank.activities.schemas import CheckinRequestSchema
from timebank.core.errors import DomainError, Forbidden
from timebank.core.qr import qr_svg
from timebank.extensions import db
from timebank.people import operations as people
from timebank.units import operations as units

bp = Blueprint("activities", __name__)

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
}
RESULT_NAMES = {
    "checked_in": _l("You are checked in."),
    "checked_out": _l("You are checked out."),
    "already_checked_in": _l("You were already checked in."),
    "already_checked_out": _l("You were already checked out."),
}


class ActivityForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    unit_id = SelectField(_l("Unit"), coerce=int)
    category = SelectField(_l("Category"))
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_NAMES[k]) for k in ACTIVITY_KINDS])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    starts_at = DateTimeLocalField(_l("Starts"), validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), validators=[DataRequired()])
    capacity = IntegerField(
        _l("Places (empty: no limit)"), validators=[Optional(), NumberRange(1, 100_000)]
    )
    signup_required = BooleanField(_l("Only members who signed up may check in"))
    points_per_hour = IntegerField(
        _l("Points per hour"), default=0, validators=[Optional(), NumberRange(0, 100_000)]
    )
    checkin_bonus = IntegerField(
        _l("Points for attending"), default=0, validators=[Optional(), NumberRange(0, 100_000)]
    )
    checkin_mode = SelectField(
        _l("Check-in mode"), choices=[SelectChoice(m, MODE_NAMES[m]) for m in CHECKIN_MODES]
    )
    requires_checkout = BooleanField(_l("Volunteers also check out"), default=True)
    lat = FloatField(_l("Latitude (optional)"), validators=[Optional(), NumberRange(-90, 90)])
    lng = FloatField(_l("Longitude (optional)"), validators=[Optional(), NumberRange(-180, 180)])
    radius_m = IntegerField(_l("Radius in metres"), validators=[Optional(), NumberRange(1, 50_000)])


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons."""


def _flash_form_errors(form: FlaskForm) -> None:
    for field_name, messages in form.errors.items():
        label = getattr(form, field_name).label.text if hasattr(form, field_name) else field_name
        for message in messages:
            flash(f"{label}: {message}", "error")


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
    roots = people.scope_roots(current_user, "activities.manage")
    return units.list_units(within=roots) if roots else []


@bp.route("/activities")
@login_required
def index():
    category = request.args.get("category") or None
    if category not in activities.categories():
        category = None
    return render_template(
        "activities/list.html",
        items=activities.list_activities(current_user, category=category, status="published"),
        category=category,
        categories=activities.categories(),
        can_create=bool(_organized_units()),
        organized_roots=[
            units.get_unit(uid) for uid in people.scope_roots(current_user, "members.view")
        ],
    )


@bp.route("/activities/new", methods=["GET", "POST"])
@login_required
def new():
    choices = _organized_units()
    if not choices:
        raise Forbidden(_("Only organizers can publish activities."))
    form = ActivityForm()
    form.unit_id.choices = [(u.id, u.name) for u in choices]
    form.category.choices = [SelectChoice(c, category_name(c)) for c in activities.categories()]
    if form.validate_on_submit():
        try:
            activity = activities.create_activity(
                actor=current_user,
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
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
        else:
            flash(_("%(title)s was published.", title=activity.title), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id))
    elif request.method == "POST":
        _flash_form_errors(form)
    return render_template("activities/new.html", form=form)


@bp.route("/activities/<int(max=2147483647):activity_id>")
@login_required
def detail(activity_id: int):
    activity = activities.get_activity(activity_id)
    activities.check_view(current_user, activity)
    manages = people.may(current_user, "activities.manage", activity.unit_id)
    approves = people.may(current_user, "attendance.approve", activity.unit_id)
    signup = activities.get_signup(activity.id, current_user.id)
    return render_template(
        "activities/detail.html",
        activity=activity,
        manages=manages,
        approves=approves,
        signed_up=signup is not None and signup.status == "signed_up",
        places_taken=activities.active_signup_count(activity.id),
        attendance=activities.list_attendance(activity) if approves else [],
        counts=activities.attendance_counts(activity.id),
        form=ActionForm(),
    )


@bp.route(
    "/activities/<int(max=2147483647):activity_id>/<any(signup, withdraw):choice>",
    methods=["POST"],
)
@login_required
def signup(activity_id: int, choice: str):
    activity = activities.get_activity(activity_id)
    if ActionForm().validate_on_submit():
        try:
            if choice == "signup":
                activities.sign_up(activity, current_user)
                flash(_("You have signed up."), "success")
            else:
                activities.withdraw(activity, current_user)
                flash(_("You have withdrawn."), "success")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    return redirect(url_for("activities.detail", activity_id=activity_id))


@bp.route("/activities/<int(max=2147483647):activity_id>/cancel", methods=["POST"])
@login_required
def cancel(activity_id: int):
    activity = activities.get_activity(activity_id)
    if ActionForm().validate_on_submit():
        try:
            activities.cancel_activity(
                activity, actor=current_user, reason=request.form.get("reason", "")[:500]
            )
            db.session.commit()
            flash(_("The activity was cancelled."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    return redirect(url_for("activities.detail", activity_id=activity_id))


@bp.route("/activities/<int(max=2147483647):activity_id>/attendance", methods=["POST"])
@login_required
def decide(activity_id: int):
    """Approve or reject the ticked attendances (bulk)."""
    activity = activities.get_activity(activity_id)
    if ActionForm().validate_on_submit():
        ids = [
            int(i)
            for i in request.form.getlist("ids")
            if i.isascii() and i.isdigit() and len(i) < 10
        ]
        try:
            if not ids:
                raise NothingSelected("Tick at least one person.")
            if request.form.get("decision") == "reject":
                activities.reject_attendance(
                    activity, ids, actor=current_user, reason=request.form.get("reason") or ""
                )
                flash(_("%(count)s rejected.", count=len(ids)), "success")
            else:
                activities.approve_attendance(activity, ids, actor=current_user)
                flash(_("%(count)s approved and credited.", count=len(ids)), "success")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    return redirect(url_for("activities.detail", activity_id=activity_id) + "#attendance")


@bp.route("/activities/<int(max=2147483647):activity_id>/manual", methods=["POST"])
@login_required
def manual(activity_id: int):
    """Check in by name or phone number a member without a smartphone."""
    activity = activities.get_activity(activity_id)
    if ActionForm().validate_on_submit():
        try:
            member = activities.find_member_for_manual_check_in(
                activity, request.form.get("member", ""), actor=current_user
            )
            result = activities.manual_check_in(activity, member, actor=current_user)
            db.session.commit()
            flash(f"{member.name}: {RESULT_NAMES[result.action]}", "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    return redirect(url_for("activities.detail", activity_id=activity_id))


def _kiosk_state(activity) -> dict:
    code = activities.current_code(activity)
    return {
        **code,
        "svg": qr_svg(code["url"]),
        **activities.attendance_counts(activity.id),
    }


@bp.route("/activities/<int(max=2147483647):activity_id>/kiosk")
@login_required
def kiosk(activity_id: int):
    activity = activities.get_activity(activity_id)
    people.authorize(current_user, "activities.manage", activity.unit_id)
    return render_template("activities/kiosk.html", activity=activity, state=_kiosk_state(activity))


@bp.route("/activities/<int(max=2147483647):activity_id>/kiosk.json")
@login_required
def kiosk_state(activity_id: int):
    """The kiosk polls this every few seconds: the current code and the live counts."""
    activity = activities.get_activity(activity_id)
    people.authorize(current_user, "activities.manage", activity.unit_id)
    state = _kiosk_state(activity)
    db.session.commit()
    return jsonify(state)


@bp.route("/checkin/<token>", methods=["GET"])
@login_required
def checkin_page(token: str):
    """The page a kiosk code opens: it asks the phone for its location, then submits."""
    return render_template("activities/checkin.html", token=token[:300], form=ActionForm())


@bp.route("/checkin/<token>", methods=["POST"])
@login_required
def checkin_submit(token: str):
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("activities.checkin_page", token=token[:300]))
    lat, lng = _coordinate(request.form.get("lat"), 90), _coordinate(request.form.get("lng"), 180)
    try:
        result = activities.check_in(current_user, token[:300], lat=lat, lng=lng)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return render_template(
            "activities/checkin_result.html", error=error.localized(), code=error.code
        ), error.status
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


@bp.route("/checkin-uploads", methods=["POST"])
@login_required
def checkin_upload():
    """Scans the scan page stored while offline, uploaded as JSON (CSRF header)."""
    try:
        data = CheckinRequestSchema().load(request.get_json(silent=True) or {})
    except ValidationError as error:
        # the scan page shows ``detail``; a field error here means a code that is not ours
        detail = _("This check-in code is not valid.")
        return jsonify({"code": "invalid_input", "detail": detail, "errors": error.messages}), 422
    try:
        result = activities.check_in(
            current_user,
            data["token"],
            lat=data["lat"],
            lng=data["lng"],
            scanned_at=data["scanned_at"],
            nonce=data["nonce"],
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return jsonify({"code": error.code, "detail": error.localized()}), error.status
    return jsonify({"code": result.action, "detail": str(RESULT_NAMES[result.action])})


@bp.route("/scan")
@login_required
def scan():
    """The volunteer's camera page (and a box to type the code)."""
    return render_template("activities/scan.html")


@bp.route("/scan/code", methods=["POST"])
@login_required
def scan_code():
    code = (request.form.get("code") or "").strip()[:300]
    if "/checkin/" in code:
        code = code.rsplit("/checkin/", 1)[1]
    if not code:
        return redirect(url_for("activities.scan"))
    return redirect(url_for("activities.checkin_page", token=code))


@bp.route("/activities/<int(max=2147483647):activity_id>/badges", methods=["GET", "POST"])
@login_required
def badge_scan(activity_id: int):
    """Organizer staff scan members' badge codes with the phone camera."""
    activity = activities.get_activity(activity_id)
    people.authorize(current_user, "activities.manage", activity.unit_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            result = activities.scan_badge(
                activity, (request.form.get("code") or "")[:300], actor=current_user
            )
            db.session.commit()
            flash(f"{result.attendance.member.name}: {RESULT_NAMES[result.action]}", "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
        return redirect(url_for("activities.badge_scan", activity_id=activity_id))
    return render_template(
        "activities/badge_scan.html",
        activity=activity,
        form=form,
        counts=activities.attendance_counts(activity.id),
    )


@bp.route("/me/badge")
@login_required
def my_badge():
    badge = activities.current_badge(current_user)
    return render_template("activities/badge.html", badge=badge, svg=qr_svg(badge["token"]))


@bp.route("/me/activities")
@login_required
def mine():
    from timebank.ledger import operations as ledger

    return render_template(
        "activities/mine.html",
        signups=activities.my_signups(current_user),
        attendance=activities.my_attendance(current_user),
        balances=ledger.balances(current_user.id),
    )


@bp.route("/units/<int(max=2147483647):unit_id>/party-attendance")
@login_required
def party(unit_id: int):
    unit = units.get_unit(unit_id)
    rows = activities.party_report(unit_id, actor=current_user)
    return render_template("activities/party.html", unit=unit, rows=rows)
