"""Hours and points an attendance earns, and closing check-outs nobody scanned."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.activities.models import Activity, Attendance, CheckIn
from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db


def rounding_minutes() -> int:
    return max(1, int(current_app.config.get("TIMEBANK_HOUR_ROUNDING_MINUTES", 15)))


def service_minutes(
    activity: Activity, checked_in_at: datetime, checked_out_at: datetime | None
) -> int:
    """Overlap of [in, out] with the window, rounded down; no check-out: until the end."""
    end = checked_out_at if checked_out_at is not None else activity.ends_at
    start = max(checked_in_at, activity.starts_at)
    end = min(end, activity.ends_at)
    minutes = max(0, int((end - start).total_seconds()) // 60)
    return minutes - minutes % rounding_minutes()


def points_for(activity: Activity, minutes: int) -> int:
    return minutes * activity.points_per_hour // 60 + activity.checkin_bonus


@use_case
def close_missing_checkouts(activity: Activity, *, now: datetime | None = None) -> int:
    """After the window: close every open attendance at the window end, flagged.

    Idempotent; returns how many were closed (0 before the end or without check-out).
    """
    now = now or utcnow()
    if not activity.requires_checkout or now < activity.ends_at:
        return 0
    open_ones = list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.activity_id == activity.id, Attendance.checked_out_at.is_(None))
            .order_by(Attendance.id)
        )
    )
    for attendance in open_ones:
        attendance.checked_out_at = max(activity.ends_at, attendance.checked_in_at)
        attendance.checkout_auto_closed = True
        db.session.add(
            CheckIn(
                attendance_id=attendance.id,
                activity_id=activity.id,
                member_id=attendance.member_id,
                kind="out",
                method="auto",
                scanned_at=attendance.checked_out_at,
                received_at=now,
            )
        )
    db.session.flush()
    return len(open_ones)


def close_all_missing_checkouts(*, now: datetime | None = None, days: int = 7) -> int:
    """The scheduler's job: close missing check-outs of every activity that ended in the
    last ``days`` days. Idempotent; returns how many attendances were closed."""
    now = now or utcnow()
    ended = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.requires_checkout.is_(True),
            Activity.ends_at <= now,
            Activity.ends_at > now - timedelta(days=days),
            Activity.id.in_(
                sa.select(Attendance.activity_id).where(Attendance.checked_out_at.is_(None))
            ),
        )
        .order_by(Activity.id)
    )
    return sum(close_missing_checkouts(activity, now=now) for activity in list(ended))
