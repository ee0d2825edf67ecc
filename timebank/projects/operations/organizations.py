"""Who acts for a partner organization (共建单位): its contacts claim projects for it and
name who serves; its people may be named. Organizers of the organization's unit record
both (a membership table, ``organization_members``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from timebank.core.errors import InvalidInput
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.errors import NotOrganizationContact, NotOrganizationMember
from timebank.projects.models import ORGANIZATION_ROLES, OrganizationMember
from timebank.units.models import Organization


@use_case
def add_organization_member(
    org: Organization, member: Member, *, role: str, actor: Member | None
) -> OrganizationMember:
    """Record that ``member`` acts for ``org`` as its contact or one of its people; a
    second call changes the role. Raises InvalidInput for an unknown role."""
    if role not in ORGANIZATION_ROLES:
        raise InvalidInput(
            "Unknown role %(role)s.", params={"role": role}, errors={"role": ["contact or member"]}
        )
    row = db.session.scalar(
        sa.select(OrganizationMember).where(
            OrganizationMember.organization_id == org.id, OrganizationMember.member_id == member.id
        )
    )
    if row is None:
        row = OrganizationMember(
            organization_id=org.id,
            member_id=member.id,
            role=role,
            added_by_id=actor.id if actor is not None else None,
        )
        db.session.add(row)
    else:
        row.role = role
    db.session.flush()
    return row


def organization_members(org_id: int) -> list[OrganizationMember]:
    """The organization's contacts first, then its people, by name."""
    return list(
        db.session.scalars(
            sa.select(OrganizationMember)
            .join(Member, Member.id == OrganizationMember.member_id)
            .where(OrganizationMember.organization_id == org_id)
            .options(selectinload(OrganizationMember.member))
            .order_by(OrganizationMember.role, Member.name)
        )
    )


def is_contact(member: Member, org_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(OrganizationMember.id).where(
                OrganizationMember.organization_id == org_id,
                OrganizationMember.member_id == member.id,
                OrganizationMember.role == "contact",
            )
        )
        is not None
    )


def require_contact(member: Member, org: Organization) -> None:
    """Raise NotOrganizationContact unless ``member`` is a contact of ``org``."""
    if not is_contact(member, org.id):
        raise NotOrganizationContact(
            "Only a contact of %(org)s acts for it.", params={"org": org.name}
        )


def require_people(org: Organization, member_ids: list[int]) -> list[Member]:
    """The members, each recorded as one of ``org``'s people (or its contact), in id order.
    Raises NotOrganizationMember naming the first who is not."""
    rows = {
        row.member_id: row.member
        for row in db.session.scalars(
            sa.select(OrganizationMember)
            .where(
                OrganizationMember.organization_id == org.id,
                OrganizationMember.member_id.in_(member_ids),
            )
            .options(selectinload(OrganizationMember.member))
        )
    }
    for member_id in sorted(set(member_ids)):
        if member_id not in rows or not rows[member_id].is_active:
            raise NotOrganizationMember(
                "Member %(id)s is not recorded as one of %(org)s's people.",
                params={"id": member_id, "org": org.name},
                errors={"member_ids": [str(member_id)]},
            )
    return [rows[i] for i in sorted(set(member_ids))]


def contact_organizations(member: Member) -> list[Organization]:
    """The partner organizations ``member`` is a contact of."""
    return list(
        db.session.scalars(
            sa.select(Organization)
            .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
            .where(OrganizationMember.member_id == member.id, OrganizationMember.role == "contact")
            .order_by(Organization.name)
        )
    )
