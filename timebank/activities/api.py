"""/api/v1: activities, sign-up, rotating check-in codes, check-ins, badges, attendance
approval, the party-member view, and /ping-db (the benchmark's ceiling)."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from timebank.activities import operations as activities
from timebank.activities.errors import ActivityCancelled
from timebank.activities.models import category_name
from timebank.activities.schemas import (
    ActivityListArgs,
    ActivityPageSchema,
    ActivitySchema,
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
    PartyRowSchema,
    QrSchema,
    RejectAttendanceSchema,
    SignupSchema,
)
from timebank.core.qr import qr_svg
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.auth import acting_member, calling_member
from timebank.people.models import Member
from timebank.units import operations as units

blp = Blueprint(
    "activities_api", __name__, url_prefix="/api/v1", description="Activities and QR check-in"
)
ACTIVITY = "/activities/<int(max=2147483647):activity_id>"


def _managed_activity(activity_id: int, action: str = "activities.manage"):
    actor = calling_member()
    activity = activities.get_activity(activity_id)
    people.authorize(actor, action, activity.unit_id)
    return actor, activity


@blp.route("/activity-categories")
class Categories(MethodView):
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """The category codes this deployment offers, with their names."""
        calling_member()
        return [{"code": c, "name": category_name(c)} for c in activities.categories()]


@blp.route("/activities")
class Activities(MethodView):
    @blp.arguments(ActivityListArgs, location="query")
    @blp.response(200, ActivityPageSchema)
    def get(self, args):
        """Activities the caller may see, soonest first; filter by unit subtree, local
        dates (``from``, ``to``, inclusive), category, kind and status."""
        member, _guardian = acting_member()
        page, per_page = args.pop("page"), args.pop("per_page")
        query = activities.activities_select(member, **args)
        result = db.paginate(query, page=page, per_page=per_page, error_out=False)
        return {"items": result.items, "page": page, "per_page": per_page, "total": result.total}

    @blp.arguments(ActivitySchema)
    @blp.response(201, ActivitySchema)
    def post(self, data):
        """Publish an activity in a unit the caller organizes."""
        actor = calling_member()
        activity = activities.create_activity(actor=actor, **data)
        db.session.commit()
        return activity


@blp.route(ACTIVITY)
class ActivityById(MethodView):
    @blp.response(200, ActivitySchema)
    def get(self, activity_id):
        """One activity the caller may see."""
        member, _guardian = acting_member()
        activity = activities.get_activity(activity_id)
        activities.check_view(member, activity)
        return activity


@blp.route(f"{ACTIVITY}/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, ActivitySchema)
    def post(self, data, activity_id):
        """Cancel: nobody new is credited; approved attendance stays credited."""
        actor, activity = _managed_activity(activity_id)
        activities.cancel_activity(activity, actor=actor, reason=data["reason"])
        db.session.commit()
        return activity


@blp.route(f"{ACTIVITY}/signup")
class SignupResource(MethodView):
    @blp.response(200, SignupSchema)
    def post(self, activity_id):
        """Take a place (idempotent); 409 ``activity_full`` when none is left."""
        member, _guardian = acting_member()
        signup = activities.sign_up(activities.get_activity(activity_id), member)
        db.session.commit()
        return signup


@blp.route(f"{ACTIVITY}/withdraw")
class Withdraw(MethodView):
    @blp.response(200, SignupSchema)
    def post(self, activity_id):
        """Give the place back (idempotent)."""
        member, _guardian = acting_member()
        signup = activities.withdraw(activities.get_activity(activity_id), member)
        db.session.commit()
        return signup


@blp.route(f"{ACTIVITY}/qr")
class Qr(MethodView):
    @blp.response(200, QrSchema)
    def get(self, activity_id):
        """The kiosk's current code (organizers): token, URL, short code, SVG, seconds
        until it rotates, and the live check-in counts."""
        _actor, activity = _managed_activity(activity_id)
        if activity.status != "published":
            raise ActivityCancelled("The activity was cancelled.")
        code = activities.current_code(activity)
        return {
            **code,
            "svg": qr_svg(code["url"]),
            **activities.attendance_counts(activity.id),
        }


@blp.route("/checkins")
class Checkins(MethodView):
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
        member, _guardian = acting_member()
        result = activities.check_in(
            member,
            data["token"],
            lat=data["lat"],
            lng=data["lng"],
            scanned_at=data["scanned_at"],
            nonce=data["nonce"],
            expected_activity_id=data["activity_id"],
        )
        db.session.commit()
        return result, 200 if result.already else 201


@blp.route(f"{ACTIVITY}/badge-scans")
class BadgeScans(MethodView):
    @blp.arguments(BadgeScanSchema)
    @blp.response(201, CheckinResultSchema)
    @blp.alt_response(200, schema=CheckinResultSchema, description="a replay")
    def post(self, data, activity_id):
        """Organizer staff scanned a member's badge code: check in (or out) that member."""
        actor, activity = _managed_activity(activity_id)
        result = activities.scan_badge(activity, data["code"], actor=actor)
        db.session.commit()
        return result, 200 if result.already else 201


@blp.route(f"{ACTIVITY}/manual-checkins")
class ManualCheckins(MethodView):
    @blp.arguments(ManualCheckinSchema)
    @blp.response(201, CheckinResultSchema)
    @blp.alt_response(200, schema=CheckinResultSchema, description="a replay")
    def post(self, data, activity_id):
        """Check in (or out) by name a member without a smartphone; recorded as manual."""
        actor, activity = _managed_activity(activity_id)
        member = people.get_member(data["member_id"])
        result = activities.manual_check_in(activity, member, actor=actor)
        db.session.commit()
        return result, 200 if result.already else 201


@blp.route(f"{ACTIVITY}/attendance")
class AttendanceList(MethodView):
    @blp.arguments(AttendanceListArgs, location="query")
    @blp.response(200, AttendanceSchema(many=True))
    def get(self, args, activity_id):
        """Attendance of an activity (organizers); ``status=review`` is the review queue."""
        _actor, activity = _managed_activity(activity_id, "attendance.approve")
        return activities.list_attendance(activity, status=args.get("status"))


@blp.route(f"{ACTIVITY}/attendance/approve")
class Approve(MethodView):
    @blp.arguments(AttendanceIdsSchema)
    @blp.response(200, AttendanceSchema(many=True))
    def post(self, data, activity_id):
        """Approve attendances (up to 200, all or none): posts HOURS and POINTS with key
        ``attendance:<id>``; approving again credits nothing more."""
        actor, activity = _managed_activity(activity_id, "attendance.approve")
        rows = activities.approve_attendance(activity, data["ids"], actor=actor)
        db.session.commit()
        return rows


@blp.route(f"{ACTIVITY}/attendance/reject")
class RejectAttendance(MethodView):
    @blp.arguments(RejectAttendanceSchema)
    @blp.response(200, AttendanceSchema(many=True))
    def post(self, data, activity_id):
        """Reject attendances with a reason; nothing is credited."""
        actor, activity = _managed_activity(activity_id, "attendance.approve")
        rows = activities.reject_attendance(
            activity, data["ids"], actor=actor, reason=data["reason"]
        )
        db.session.commit()
        return rows


@blp.route(f"{ACTIVITY}/close-checkouts")
class CloseCheckouts(MethodView):
    @blp.response(200, CloseCheckoutsSchema)
    def post(self, activity_id):
        """Close missing check-outs at the window end (after it), flagged as auto-closed."""
        _actor, activity = _managed_activity(activity_id, "attendance.approve")
        closed = activities.close_missing_checkouts(activity)
        db.session.commit()
        return {"closed": closed}


@blp.route("/me/badge")
class MyBadge(MethodView):
    @blp.response(200, BadgeSchema)
    def get(self):
        """The caller's personal code for staff to scan; it rotates every 30 seconds."""
        member, _guardian = acting_member()
        badge = activities.current_badge(member)
        return {**badge, "svg": qr_svg(badge["token"])}


@blp.route("/me/attendance")
class MyAttendance(MethodView):
    @blp.response(200, AttendanceSchema(many=True))
    def get(self):
        """The caller's attendance, newest first (at most 100)."""
        member, _guardian = acting_member()
        return activities.my_attendance(member)


@blp.route("/units/<int(max=2147483647):unit_id>/party-attendance")
class PartyAttendance(MethodView):
    @blp.response(200, PartyRowSchema(many=True))
    def get(self, unit_id):
        """Per party member of the subtree: reported in (双报到), party activities attended
        and approved service minutes this quarter (organizers)."""
        actor = calling_member()
        units.get_unit(unit_id)
        return activities.party_report(unit_id, actor=actor)


@blp.route("/ping-db")
class PingDb(MethodView):
    @blp.response(200)
    def get(self):
        """One indexed read (the caller's member row) and a small JSON body: the
        framework-plus-database ceiling the check-in benchmark compares against."""
        member = calling_member()
        name = db.session.scalar(sa.select(Member.name).where(Member.id == member.id))
        db.session.commit()
        return {"ok": True, "member_id": member.id, "name": name}
