"""Leases: a named row with a holder and an expiry, on SQLite and PostgreSQL alike.

The scheduler's leader holds the lease ``scheduler`` and renews it well before it expires;
a standby takes it only after it expired. Every job's transaction starts with ``fence``,
which renews the lease only if this process still holds it (and, on PostgreSQL, locks the
row until the job commits), so a job whose process lost the lease commits nothing.
Times come from the caller (the process's clock, UTC): tests inject them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from timebank.core.db import UTCDateTime
from timebank.extensions import db
from timebank.scheduling.errors import LeaseLost
from timebank.scheduling.models import Lease

#: the scheduler's leadership
LEADER = "scheduler"


def claim_lease(name: str, holder: str, *, now: datetime, seconds: float) -> bool:
    """Take the lease if it is free or expired, or renew it if ``holder`` has it.

    Returns True when ``holder`` holds it until ``now + seconds``, False when another
    process holds it.
    """
    until = now + timedelta(seconds=seconds)
    updated = db.session.execute(
        sa.update(Lease)
        .where(Lease.name == name, sa.or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(
            acquired_at=sa.case(
                (Lease.holder == holder, Lease.acquired_at),
                else_=sa.literal(now, UTCDateTime()),
            ),
            holder=holder,
            renewed_at=now,
            expires_at=until,
        )
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount == 1:
        return True
    if db.session.get(Lease, name) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                Lease(name=name, holder=holder, acquired_at=now, renewed_at=now, expires_at=until)
            )
    except IntegrityError:
        return False  # another process created it first
    return True


def fence(name: str, holder: str, *, now: datetime, seconds: float) -> None:
    """Renew the lease inside the caller's transaction, or raise LeaseLost.

    On PostgreSQL the row stays locked until that transaction ends, so nobody takes the
    lease while a job commits; SQLite's BEGIN IMMEDIATE already keeps everyone out.
    """
    updated = db.session.execute(
        sa.update(Lease)
        .where(Lease.name == name, Lease.holder == holder, Lease.expires_at > now)
        .values(renewed_at=now, expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:
        raise LeaseLost("This process no longer holds the %(name)s lease.", params={"name": name})


def release_lease(name: str, holder: str, *, now: datetime) -> None:
    """Give the lease up at once (a clean shutdown), if ``holder`` still has it."""
    db.session.execute(
        sa.update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def current_lease(name: str = LEADER) -> Lease | None:
    """The lease row (holder and expiry), or None if nobody ever held it."""
    return db.session.scalar(
        sa.select(Lease).where(Lease.name == name).execution_options(populate_existing=True)
    )


def leader_renewed_at(connection: sa.Connection | None = None) -> datetime | None:
    """When the scheduler's leader last renewed its lease (``/readyz`` asks, on a
    connection of its own), or None."""
    reader = connection if connection is not None else db.session
    return reader.scalar(sa.select(Lease.renewed_at).where(Lease.name == LEADER))
