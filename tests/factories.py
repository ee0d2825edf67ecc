"""Factory functions: each makes one thing through the operations layer and flushes."""

from __future__ import annotations

import itertools

from timebank.extensions import db
from timebank.people import operations as people
from timebank.units import operations as units

_phones = itertools.count(13_700_000_000)
_names = itertools.count(1)
PASSWORD = "correct-horse-1"


def next_phone() -> str:
    return str(next(_phones))


def create_unit(name: str | None = None, kind: str | None = None, parent=None):
    """A unit under ``parent``; its kind by default fits there (a street at the top)."""
    if kind is None:
        kind = {None: "street", "street": "community", "community": "grid"}.get(
            parent.kind if parent else None, "building"
        )
    unit = units.create_unit(
        name=name or f"单元{next(_names)}", kind=kind, parent_id=parent.id if parent else None
    )
    return unit


def create_member(
    unit,
    *,
    roles: tuple[str, ...] = ("volunteer",),
    name: str | None = None,
    phone: str | None = None,
    password: str | None = PASSWORD,
    status: str = "active",
    role_unit=None,
    has_smartphone: bool = True,
):
    member = people.create_member(
        phone=phone or next_phone(),
        name=name or f"志愿者{next(_names)}",
        home_unit_id=unit.id,
        password=password,
        status=status,
        has_smartphone=has_smartphone,
        roles=[(role, (role_unit or unit).id) for role in roles],
    )
    return member


def create_district():
    """street > two communities > a grid each > a building each; returns a dict."""
    street = create_unit("西柳沟街道", "street")
    a = create_unit("上坎社区", "community", street)
    b = create_unit("古浪路社区", "community", street)
    grid_a = create_unit("第1网格", "grid", a)
    grid_b = create_unit("第1网格", "grid", b)
    building_a = create_unit("101号楼", "building", grid_a)
    building_b = create_unit("201号楼", "building", grid_b)
    db.session.flush()
    return {
        "street": street,
        "a": a,
        "b": b,
        "grid_a": grid_a,
        "grid_b": grid_b,
        "building_a": building_a,
        "building_b": building_b,
    }


def job_run_an_hour_ago(name: str, *, outcome: str, counts=None, error=None):
    """A run of the job ``name`` by a scheduler, begun an hour ago and done in a second."""
    from datetime import timedelta

    from timebank.core.clock import utcnow
    from timebank.scheduling import operations as scheduling

    started = utcnow() - timedelta(hours=1)
    return scheduling.record_run(
        name, runner="scheduler@host:1:ab", trigger="schedule", as_of=started,
        started_at=started, finished_at=started + timedelta(seconds=1), outcome=outcome,
        counts=counts or {}, error=error, period=None,
    )  # fmt: skip
