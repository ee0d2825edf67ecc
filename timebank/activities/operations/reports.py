"""What a member's own pages show: their attendance and sign-ups. (The party members'
dual-report quarter is counted by timebank/reports, which reads activities.)"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from timebank.activities.models import Activity, Attendance, Signup
from timebank.activities.operations.hours import service_minutes
from timebank.activities.words import held_because
from timebank.core.clock import utcnow
from timebank.core.pending import PendingCredit
from timebank.extensions import db
from timebank.people.models import Member


def my_attendance(member: Member, *, limit: int = 100) -> list[Attendance]:
    return list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.member_id == member.id)
            .options(selectinload(Attendance.activity))
            .order_by(Attendance.checked_in_at.desc())
            .limit(limit)
        )
    )


def expected_minutes(attendance: Attendance) -> int | None:
    """The minutes an attendance credits: as approved, or as an approval now would (the
    same rule, ``service_minutes``); None while still checked in, or once rejected."""
    if attendance.status == "approved":
        return attendance.minutes
    activity = attendance.activity
    if attendance.status == "rejected" or (
        activity.requires_checkout and attendance.checked_out_at is None
    ):
        return None
    return service_minutes(activity, attendance.checked_in_at, attendance.checked_out_at)


#: built once, run with the member (the volunteer's home asks on every visit)
_WAITING = (
    sa.select(Attendance)
    .where(
        Attendance.member_id == sa.bindparam("member_id"),
        Attendance.status.in_(("pending", "review")),
    )
    .options(joinedload(Attendance.activity))  # many-to-one: in the same statement
    .order_by(Attendance.checked_in_at.desc())
    .limit(100)
)


def pending_attendance(member_id: int) -> list[PendingCredit]:
    """The member's attendance that waits for an organizer (core.pending's source)."""
    waiting = db.session.scalars(_WAITING, {"member_id": member_id})
    return [
        PendingCredit(
            kind="attendance",
            what=attendance.activity.title,
            served=attendance.checked_in_at,
            minutes=expected_minutes(attendance),
            held_because=held_because(attendance.review_reason)
            if attendance.status == "review"
            else (),
        )
        for attendance in waiting
    ]


def my_signups(member: Member, *, now: datetime | None = None) -> list[Activity]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Activity)
            .join(Signup, Signup.activity_id == Activity.id)
            .where(
                Signup.member_id == member.id,
                Signup.status == "signed_up",
                Activity.ends_at >= now,
            )
            .order_by(Activity.starts_at)
        )
    )
