"""Pages: activities, the kiosk, the volunteer's check-in and scan pages, badges, my
attendance, the organizer's attendance review and the party-member view."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from timebank.activities import operations as activities
from timebank.activities.errors import NothingSelected
from timebank.activities.models import (
    category_name,
)
from timebank.activities.notes import zero_minutes_note
from timebank.activities.schemas import CheckinRequestSchema
from timebank.activities.words import MY_STATUS_NAMES, held_because
from timebank.core import access
from timebank.core.errors import N_, InvalidInput, problem
from timebank.core.pending import pending_credits
from timebank.core.qr import qr_svg
from timebank.core.web import ActionForm, page, redirect_to
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
#: what the organizer reads after checking someone else in (by name, phone or badge)
CHECKED_IN_NAMES = {
    "checked_in": N_("%(name)s is checked in."),
    "checked_out": N_("%(name)s is checked out."),
    "already_checked_in": N_("%(name)s was already checked in."),
    "already_checked_out": N_("%(name)s was already checked out."),
}
#: why the page offers no sign-up button
JOIN_REFUSALS = {
    "cancelled": _l("This activity was cancelled."),
    "over": _l("This activity is over."),
    "party_only": _l("Only party members attend this activity."),
    "full": _l("All places are taken."),
}
RESULT_NAMES = {
    "checked_in": _l("You are checked in."),
    "checked_out": _l("You are checked out."),
    "already_checked_in": _l("You were already checked in."),
    "already_checked_out": _l("You were already checked out."),
}


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(activities.local_zone()).strftime(fmt)


def review_reasons(stored: str | None) -> str:
    """Why a check-in is held, each reason in words, joined as the language lists them
    (、 in Chinese, a comma in English)."""
    said = [str(REASON_NAMES.get(r, r)) for r in (stored or "").split(",") if r]
    return _(", ").join(said)


@bp.app_context_processor
def _names():
    return {
        "review_reasons": review_reasons,
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
    acting = access.acting_for_here(actor)  # links keep ?for= while a guardian acts
    category = request.args.get("category") or None
    if category not in activities.categories():
        category = None
    when = "past" if request.args.get("when") == "past" else "upcoming"
    items = activities.list_activities(
        acting, category=category, status=None if when == "past" else "published", when=when
    )[:100]
    # what waits for this organizer's decision, activity by activity (the to-do home's
    # counts): check-outs to approve and check-ins held for review
    waiting = {}
    for root in access.scope_roots(actor, "attendance.approve"):
        for row in activities.attendance_waiting(units.subtree_ids_select(root)):
            waiting[row.activity.id] = row
    return render_template(
        "activities/list.html",
        items=items,
        waiting=waiting,
        acting=acting,
        when=when,
        category=category,
        categories=activities.categories(),
        can_create=bool(access.scope_roots(actor, "activities.manage")),
        organized_roots=[units.get_unit(uid) for uid in access.scope_roots(actor, "members.view")],
    )


@bp.route(ACTIVITY)
@page("activities.view", target=TARGET)
def detail(activity_id: int):
    actor = access.current_actor()
    activity = activities.get_activity(activity_id)
    target = TARGET(activity_id)
    approves = access.may(actor, "attendance.approve", target)
    member = access.acting_for_here(actor)
    signup = activities.get_signup(activity.id, member.id)
    return render_template(
        "activities/detail.html",
        activity=activity,
        refusal=activities.why_cannot_join(activity, member),
        JOIN_REFUSALS=JOIN_REFUSALS,
        manages=access.may(actor, "activities.manage", target),
        approves=approves,
        member=member,
        signed_up=signup is not None and signup.status == "signed_up",
        checkin_open=activities.checkin_open(activity),
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
    member, actor = access.acting_member(), access.current_actor()
    if ActionForm().validate_on_submit():
        if choice == "signup":
            activities.sign_up(activity, member)
            if member.id == actor.id:
                flash(_("You have signed up."), "success")
            else:
                flash(_("%(name)s is signed up.", name=member.name), "success")
        else:
            activities.withdraw(activity, member)
            flash(_("You have withdrawn."), "success")
    ward = {"for": member.id} if member.id != actor.id else {}
    return redirect(url_for("activities.detail", activity_id=activity_id, **ward))


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
            _flash_approval(
                activity, activities.approve_valid_attendance(activity, ids, actor=actor)
            )
    return redirect(url_for("activities.detail", activity_id=activity_id) + "#attendance")


def _flash_approval(activity, outcome) -> None:
    """How many were approved, each one kept back (by name, with why), and each credited
    zero minutes."""
    if outcome.decided:
        flash(_("%(count)s approved and credited.", count=len(outcome.decided)), "success")
    if outcome.refused:
        names = {a.id: a.member.name for a in activities.list_attendance(activity)}
        flash(_("%(count)s could not be approved:", count=len(outcome.refused)), "error")
        for attendance_id, error in outcome.refused:
            who = names.get(attendance_id, f"#{attendance_id}")
            flash(f"{who}: {error.localized()}", "error")
    for attendance in outcome.zero_minutes:
        flash(zero_minutes_note(attendance), "info")


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
        flash(_(CHECKED_IN_NAMES[result.action], name=member.name), "success")
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
    """The page a kiosk code opens: it asks the phone for its location, then submits (with
    ``?for=``, a guardian checks in their ward: the form posts back to this URL)."""
    return render_template(
        "activities/checkin.html",
        token=token[:300],
        form=ActionForm(),
        acting_name=access.acting_member().name,
    )


def _checkin_refused(error, kwargs):
    page_ = render_template(
        "activities/checkin_result.html", error=error.localized(), code=error.code
    )
    return page_, error.status


@bp.route("/checkin/<token>", methods=["POST"])
@page("activities.join", on_error=_checkin_refused)
def checkin_submit(token: str):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("activities.checkin_page", token=token[:300], **_acting()))
    lat, lng = _coordinate(request.form.get("lat"), 90), _coordinate(request.form.get("lng"), 180)
    result = activities.submit_scan(access.acting_member(), token[:300], lat=lat, lng=lng)
    return render_template(
        "activities/checkin_result.html",
        result=result,
        message=RESULT_NAMES[result.action],
        code=result.action,
        minutes=activities.expected_minutes(result.attendance),
        held_because=held_because(result.attendance.review_reason),
        acting_name=result.attendance.member.name,
    )


def _acting() -> dict:
    """``{"for": ward id}`` while a guardian acts for a ward, so a redirect keeps acting."""
    member, actor = access.acting_member(), access.current_actor()
    return {"for": member.id} if member.id != actor.id else {}


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
    result = activities.submit_scan(
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
    """The volunteer's camera page (and a box to type the code); with ``?for=`` a
    guardian checks in their ward, and every link and form of the page keeps acting."""
    return render_template("activities/scan.html", acting_name=access.acting_member().name)


@bp.route("/scan/code", methods=["POST"])
@page("activities.join")
def scan_code():
    code = activities.token_from_scan(request.form.get("code"))
    if not code:
        return redirect(url_for("activities.scan", **_acting()))
    return redirect(url_for("activities.checkin_page", token=code, **_acting()))


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
        name = result.attendance.member.name
        flash(_(CHECKED_IN_NAMES[result.action], name=name), "success")
    return redirect(url_for("activities.badge_scan", activity_id=activity_id))


@bp.route("/me/badge")
@page("me.activities")
def my_badge():
    member = access.acting_member()
    badge = activities.current_badge(member)
    return render_template(
        "activities/badge.html", badge=badge, svg=qr_svg(badge["token"]), member=member
    )


@bp.route("/me/activities")
@page("me.activities")
def mine():
    member = access.acting_member()
    return render_template(
        "activities/mine.html",
        member=member,
        signups=activities.my_signups(member),
        attendance=activities.my_attendance(member),
        balances=ledger.balances(member.id),
        pending=pending_credits(member.id),
        expected_minutes=activities.expected_minutes,
        MY_STATUS_NAMES=MY_STATUS_NAMES,
    )


from timebank.activities import form_views  # noqa: E402,F401 - its pages join this blueprint
