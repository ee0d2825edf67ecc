"""/api/v1: activities, sign-up, rotating check-in codes, check-ins, badges, attendance
approval and the party-member view."""

from __future__ import annotations

from timebank.activities import operations as activities
from timebank.activities.models import category_name
from timebank.activities.notes import zero_minutes_note
from timebank.activities.schemas import (
    ActivityListArgs,
    ActivityPageSchema,
    ActivitySchema,
    ActivityUpdateSchema,
    ApprovalSchema,
    AttendanceIdsSchema,
    AttendanceListArgs,
    AttendanceSchema,
    BadgeScanSchema,
    BadgeSchema,
    CancelSchema,
    CategorySchema,
    CheckinRequestSchema,
    CheckinResultSchema,
    CloseCheckoutsSchema,
    ManualCheckinSchema,
    QrSchema,
    RejectAttendanceSchema,
    SignupSchema,
)
from timebank.core import access
from timebank.core.access import requires
from timebank.core.qr import qr_svg
from timebank.core.web import ApiBlueprint, ApiView
from timebank.extensions import db
from timebank.people import operations as people
from timebank.units import operations as units

blp = ApiBlueprint(
    "activities_api", __name__, url_prefix="/api/v1", description="Activities and QR check-in"
)
ACTIVITY = "/activities/<int(max=2147483647):activity_id>"
TARGET = activities.activity_target


@blp.route("/activity-categories")
class Categories(ApiView):
    @requires("activities.view")
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """The category codes this deployment offers, with their names."""
        return [{"code": c, "name": category_name(c)} for c in activities.categories()]


@blp.route("/activities")
class Activities(ApiView):
    @requires("activities.view")
    @blp.arguments(ActivityListArgs, location="query")
    @blp.response(200, ActivityPageSchema)
    def get(self, args):
        """Activities near the caller (their line, their subtree, what they organize),
        soonest first; filter by unit subtree, local dates (``from``, ``to``,
        inclusive), category, kind and status. Any activity may be opened by id."""
        page, per_page = args.pop("page"), args.pop("per_page")
        query = activities.activities_select(access.current_actor(), **args)
        result = db.paginate(query, page=page, per_page=per_page, error_out=False)
        return {"items": result.items, "page": page, "per_page": per_page, "total": result.total}

    @requires("activities.manage")
    @blp.arguments(ActivitySchema)
    @blp.response(201, ActivitySchema)
    def post(self, data):
        """Publish an activity in a unit the caller organizes."""
        actor = access.current_actor()
        access.authorize(actor, "activities.manage", units.unit_target(data["unit_id"]))
        return activities.create_activity(actor=actor, **data)


@blp.route(ACTIVITY)
class ActivityById(ApiView):
    @requires("activities.view", target=TARGET)
    @blp.response(200, ActivitySchema)
    def get(self, activity_id):
        """One activity (any member may open any activity: walk-ins are welcome)."""
        return activities.get_activity(activity_id)

    @requires("activities.manage", target=TARGET)
    @blp.arguments(ActivityUpdateSchema, required=False)
    @blp.response(200, ActivitySchema)
    def patch(self, data, activity_id):
        """Change an activity. Before the first check-in, any field but the unit; after
        it, only title, description, category, capacity and signup_required (409
        ``activity_locked`` otherwise: the window, place and points rule decided how
        attendance counts)."""
        activity = activities.get_activity(activity_id)
        return activities.update_activity(activity, actor=access.current_actor(), **data)


@blp.route(f"{ACTIVITY}/cancel")
class Cancel(ApiView):
    @requires("activities.manage", target=TARGET)
    @blp.arguments(CancelSchema)
    @blp.response(200, ActivitySchema)
    def post(self, data, activity_id):
        """Cancel: nobody new is credited; approved attendance stays credited."""
        activity = activities.get_activity(activity_id)
        actor = access.current_actor()
        return activities.cancel_activity(activity, actor=actor, reason=data["reason"])


@blp.route(f"{ACTIVITY}/signup")
class SignupResource(ApiView):
    @requires("activities.join", target=TARGET)
    @blp.response(200, SignupSchema)
    def post(self, activity_id):
        """Take a place (idempotent); 409 ``activity_full`` when none is left."""
        activity = activities.get_activity(activity_id)
        return activities.sign_up(activity, access.acting_member())


@blp.route(f"{ACTIVITY}/withdraw")
class Withdraw(ApiView):
    @requires("activities.join", target=TARGET)
    @blp.response(200, SignupSchema)
    def post(self, activity_id):
        """Give the place back (idempotent)."""
        activity = activities.get_activity(activity_id)
        return activities.withdraw(activity, access.acting_member())


@blp.route(f"{ACTIVITY}/qr")
class Qr(ApiView):
    @requires("activities.manage", target=TARGET)
    @blp.response(200, QrSchema)
    def get(self, activity_id):
        """The kiosk's current code (organizers): token, URL, short code, SVG, seconds
        until it rotates, and the live check-in counts. 409 for a cancelled activity."""
        return activities.kiosk_state(activities.get_activity(activity_id))


@blp.route("/checkins")
class Checkins(ApiView):
    @requires("activities.join")
    @blp.arguments(CheckinRequestSchema)
    @blp.response(201, CheckinResultSchema)
    @blp.alt_response(200, schema=CheckinResultSchema, description="a replay: already checked in")
    def post(self, data):
        """Submit a scanned kiosk code: the first scan checks in, a later one checks out.

        201 when something was recorded; 200 with ``already: true`` and ``code:
        already_checked_in`` for a replay (same code again, a re-upload with the same
        nonce, or a scan after check-out). Rejections are problem+json with their code:
        ``token_invalid``, ``token_expired``, ``token_wrong_activity``, ``outside_window``,
        ``not_signed_up``, ``activity_cancelled``, ``not_party_member``.
        """
        result = activities.submit_scan(
            access.acting_member(),
            data["token"],
            lat=data["lat"],
            lng=data["lng"],
            scanned_at=data["scanned_at"],
            nonce=data["nonce"],
            expected_activity_id=data["activity_id"],
        )
        return result, 200 if result.already else 201


@blp.route(f"{ACTIVITY}/badge-scans")
class BadgeScans(ApiView):
    @requires("activities.manage", target=TARGET)
    @blp.arguments(BadgeScanSchema)
    @blp.response(201, CheckinResultSchema)
    @blp.alt_response(200, schema=CheckinResultSchema, description="a replay")
    def post(self, data, activity_id):
        """Organizer staff scanned a member's badge code: check in (or out) that member."""
        activity = activities.get_activity(activity_id)
        result = activities.scan_badge(activity, data["code"], actor=access.current_actor())
        return result, 200 if result.already else 201


@blp.route(f"{ACTIVITY}/manual-checkins")
class ManualCheckins(ApiView):
    @requires("activities.manage", target=TARGET)
    @blp.arguments(ManualCheckinSchema)
    @blp.response(201, CheckinResultSchema)
    @blp.alt_response(200, schema=CheckinResultSchema, description="a replay")
    def post(self, data, activity_id):
        """Check in (or out) a member without a smartphone; recorded as manual."""
        activity = activities.get_activity(activity_id)
        member = people.get_member(data["member_id"])
        result = activities.manual_check_in(activity, member, actor=access.current_actor())
        return result, 200 if result.already else 201


@blp.route(f"{ACTIVITY}/attendance")
class AttendanceList(ApiView):
    @requires("attendance.approve", target=TARGET)
    @blp.arguments(AttendanceListArgs, location="query")
    @blp.response(200, AttendanceSchema(many=True))
    def get(self, args, activity_id):
        """Attendance of an activity (organizers); ``status=review`` is the review queue."""
        activity = activities.get_activity(activity_id)
        return activities.list_attendance(activity, status=args.get("status"))


@blp.route(f"{ACTIVITY}/attendance/approve")
class Approve(ApiView):
    @requires("attendance.approve", target=TARGET)
    @blp.arguments(AttendanceIdsSchema)
    @blp.response(200, ApprovalSchema)
    def post(self, data, activity_id):
        """Approve attendances (up to 200): the valid ones are approved and credited (HOURS
        and POINTS, key ``attendance:<id>``; approving again credits nothing more); each
        other one comes back in ``refused`` with its code (``four_eyes``,
        ``checkout_missing``, ``attendance_rejected``, ``activity_not_over``,
        ``attendance_not_found``); ``warnings`` names those credited zero minutes."""
        activity = activities.get_activity(activity_id)
        outcome = activities.approve_valid_attendance(
            activity, data["ids"], actor=access.current_actor()
        )
        return {
            "decided": outcome.decided,
            "refused": [
                {"id": i, "code": error.code, "detail": error.localized()}
                for i, error in outcome.refused
            ],
            "warnings": [
                {"id": a.id, "code": "zero_minutes", "detail": zero_minutes_note(a)}
                for a in outcome.zero_minutes
            ],
        }


@blp.route(f"{ACTIVITY}/attendance/reject")
class RejectAttendance(ApiView):
    @requires("attendance.approve", target=TARGET)
    @blp.arguments(RejectAttendanceSchema)
    @blp.response(200, AttendanceSchema(many=True))
    def post(self, data, activity_id):
        """Reject attendances with a reason; nothing is credited."""
        activity = activities.get_activity(activity_id)
        return activities.reject_attendance(
            activity, data["ids"], actor=access.current_actor(), reason=data["reason"]
        )


@blp.route(f"{ACTIVITY}/close-checkouts")
class CloseCheckouts(ApiView):
    @requires("attendance.approve", target=TARGET)
    @blp.response(200, CloseCheckoutsSchema)
    def post(self, activity_id):
        """Close missing check-outs at the window end (after it), flagged as auto-closed."""
        closed = activities.close_missing_checkouts(activities.get_activity(activity_id))
        return {"closed": closed}


@blp.route("/me/badge")
class MyBadge(ApiView):
    @requires("me.activities")
    @blp.response(200, BadgeSchema)
    def get(self):
        """The caller's personal code for staff to scan; it rotates every 30 seconds."""
        badge = activities.current_badge(access.acting_member())
        return {**badge, "svg": qr_svg(badge["token"])}


@blp.route("/me/attendance")
class MyAttendance(ApiView):
    @requires("me.activities")
    @blp.response(200, AttendanceSchema(many=True))
    def get(self):
        """The caller's attendance, newest first (at most 100)."""
        return activities.my_attendance(access.acting_member())
