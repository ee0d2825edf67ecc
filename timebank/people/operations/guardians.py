"""Guardians: a family member or grid worker who acts for a member without a smartphone,
and is recorded beside them on what they do."""

from __future__ import annotations

import sqlalchemy as sa

from timebank.core.errors import InvalidInput
from timebank.extensions import db
from timebank.people.errors import GuardianExists, GuardianSelf, NotGuardian
from timebank.people.models import Guardianship, Member
from timebank.people.operations.audit import record_audit
from timebank.people.operations.members import get_member


def add_guardian(member: Member, guardian: Member, *, relation: str, actor: Member | None) -> None:
    """Let ``guardian`` act for ``member``; Conflict if already so, InvalidInput for self."""
    if member.id == guardian.id:
        raise GuardianSelf("A member cannot be their own guardian.")
    relation = (relation or "").strip()
    if not relation:
        raise InvalidInput("Say how the guardian is related.", errors={"relation": ["Required."]})
    exists = db.session.scalar(
        sa.select(Guardianship.id).where(
            Guardianship.member_id == member.id, Guardianship.guardian_id == guardian.id
        )
    )
    if exists is not None:
        raise GuardianExists(
            "%(guardian)s already acts for %(member)s.",
            params={"guardian": guardian.name, "member": member.name},
        )
    db.session.add(Guardianship(member_id=member.id, guardian_id=guardian.id, relation=relation))
    db.session.flush()
    record_audit("guardian.add", actor=actor, subject=member, detail=f"guardian={guardian.id}")


def guardian_may_act_for(guardian: Member, member_id: int) -> Member:
    """The member ``guardian`` acts for; Forbidden unless a guardianship exists."""
    exists = db.session.scalar(
        sa.select(Guardianship.id).where(
            Guardianship.member_id == member_id, Guardianship.guardian_id == guardian.id
        )
    )
    if exists is None:
        raise NotGuardian("You are not registered as a guardian of that member.")
    return get_member(member_id)


def is_guardian(guardian: Member, member: Member) -> bool:
    """True when ``guardian`` may act for ``member``."""
    return (
        db.session.scalar(
            sa.select(Guardianship.id).where(
                Guardianship.member_id == member.id, Guardianship.guardian_id == guardian.id
            )
        )
        is not None
    )


def wards_of(guardian: Member) -> list[Member]:
    """The members ``guardian`` acts for, by name."""
    return list(
        db.session.scalars(
            sa.select(Member)
            .join(Guardianship, Guardianship.member_id == Member.id)
            .where(Guardianship.guardian_id == guardian.id)
            .order_by(Member.name)
        )
    )
