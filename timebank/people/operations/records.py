"""A member's record as organizers keep it: correct the name or phone, suspend and
reinstate, move to another building; and finding members by name or phone, a page at a
time. Every change is in the audit log with what it was before."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from timebank.core import access
from timebank.core.access import Target
from timebank.core.audit import record_audit
from timebank.core.errors import InvalidInput
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.errors import MemberNotActive, MemberNotSuspended, PhoneTaken
from timebank.people.models import Member
from timebank.people.operations.credentials import normalize_phone
from timebank.people.operations.members import (
    check_name,
    find_member_by_phone,
    lock_member,
    members_in_unit_select,
)
from timebank.units import operations as units


@use_case
def update_member(
    member: Member, *, name: str, phone: str, has_smartphone: bool, actor: Member | None
) -> Member:
    """Correct a member's name, phone or whether they have a smartphone.

    Raises InvalidInput for a bad name or phone, PhoneTaken when the phone is someone
    else's.
    """
    name, phone = check_name(name), normalize_phone(phone)
    member = lock_member(member)
    before = {"name": member.name, "phone": member.phone, "has_smartphone": member.has_smartphone}
    if phone != member.phone:
        holder = find_member_by_phone(phone)
        if holder is not None and holder.id != member.id:
            raise PhoneTaken("The phone %(phone)s is already registered.", params={"phone": phone})
    member.name, member.phone, member.has_smartphone = name, phone, bool(has_smartphone)
    after = {"name": name, "phone": phone, "has_smartphone": member.has_smartphone}
    if after != before:
        db.session.flush()
        record_audit("member.edit", actor=actor, subject=member, before=before, after=after)
    return member


@use_case
def suspend_member(member: Member, *, actor: Member | None, reason: str) -> Member:
    """Suspend an active member: they cannot log in or act until reinstated; what they
    earned stays theirs. Raises InvalidInput without a reason, MemberNotActive."""
    reason = (reason or "").strip()[:500]
    if not reason:
        raise InvalidInput("Say why the member is suspended.", errors={"reason": ["Required."]})
    member = lock_member(member)
    if member.status != "active":
        raise MemberNotActive("Only an active member can be suspended.")
    member.status = "suspended"
    db.session.flush()
    record_audit(
        "member.suspend", actor=actor, subject=member,
        before={"status": "active"}, after={"status": "suspended"}, detail=reason,
    )  # fmt: skip
    return member


@use_case
def reinstate_member(member: Member, *, actor: Member | None) -> Member:
    """Make a suspended member active again. Raises MemberNotSuspended."""
    member = lock_member(member)
    if member.status != "suspended":
        raise MemberNotSuspended("Only a suspended member can be reinstated.")
    member.status = "active"
    db.session.flush()
    record_audit(
        "member.reinstate", actor=actor, subject=member,
        before={"status": "suspended"}, after={"status": "active"},
    )  # fmt: skip
    return member


@use_case
def move_member(member: Member, unit_id: int, *, actor: Member | None) -> Member:
    """Move a member to another home (building or grid). The actor (None: the system)
    must organize both the old home, read on the member's locked row (a move made
    meanwhile by someone else is seen), and the new one. Their roles, balances and
    history stay as they are. Raises NotFound for a missing unit, Forbidden."""
    unit = units.get_unit(unit_id)
    member = lock_member(member)
    old = member.home_unit_id
    if actor is not None:
        access.authorize(actor, "members.manage", Target(unit=old))
        access.authorize(actor, "members.manage", Target(unit=unit.id))
    if unit.id == old:
        return member
    member.home_unit_id = unit.id
    db.session.flush()
    db.session.refresh(member, ["home_unit"])
    record_audit(
        "member.move", actor=actor, subject=member, target=f"unit:{unit.id}",
        before={"home_unit_id": old}, after={"home_unit_id": unit.id},
    )  # fmt: skip
    return member


@dataclass(frozen=True)
class MemberPage:
    """One page of a member list: the members, how many match in all, and the page."""

    members: list[Member]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_members(
    unit_id: int,
    *,
    status: str | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> MemberPage:
    """Members living in the subtree of ``unit_id`` whose name contains ``search`` (or
    whose phone contains its digits), by name, one page of ``per_page``."""
    query = members_in_unit_select(unit_id, status=status)
    search = (search or "").strip()[:60]
    if search:
        digits = "".join(c for c in search if c.isdigit())
        matches = [Member.name.contains(search, autoescape=True)]
        if len(digits) >= 3:
            matches.append(Member.phone.contains(digits, autoescape=True))
        query = query.where(sa.or_(*matches))
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).options().subquery())
    )
    page = max(1, min(page, max(1, -(-total // per_page))))
    members = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return MemberPage(members=members, total=total, page=page, per_page=per_page)
