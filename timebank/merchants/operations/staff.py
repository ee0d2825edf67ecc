"""A shop's staff: members with the merchant-staff role on that one shop.

The owner (or an organizer of the shop's unit) invites by phone; the member holds the
role only once they accept. The answer to an invitation names nobody and is the same
whether the phone belongs to a member or not, so a phone number cannot be turned into a
name or an id; and a shop that is not approved changes no staff at all.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from timebank.core import access
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.privacy import mask_phone
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.merchants.errors import (
    InvitationDecided,
    InvitationNotFound,
    MerchantNotApproved,
    OwnerStaysStaff,
    StaffOfAnotherMerchant,
)
from timebank.merchants.models import Merchant, StaffInvitation
from timebank.people import operations as people
from timebank.people.models import Member, RoleAssignment

STAFF_ROLE = "merchant_staff"


def list_staff(merchant: Merchant) -> list[Member]:
    """The members who may redeem at ``merchant``'s counter, owner first."""
    query = (
        sa.select(Member)
        .join(RoleAssignment, RoleAssignment.member_id == Member.id)
        .where(RoleAssignment.role == STAFF_ROLE, RoleAssignment.merchant_id == merchant.id)
        .order_by(Member.id != merchant.owner_id, Member.name)
    )
    return list(db.session.scalars(query))


def grant_staff(merchant: Merchant, member: Member, *, granted_by: Member) -> RoleAssignment:
    """The merchant-staff role on ``merchant``; idempotent. A role is unique per member
    and unit, so a member is staff of one shop per unit: StaffOfAnotherMerchant."""
    existing = db.session.scalar(
        sa.select(RoleAssignment).where(
            RoleAssignment.member_id == member.id,
            RoleAssignment.role == STAFF_ROLE,
            RoleAssignment.unit_id == merchant.unit_id,
        )
    )
    if existing is not None and existing.merchant_id not in (None, merchant.id):
        raise StaffOfAnotherMerchant("This member is already staff of another shop in this unit.")
    if existing is None:
        existing = RoleAssignment(
            member=member, role=STAFF_ROLE, unit_id=merchant.unit_id, granted_by_id=granted_by.id
        )
        db.session.add(existing)
    existing.merchant_id = merchant.id
    db.session.flush()
    detail = f"{STAFF_ROLE}@merchant:{merchant.id}"
    people.record_audit("role.grant", actor=granted_by, subject=member, detail=detail)
    return existing


def _lock_approved(merchant_id: int) -> Merchant:
    """The shop's row, locked; MerchantNotApproved unless it is approved: a pending,
    rejected or suspended shop changes no staff (checked on the row, under its lock)."""
    merchant = db.session.scalar(
        sa.select(Merchant)
        .where(Merchant.id == merchant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if merchant is None or merchant.status != "approved":
        raise MerchantNotApproved("Staff are invited once the shop is approved.")
    return merchant


@use_case
def invite_staff(merchant: Merchant, *, phone: str, actor: Member, now=None) -> dict:
    """Invite the member with this phone to be staff of ``merchant``; they are told in
    their inbox and hold the role once they accept (``accept_staff_invitation``).

    Returns ``{"phone": masked, "status": "invited"}`` whoever the phone belongs to, or
    nobody: the answer names no one. Raises InvalidPhone (malformed), MerchantNotApproved.
    """
    phone = people.normalize_phone(phone)
    merchant = _lock_approved(merchant.id)
    answer = {"phone": mask_phone(phone), "status": "invited"}
    member = people.find_member_by_phone(phone)
    if member is None or not member.is_active or member.id == merchant.owner_id:
        return answer
    if member.id in {m.id for m in list_staff(merchant)}:
        return answer
    now = now or utcnow()
    invitation = db.session.scalar(
        sa.select(StaffInvitation).where(
            StaffInvitation.merchant_id == merchant.id, StaffInvitation.member_id == member.id
        )
    )
    if invitation is None:
        invitation = StaffInvitation(merchant_id=merchant.id, member_id=member.id)
        db.session.add(invitation)
    invitation.status, invitation.invited_by_id = "pending", actor.id
    invitation.created_at, invitation.decided_at = now, None
    db.session.flush()
    _notify_invited(invitation, merchant, member, now)
    return answer


def _notify_invited(invitation: StaffInvitation, merchant: Merchant, member: Member, now):
    from timebank.inbox import operations as inbox

    inbox.notify(
        member, "staff_invitation", key=f"staff-invitation:{invitation.id}:{now.isoformat()}",
        params={"shop": merchant.name}, link="/me/staff-invitations", now=now,
    )  # fmt: skip


def get_invitation(invitation_id: int) -> StaffInvitation:
    """Return the invitation or raise InvitationNotFound."""
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None:
        raise InvitationNotFound("Invitation %(id)s does not exist.", params={"id": invitation_id})
    return invitation


def invitation_target(invitation_id: int) -> Target:
    """An invitation is answered by the member invited, and nobody else."""
    return Target(member=get_invitation(invitation_id).member_id)


def invitations_for(member: Member) -> list[StaffInvitation]:
    """The invitations waiting for ``member``'s answer, newest first."""
    return list(
        db.session.scalars(
            sa.select(StaffInvitation)
            .where(StaffInvitation.member_id == member.id, StaffInvitation.status == "pending")
            .options(joinedload(StaffInvitation.merchant))
            .order_by(StaffInvitation.id.desc())
        )
    )


def pending_invitations(merchant: Merchant) -> list[StaffInvitation]:
    """The shop's invitations nobody has answered yet (its dashboard shows them masked)."""
    return list(
        db.session.scalars(
            sa.select(StaffInvitation)
            .where(StaffInvitation.merchant_id == merchant.id, StaffInvitation.status == "pending")
            .options(joinedload(StaffInvitation.member))
            .order_by(StaffInvitation.id)
        )
    )


def _lock_pending(invitation_id: int, member: Member) -> StaffInvitation:
    invitation = db.session.scalar(
        sa.select(StaffInvitation)
        .where(StaffInvitation.id == invitation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None or invitation.member_id != member.id:
        raise InvitationNotFound("Invitation %(id)s does not exist.", params={"id": invitation_id})
    if invitation.status != "pending":
        raise InvitationDecided("This invitation was already answered or withdrawn.")
    return invitation


@use_case
def accept_staff_invitation(
    invitation_id: int, *, member: Member, now: datetime | None = None
) -> StaffInvitation:
    """The member invited accepts: they become staff of the shop. Raises
    InvitationNotFound, InvitationDecided, MerchantNotApproved, StaffOfAnotherMerchant."""
    invitation = _lock_pending(invitation_id, member)
    merchant = _lock_approved(invitation.merchant_id)
    inviter = db.session.get(Member, invitation.invited_by_id) if invitation.invited_by_id else None
    grant_staff(merchant, member, granted_by=inviter or member)
    access.forget_memo()
    invitation.status, invitation.decided_at = "accepted", now or utcnow()
    db.session.flush()
    return invitation


@use_case
def decline_staff_invitation(
    invitation_id: int, *, member: Member, now: datetime | None = None
) -> StaffInvitation:
    """The member invited says no. Raises InvitationNotFound, InvitationDecided."""
    invitation = _lock_pending(invitation_id, member)
    invitation.status, invitation.decided_at = "declined", now or utcnow()
    db.session.flush()
    return invitation


@use_case
def remove_staff(merchant: Merchant, *, member_id: int, actor: Member) -> None:
    """Take the merchant-staff role on ``merchant`` away (and withdraw an invitation not
    yet answered); idempotent.

    Raises MerchantNotApproved, OwnerStaysStaff for the owner, NotFound for a member who
    does not exist.
    """
    merchant = _lock_approved(merchant.id)
    member = people.get_member(member_id)
    if member.id == merchant.owner_id:
        raise OwnerStaysStaff("The owner stays staff of their own shop.")
    db.session.execute(
        sa.delete(RoleAssignment).where(
            RoleAssignment.member_id == member.id,
            RoleAssignment.role == STAFF_ROLE,
            RoleAssignment.merchant_id == merchant.id,
        )
    )
    db.session.execute(
        sa.update(StaffInvitation)
        .where(
            StaffInvitation.merchant_id == merchant.id,
            StaffInvitation.member_id == member.id,
            StaffInvitation.status == "pending",
        )
        .values(status="withdrawn", decided_at=utcnow())
    )
    access.forget_memo()
    db.session.expire(member, ["roles"])
    people.record_audit(
        "role.revoke", actor=actor, subject=member, detail=f"{STAFF_ROLE}@merchant:{merchant.id}"
    )
