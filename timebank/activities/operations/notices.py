"""What a volunteer hears of a decision on their attendance: the hours credited, or not
approved and why. Written once per attendance (its key), in the member's language, to the
inbox and through their channels after the commit."""

from __future__ import annotations

from datetime import datetime

from timebank.activities.models import Activity, Attendance
from timebank.activities.operations.lookups import local_zone
from timebank.inbox import operations as inbox


def _day(attendance: Attendance) -> str:
    return attendance.checked_in_at.astimezone(local_zone()).strftime("%Y-%m-%d")


def notify_attendance_decided(
    activity: Activity, attendance: Attendance, *, now: datetime | None = None
) -> None:
    """The member hears of the approval (with what was credited) or the rejection."""
    params = {"title": activity.title, "day": _day(attendance)}
    if attendance.status == "approved":
        inbox.notify(
            attendance.member, "hours_approved", key=f"attendance-approved:{attendance.id}",
            params={**params, "minutes": attendance.minutes or 0,
                    "earned_points": attendance.points or 0},
            link="/me/statement", now=now,
        )  # fmt: skip
    elif attendance.status == "rejected":
        inbox.notify(
            attendance.member, "attendance_rejected", key=f"attendance-rejected:{attendance.id}",
            params={**params, "reason": attendance.reject_reason or ""},
            link="/me/activities", now=now,
        )  # fmt: skip
