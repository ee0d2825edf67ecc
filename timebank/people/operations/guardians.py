"""Guardians: a family member or grid worker who acts for a member without a smartphone,
and is recorded beside them on what they do.

A guardianship is asked for, then confirmed: by the member when they have a phone, else
by a second organizer (neither the one who asked nor the guardian). Only a confirmed one
lets the guardian act, so nobody appoints themselves and moves a resident's hours.
"""

from __future__ import annotations

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.core.errors import FourEyes, InvalidInput
from timebank.core.privacy import shown_name
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.errors import (
    GuardianExists,
    GuardianNotPending,
    GuardianSelf,
    GuardianshipNotFound,
    NotGuardian,
)
from timebank.people.models import Guardianship, Member
from timebank.people.operations.audit import record_audit
from timebank.people.operations.members import get_member


@use_case
def add_guardian(
    member: Member, guardian: Member, *, relation: str, actor: Member | None
) -> Guardianship:
    """Ask that ``guardian`` may act for ``member``: pending until confirmed.

    With no actor (the system: the demo, an import) it is active at once. Raises
    GuardianSelf for oneself, InvalidInput without a relation, GuardianExists if asked
    already.
    """
    if member.id == guardian.id:
        raise GuardianSelf("A member cannot be their own guardian.")
    relation = (relation or "").strip()
    if not relation:
        raise InvalidInput("Say how the guardian is related.", errors={"relation": ["Required."]})
    if _guardianship(member.id, guardian.id) is not None:
        raise GuardianExists(
            "%(guardian)s already acts for %(member)s.",
            params={"guardian": guardian.name, "member": member.name},
        )
    row = Guardianship(
        member_id=member.id,
        guardian_id=guardian.id,
        relation=relation,
        status="pending" if actor is not None else "active",
        requested_by_id=actor.id if actor else None,
    )
    db.session.add(row)
    db.session.flush()
    record_audit("guardian.request", actor=actor, subject=member, detail=f"guardian={guardian.id}")
    return row


def _guardianship(member_id: int, guardian_id: int) -> Guardianship | None:
    return db.session.scalar(
        sa.select(Guardianship).where(
            Guardianship.member_id == member_id, Guardianship.guardian_id == guardian_id
        )
    )


def get_guardianship(member_id: int, guardian_id: int) -> Guardianship:
    """The guardianship of ``guardian_id`` for ``member_id``; GuardianshipNotFound if none."""
    row = _guardianship(member_id, guardian_id)
    if row is None:
        raise GuardianshipNotFound(
            "Member %(guardian)s is not asked to act for member %(member)s.",
            params={"guardian": guardian_id, "member": member_id},
        )
    return row


@use_case
def decide_guardianship(row: Guardianship, *, confirm: bool, actor: Member) -> Guardianship:
    """Confirm (or decline) a pending guardianship.

    The member decides for themself; for a member without a phone a second organizer
    does, never the one who asked nor the guardian (the edge has checked the organizer's
    scope). Raises GuardianNotPending once decided, FourEyes otherwise.
    """
    if row.status != "pending":
        raise GuardianNotPending(
            "This guardianship was already %(status)s.", params={"status": row.status}
        )
    member = get_member(row.member_id)
    if actor.id != member.id:
        if member.has_smartphone:
            raise FourEyes("%(name)s confirms this themself.", params={"name": shown_name(member)})
        if actor.id in (row.requested_by_id, row.guardian_id):
            raise FourEyes("Another organizer must confirm a guardianship you asked for.")
    row.status = "active" if confirm else "declined"
    row.decided_by_id = actor.id
    row.decided_at = utcnow()
    db.session.flush()
    action = "guardian.confirm" if confirm else "guardian.decline"
    record_audit(action, actor=actor, subject=member, detail=f"guardian={row.guardian_id}")
    return row


def guardianships_of(member: Member) -> list[Guardianship]:
    """Every guardianship asked for ``member`` (pending, active, declined), oldest first."""
    return list(
        db.session.scalars(
            sa.select(Guardianship)
            .where(Guardianship.member_id == member.id)
            .order_by(Guardianship.id)
        )
    )


#: built once, run with the member (the volunteer's home asks both on every visit)
_TO_CONFIRM = (
    sa.select(Guardianship)
    .where(Guardianship.member_id == sa.bindparam("member_id"), Guardianship.status == "pending")
    .order_by(Guardianship.id)
)
_WARDS = (
    sa.select(Member)
    .join(Guardianship, Guardianship.member_id == Member.id)
    .where(Guardianship.guardian_id == sa.bindparam("guardian_id"), Guardianship.status == "active")
    .order_by(Member.name)
)


def pending_guardianships(member: Member) -> list[Guardianship]:
    """Guardianships asked for ``member`` that wait for their confirmation."""
    return list(db.session.scalars(_TO_CONFIRM, {"member_id": member.id}))


def _active(member_id: int, guardian_id: int) -> bool:
    row = _guardianship(member_id, guardian_id)
    return row is not None and row.status == "active"


def guardian_may_act_for(guardian: Member, member_id: int) -> Member:
    """The member ``guardian`` acts for; Forbidden unless a confirmed guardianship exists."""
    if not _active(member_id, guardian.id):
        raise NotGuardian("You are not registered as a guardian of that member.")
    return get_member(member_id)


def is_guardian(guardian: Member, member: Member) -> bool:
    """True when ``guardian`` may act for ``member`` (a confirmed guardianship)."""
    return _active(member.id, guardian.id)


def wards_of(guardian: Member) -> list[Member]:
    """The members ``guardian`` acts for (confirmed), by name."""
    return list(db.session.scalars(_WARDS, {"guardian_id": guardian.id}))
