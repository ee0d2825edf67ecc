from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.core.rules import Bounds
from timebank.extensions import db
from timebank.people.models import Member
from timebank.units.models import Unit

ACTIVITY_KINDS = ("service", "party")
CHECKIN_MODES = ("kiosk", "badge")
ACTIVITY_STATUSES = ("published", "cancelled")
SIGNUP_STATUSES = ("signed_up", "withdrawn")
ATTENDANCE_STATUSES = ("pending", "review", "approved", "rejected")
CHECKIN_KINDS = ("in", "out")
#: kiosk (volunteer scanned the screen), badge (staff scanned the volunteer), manual
#: (an organizer checked in someone without a smartphone), auto (closed at window end)
CHECKIN_METHODS = ("kiosk", "badge", "manual", "auto")

#: limits of an activity, the same for the API schema, the page form and create_activity
RADIUS_M = Bounds(1, 50_000)
CAPACITY = Bounds(1, 100_000)
POINTS = Bounds(0, 100_000)
LATITUDE = Bounds(-90, 90)
LONGITUDE = Bounds(-180, 180)
TITLE_MAX = 120
DESCRIPTION_MAX = 5000
ADDRESS_MAX = 200
#: the longest window an activity may have
MAX_DURATION = timedelta(days=7)

#: Display names of the default categories (the 爱心+ services); a deployment may
#: configure other codes, shown as they are.
CATEGORY_NAMES = {
    "patrol": _l("Patrol"),
    "mediation": _l("Mediation"),
    "free_clinic": _l("Free clinic"),
    "free_haircut": _l("Free haircut"),
    "errands": _l("Errands"),
    "elderly_meals": _l("Meals for the elderly"),
    "counselling": _l("Counselling"),
    "after_school": _l("After-school 4:30 class"),
    "cleanup": _l("Neighbourhood clean-up"),
    "party_day": _l("Theme party day"),
    "party_lesson": _l("Party lesson"),
    "other": _l("Other"),
}


def category_name(code: str) -> str:
    return str(CATEGORY_NAMES.get(code, code))


class Activity(db.Model):
    """A service or party activity with a time window, optional place and points rule."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="window_positive"),
        sa.CheckConstraint("kind IN ('service', 'party')", name="kind_known"),
        sa.CheckConstraint("checkin_mode IN ('kiosk', 'badge')", name="mode_known"),
        sa.CheckConstraint("status IN ('published', 'cancelled')", name="status_known"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("points_per_hour >= 0 AND checkin_bonus >= 0", name="points_known"),
        sa.CheckConstraint("radius_m IS NULL OR radius_m > 0", name="radius_positive"),
        sa.Index("ix_activities_unit_starts", "unit_id", "starts_at"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the unit that runs it; its organizers manage it
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: e.g. 周六环境整治
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: free text for volunteers: what to bring, where to meet
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: a category code from TIMEBANK_ACTIVITY_CATEGORIES, e.g. cleanup, free_haircut
    category: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: service (volunteer service) or party (party-member activity)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="service")
    #: start of the window (UTC)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, nullable=False)
    #: end of the window (UTC); hours count only inside the window
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: where to meet, in words (上坎社区活动室，幸福路12号); "" names the unit instead
    address: Mapped[str] = mapped_column(
        sa.String(ADDRESS_MAX), nullable=False, default="", server_default=""
    )
    #: latitude of the place (WGS-84), when the activity has one
    lat: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: longitude of the place
    lng: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: scans farther than this from the place go to review
    radius_m: Mapped[int | None] = mapped_column(nullable=True)
    #: places; NULL for no limit
    capacity: Mapped[int | None] = mapped_column(nullable=True)
    #: True: only members who signed up may check in
    signup_required: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: points per full hour of service (rounded minutes * rate // 60)
    points_per_hour: Mapped[int] = mapped_column(nullable=False, default=0)
    #: fixed points for attending
    checkin_bonus: Mapped[int] = mapped_column(nullable=False, default=0)
    #: kiosk (rotating code on a screen) or badge (staff scan the volunteer's code)
    checkin_mode: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="kiosk")
    #: True: a second scan checks out; False: attendance runs to the window end
    requires_checkout: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: published or cancelled
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="published")
    #: why it was cancelled
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: when it was cancelled
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the organizer who created it
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was created
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    unit: Mapped[Unit] = relationship()

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lng is not None and self.radius_m is not None

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.title!r} {self.starts_at:%Y-%m-%d %H:%M} {self.status}>"


class Signup(db.Model):
    """A member's place on an activity; withdrawing keeps the row for the record."""

    __tablename__ = "activity_signups"
    __table_args__ = (
        sa.UniqueConstraint("activity_id", "member_id"),
        sa.CheckConstraint("status IN ('signed_up', 'withdrawn')", name="status_known"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the activity
    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activities.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: the member
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: signed_up or withdrawn
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="signed_up")
    #: when the member (last) signed up
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when the member withdrew, if they did
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<Signup {self.activity_id}/{self.member_id} {self.status}>"


class Attendance(db.Model):
    """A member's attendance at an activity: the check-in and check-out, hours, decision."""

    __tablename__ = "attendances"
    __table_args__ = (
        sa.UniqueConstraint("activity_id", "member_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'review', 'approved', 'rejected')", name="status_known"
        ),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="out_after_in"
        ),
        sa.Index("ix_attendances_activity_status", "activity_id", "status"),
    )

    #: primary key; the ledger's reference_id for the credit
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the activity
    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activities.id", ondelete="RESTRICT"), nullable=False
    )
    #: the member who attended
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: pending, review (a risk signal: see review_reason), approved or rejected
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="pending")
    #: the proven check-in time (the scan time, for offline scans)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: the proven check-out time; NULL until checked out
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: True when the check-out was closed at the window end, not scanned
    checkout_auto_closed: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: True when an organizer checked the member in by name (no phone, no scan)
    manual: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: why it is held for review: no_location, outside_radius (comma-separated)
    review_reason: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    #: minutes credited on approval (overlap with the window, rounded down)
    minutes: Mapped[int | None] = mapped_column(nullable=True)
    #: points credited on approval
    points: Mapped[int | None] = mapped_column(nullable=True)
    #: who approved or rejected
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was approved or rejected
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: why it was rejected
    reject_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: when the row was created (server clock)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    activity: Mapped[Activity] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<Attendance {self.id} {self.activity_id}/{self.member_id} {self.status}>"


class CheckIn(db.Model):
    """One scan, the evidence behind an attendance: one ``in`` and one ``out`` at most."""

    __tablename__ = "checkins"
    __table_args__ = (
        sa.UniqueConstraint("activity_id", "member_id", "kind"),
        sa.UniqueConstraint("member_id", "nonce"),
        sa.CheckConstraint("kind IN ('in', 'out')", name="kind_known"),
        sa.CheckConstraint("method IN ('kiosk', 'badge', 'manual', 'auto')", name="method_known"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the attendance it proves
    attendance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attendances.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the activity (repeated for the unique constraint)
    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activities.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the member (repeated for the unique constraints)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    #: in or out
    kind: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    #: kiosk, badge, manual or auto
    method: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: the proven scan time: the server clock, or the phone's offline scanned_at
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: when the server received it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: the 30-second step of the kiosk or badge code; NULL for manual and auto
    token_step: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    #: the phone's latitude, if it sent one
    lat: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: the phone's longitude
    lng: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: metres from the activity's place, when both are known
    distance_m: Mapped[int | None] = mapped_column(nullable=True)
    #: the client's random id for this scan; a re-upload with it changes nothing
    nonce: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    #: the staff member who scanned a badge or checked in by name
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )

    attendance: Mapped[Attendance] = relationship()

    def __repr__(self) -> str:
        return f"<CheckIn {self.id} {self.kind} {self.method} {self.activity_id}/{self.member_id}>"
