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
