"""Factory functions for activities (kept apart from factories.py, which other modules grow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import factories
from timebank.activities import operations as activities

#: a fixed clock: 2026-03-14 09:00:00 UTC, exactly on a 30-second step boundary
T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
assert T0.timestamp() % 30 == 0


def create_activity(unit, *, organizer=None, starts_at=None, hours: float = 2, **kwargs):
    """A published activity in ``unit`` from ``starts_at`` (default T0) for ``hours``."""
    organizer = organizer or factories.create_member(unit, roles=("organizer",))
    starts_at = starts_at or T0
    fields = {"title": "周六环境整治", "category": "cleanup"}
    fields.update(kwargs)
    return activities.create_activity(
        actor=organizer,
        unit_id=unit.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        **fields,
    )


def earn(member, unit, organizer, *, title, minutes, points, at):
    """An approved attendance at ``at`` (UTC), credited through the ledger."""
    from timebank.activities.models import Attendance
    from timebank.extensions import db
    from timebank.ledger import operations as ledger

    activity = create_activity(unit, organizer=organizer, title=title, starts_at=at)
    db.session.flush()
    attendance = Attendance(
        activity_id=activity.id, member_id=member.id, checked_in_at=at, checked_out_at=at,
        status="approved", minutes=minutes, points=points, decided_by_id=organizer.id,
    )  # fmt: skip
    db.session.add(attendance)
    db.session.flush()
    ledger.credit_from_evidence(
        member_id=member.id, member_unit_id=member.home_unit_id, unit_id=unit.id,
        minutes=minutes, points=points, code="earn_checkin", reference_type="attendance",
        reference_id=str(attendance.id), idempotency_key=f"attendance:{attendance.id}",
        actor_id=organizer.id,
    )  # fmt: skip
    return activity


def check_in(member, activity, *, at, status="pending"):
    """An attendance waiting for the organizer (checked in at ``at``, UTC)."""
    from timebank.activities.models import Attendance
    from timebank.extensions import db

    attendance = Attendance(
        activity_id=activity.id, member_id=member.id, checked_in_at=at, status=status
    )
    db.session.add(attendance)
    db.session.flush()
    return attendance
