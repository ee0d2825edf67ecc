"""The audit trail (core/audit.py), and what a member may see of it."""

from __future__ import annotations

import functools

import sqlalchemy as sa

from timebank.core.audit import AuditEvent, record_audit
from timebank.extensions import db
from timebank.people.models import Member

__all__ = ["acts_on_behalf_of", "record_audit"]


@functools.lru_cache(maxsize=4)
def _acts_for(limit: int) -> sa.Select:
    """Built once per limit, run with the member (their home page asks on every visit)."""
    return (
        sa.select(AuditEvent)
        .where(AuditEvent.on_behalf_of_id == sa.bindparam("member_id"))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )


def acts_on_behalf_of(member: Member, *, limit: int = 20) -> list[AuditEvent]:
    """What guardians did for ``member``, newest first: shown to the member."""
    return list(db.session.scalars(_acts_for(limit), {"member_id": member.id}))
