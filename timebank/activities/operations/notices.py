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


def notify_attendances_decided(
    activity: Activity, attendances: list[Attendance], *, now: datetime | None = None
) -> None:
    """Each member hears of the approval (with what was credited) or the rejection; the
    batch is written together (``inbox.notify_many``)."""
    notices = []
    for attendance in attendances:
        params = {"title": activity.title, "day": _day(attendance)}
        if attendance.status == "approved":
            notices.append(inbox.Notice(
                attendance.member, "hours_approved", f"attendance-approved:{attendance.id}",
                {**params, "minutes": attendance.minutes or 0,
                 "earned_points": attendance.points or 0},
                "/me/statement",
            ))  # fmt: skip
        elif attendance.status == "rejected":
            notices.append(inbox.Notice(
                attendance.member, "attendance_rejected", f"attendance-rejected:{attendance.id}",
                {**params, "reason": attendance.reject_reason or ""}, "/me/activities",
            ))  # fmt: skip
    inbox.notify_many(notices, now=now)
