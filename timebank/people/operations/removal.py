"""Removing a member: the profile is pseudonymised, the ledger is left exactly as it is.

The ledger is append-only and hash-chained, so a member's transfers and entries stay,
and ``timebank ledger verify`` still passes: they now belong to "已注销成员 #<id>". What
identifies the person goes: name, phone (a placeholder no SMS reaches and no login
matches), password, sessions and tokens, roles, guardianships, party details and any
registration waiting on their phone. A balance is no reason to refuse: it stays on the
ledger under the pseudonym (the confirmation says how much is left behind).
"""

from __future__ import annotations

import sqlalchemy as sa

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people.errors import CannotRemoveSelf, MemberRemoved
from timebank.people.models import (
    ApiToken,
    Guardianship,
    Member,
    PhoneVerification,
    RoleAssignment,
)
from timebank.people.operations.audit import record_audit
from timebank.people.operations.members import lock_member

#: the name a removed member is shown by (the deployment's language: Chinese)
REMOVED_NAME = "已注销成员 #{id}"


def removed_phone(member_id: int) -> str:
    """A placeholder phone, unique per member; not digits, so no login or SMS matches it."""
    return f"removed-{member_id}"


def remove_member(member: Member, *, actor: Member | None) -> Member:
    """Pseudonymise ``member`` and end everything that lets them (or anyone for them) act.

    Raises MemberRemoved when already removed, CannotRemoveSelf for one's own account
    (another organizer or an admin removes it, so nobody locks themself out by mistake).
    """
    member = lock_member(member)
    if member.status == "removed":
        raise MemberRemoved("This member was already removed.")
    if actor is not None and actor.id == member.id:
        raise CannotRemoveSelf("Another organizer or an admin removes your own account.")
    now = utcnow()
    before = {
        "status": member.status,
        "roles": sorted(f"{r.role}@{r.unit_id}" for r in member.roles),
        "guardianships": _end_guardianships(member, actor, now),
    }
    old_phone = member.phone
    member.name = REMOVED_NAME.format(id=member.id)
    member.phone = removed_phone(member.id)
    member.password_hash = None
    member.phone_verified_at = None
    member.has_smartphone = False
    member.locale = None
    member.status = "removed"
    member.session_epoch += 1  # every page session ends
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(sa.delete(RoleAssignment).where(RoleAssignment.member_id == member.id))
    access.forget_memo()
    db.session.execute(sa.delete(PhoneVerification).where(PhoneVerification.phone == old_phone))
    if member.party is not None:
        member.party.branch = ""
        member.party.workplace_name = None
        member.party.workplace_org_id = None
    db.session.flush()
    db.session.expire(member, ["roles"])
    record_audit(
        "member.remove", actor=actor, subject=member, target=f"member:{member.id}",
        before=before, after={"status": "removed"},
    )  # fmt: skip
    return member


def _end_guardianships(member: Member, actor: Member | None, now) -> list[str]:
    """Decline every live guardianship for or by ``member``; say which ended."""
    rows = db.session.scalars(
        sa.select(Guardianship).where(
            sa.or_(Guardianship.member_id == member.id, Guardianship.guardian_id == member.id),
            Guardianship.status != "declined",
        )
    ).all()
    for row in rows:
        row.status = "declined"
        row.decided_at = now
        row.decided_by_id = actor.id if actor is not None else None
    return sorted(f"{row.guardian_id}->{row.member_id}" for row in rows)
