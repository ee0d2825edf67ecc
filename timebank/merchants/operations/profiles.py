"""Merchants: apply or be added in a unit, approval and suspension by the unit's
organizers, the profile, and the owner's staff (members with the merchant-staff role on
that one merchant)."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from timebank.core import access
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.sms import load_sms_adapter
from timebank.core.uow import after_commit
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants.errors import (
    InvalidMerchant,
    MerchantExists,
    MerchantNotFound,
    MerchantNotPending,
    MerchantWrongStatus,
    OwnerStaysStaff,
    StaffNotMember,
    StaffOfAnotherMerchant,
)
from timebank.merchants.models import (
    ADDRESS_MAX,
    HOURS_MAX,
    LATITUDE,
    LONGITUDE,
    MERCHANT_CATEGORIES,
    NAME_MAX,
    Merchant,
)
from timebank.people import operations as people
from timebank.people.models import Member, RoleAssignment
from timebank.units import operations as units
from timebank.units.models import UnitClosure

STAFF_ROLE = "merchant_staff"
_CONTACT_PHONE = re.compile(r"^[0-9][0-9 +-]{4,19}$")
#: the profile fields an owner or organizer may change
PROFILE_FIELDS = (
    "name", "address", "category", "opening_hours", "contact_name", "contact_phone", "lat", "lng",
)  # fmt: skip


def get_merchant(merchant_id: int) -> Merchant:
    """Return the merchant or raise MerchantNotFound."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise MerchantNotFound("Merchant %(id)s does not exist.", params={"id": merchant_id})
    return merchant


def merchant_target(merchant_id: int) -> Target:
    """What an action on a merchant is done to: that merchant (its staff's scope) in its
    unit (its organizers' scope)."""
    merchant = get_merchant(merchant_id)
    return Target(unit=merchant.unit_id, merchant=merchant.id)


def merchant_owner_target(merchant_id: int) -> Target:
    """As ``merchant_target``, naming the owner as the member acted on: an action that
    allows oneself (``self_ok``) is then the owner's too."""
    merchant = get_merchant(merchant_id)
    return Target(unit=merchant.unit_id, merchant=merchant.id, member=merchant.owner_id)


_REQUIRED = ("name", "address", "contact_name", "contact_phone")
_LONGEST = {
    "name": NAME_MAX, "address": ADDRESS_MAX, "opening_hours": HOURS_MAX, "contact_name": 60,
    "contact_phone": 20,
}  # fmt: skip


def _clean_profile(fields: dict) -> dict:
    """Stripped, checked profile fields; raises InvalidMerchant naming the bad ones."""
    cleaned, errors = {}, {}
    for name, longest in _LONGEST.items():
        if name not in fields:
            continue
        cleaned[name] = (fields[name] or "").strip()
        if name in _REQUIRED and not cleaned[name]:
            errors[name] = ["Required."]
        elif len(cleaned[name]) > longest:
            errors[name] = [f"At most {longest} characters."]
    phone = cleaned.get("contact_phone")
    if phone and not _CONTACT_PHONE.match(phone):
        errors["contact_phone"] = ["A phone number."]
    if "category" in fields:
        cleaned["category"] = fields["category"]
        if fields["category"] not in MERCHANT_CATEGORIES:
            errors["category"] = ["Unknown category."]
    for name, bounds in (("lat", LATITUDE), ("lng", LONGITUDE)):
        if name in fields:
            cleaned[name] = fields[name]
            if fields[name] is not None and fields[name] not in bounds:
                errors[name] = [bounds.message()]
    if errors:
        raise InvalidMerchant("The shop's details are incomplete or wrong.", errors=errors)
    return cleaned


def _save(merchant: Merchant, changes: dict, *, new: bool = False) -> Merchant:
    """Apply ``changes`` and flush inside a savepoint; MerchantExists when the unit
    already has a shop of that name (the database's unique constraint decides)."""
    name = changes.get("name", merchant.name)
    try:
        with db.session.begin_nested():
            for field, value in changes.items():
                setattr(merchant, field, value)
            if new:
                db.session.add(merchant)
            db.session.flush()
    except IntegrityError:
        raise MerchantExists(
            "%(name)s is already a shop of this unit.", params={"name": name}
        ) from None
    return merchant


def apply_merchant(*, unit_id: int, owner: Member, actor: Member, **profile) -> Merchant:
    """A shop applies (``owner`` is the actor) or an organizer adds one (naming its
    owner), in ``unit_id``: pending until an organizer of the unit approves it.

    Raises NotFound for a missing unit, InvalidMerchant for bad fields, MerchantExists.
    """
    units.get_unit(unit_id)
    fields = _clean_profile({"lat": None, "lng": None, "opening_hours": "", **profile})
    missing = [f for f in PROFILE_FIELDS if f not in fields]
    if missing:
        raise InvalidMerchant(
            "The shop's details are incomplete or wrong.",
            errors={name: ["Required."] for name in missing},
        )
    merchant = Merchant(unit_id=unit_id, owner=owner, created_by_id=actor.id, status="pending")
    _save(merchant, fields, new=True)
    people.record_audit("merchant.apply", actor=actor, subject=owner, detail=merchant.name)
    return merchant


def update_merchant(merchant: Merchant, *, actor: Member, **profile) -> Merchant:
    """Change profile fields (the rest stay). Raises InvalidMerchant, MerchantExists."""
    fields = _clean_profile({k: v for k, v in profile.items() if k in PROFILE_FIELDS})
    return _save(merchant, fields)


def _decide(merchant: Merchant, status: str, actor: Member, reason: str | None, now) -> Merchant:
    before = {"status": merchant.status}
    merchant.status = status
    merchant.status_reason = (reason or "").strip()[:500] or None
    merchant.decided_by_id = actor.id
    merchant.decided_at = now or utcnow()
    db.session.flush()
    people.record_audit(
        f"merchant.{status}", actor=actor, subject=merchant.owner, target=f"merchant:{merchant.id}",
        before=before, after={"status": status}, detail=merchant.status_reason,
    )  # fmt: skip
    return merchant


def approve_merchant(merchant: Merchant, *, actor: Member, now: datetime | None = None):
    """Approve a pending shop: its POINTS account opens and its owner becomes its staff.

    Raises MerchantNotPending unless it is pending.
    """
    if merchant.status != "pending":
        raise MerchantNotPending(
            "%(name)s is not waiting for a decision.", params={"name": merchant.name}
        )
    ledger.merchant_account(merchant.id, "POINTS")
    _grant_staff(merchant, merchant.owner, granted_by=actor)
    return _decide(merchant, "approved", actor, None, now)


def reject_merchant(merchant: Merchant, *, actor: Member, reason: str, now=None) -> Merchant:
    """Turn down a pending application. Raises MerchantNotPending."""
    if merchant.status != "pending":
        raise MerchantNotPending(
            "%(name)s is not waiting for a decision.", params={"name": merchant.name}
        )
    return _decide(merchant, "rejected", actor, reason, now)


def suspend_merchant(merchant: Merchant, *, actor: Member, reason: str, now=None) -> Merchant:
    """Stop an approved shop redeeming (its holds then time out; its statements can
    still be settled). Raises MerchantWrongStatus unless it is approved."""
    if merchant.status != "approved":
        raise MerchantWrongStatus("Only an approved shop can be suspended.")
    return _decide(merchant, "suspended", actor, reason, now)


def reinstate_merchant(merchant: Merchant, *, actor: Member, now=None) -> Merchant:
    """Let a suspended shop redeem again. Raises MerchantWrongStatus unless suspended."""
    if merchant.status != "suspended":
        raise MerchantWrongStatus("Only a suspended shop can be reinstated.")
    return _decide(merchant, "approved", actor, None, now)


# ---------------------------------------------------------------- lists


def nearby_unit_ids_select(member: Member) -> sa.Select:
    """Units whose shops a member's lists show: their home's line up to the street, and
    everything below their home."""
    up = sa.select(UnitClosure.ancestor_id).where(UnitClosure.descendant_id == member.home_unit_id)
    down = sa.select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == member.home_unit_id
    )
    return sa.union(up, down)


def merchants_near(member: Member, *, unit_id: int | None = None) -> list[Merchant]:
    """Approved shops near ``member`` (or in the subtree of ``unit_id``), by name."""
    query = sa.select(Merchant).where(Merchant.status == "approved")
    if unit_id is not None:
        query = query.where(Merchant.unit_id.in_(units.subtree_ids_select(unit_id)))
    else:
        query = query.where(Merchant.unit_id.in_(nearby_unit_ids_select(member)))
    query = query.options(joinedload(Merchant.unit)).order_by(Merchant.name)
    return list(db.session.scalars(query))


def merchants_in_unit(unit_id: int, *, status: str | None = None) -> list[Merchant]:
    """Every shop of the subtree of ``unit_id`` (organizers), waiting ones first."""
    order = sa.case({"pending": 0, "approved": 1, "suspended": 2}, value=Merchant.status, else_=3)
    query = (
        sa.select(Merchant)
        .where(Merchant.unit_id.in_(units.subtree_ids_select(unit_id)))
        .options(joinedload(Merchant.unit), joinedload(Merchant.owner))
        .order_by(order, Merchant.name)
    )
    if status is not None:
        query = query.where(Merchant.status == status)
    return list(db.session.scalars(query))


def merchants_of(member: Member) -> list[Merchant]:
    """The shops ``member`` is staff of, and the ones they own (applied or approved)."""
    staff_of = sa.select(RoleAssignment.merchant_id).where(
        RoleAssignment.member_id == member.id, RoleAssignment.role == STAFF_ROLE
    )
    query = sa.select(Merchant).where(
        sa.or_(Merchant.id.in_(staff_of), Merchant.owner_id == member.id)
    )
    return list(db.session.scalars(query.order_by(Merchant.name)))


# ---------------------------------------------------------------- staff


def list_staff(merchant: Merchant) -> list[Member]:
    """The members who may redeem at ``merchant``'s counter, owner first."""
    query = (
        sa.select(Member)
        .join(RoleAssignment, RoleAssignment.member_id == Member.id)
        .where(RoleAssignment.role == STAFF_ROLE, RoleAssignment.merchant_id == merchant.id)
        .order_by(Member.id != merchant.owner_id, Member.name)
    )
    return list(db.session.scalars(query))


def _grant_staff(merchant: Merchant, member: Member, *, granted_by: Member) -> RoleAssignment:
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
        raise StaffOfAnotherMerchant(
            "%(name)s is already staff of another shop in this unit.", params={"name": member.name}
        )
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


def member_by_phone(phone: str) -> Member:
    """The active member with this phone. Raises InvalidPhone, StaffNotMember (nobody
    active has it: they join the time bank first)."""
    phone = people.normalize_phone(phone)
    member = people.find_member_by_phone(phone)
    if member is None or not member.is_active:
        raise StaffNotMember(
            "No active member has the phone %(phone)s; they join the time bank first.",
            params={"phone": phone},
        )
    return member


def invite_staff(merchant: Merchant, *, phone: str, actor: Member) -> Member:
    """Make the member with this phone staff of ``merchant`` and tell them by SMS.

    Raises InvalidPhone, StaffNotMember, StaffOfAnotherMerchant.
    """
    member = member_by_phone(phone)
    _grant_staff(merchant, member, granted_by=actor)
    adapter = load_sms_adapter(current_app)
    message = f"[timebank] 您已成为{merchant.name}的店员 (you are now staff of {merchant.name})."
    after_commit(db.session, lambda: adapter.send(member.phone, message))
    return member


def remove_staff(merchant: Merchant, *, member_id: int, actor: Member) -> None:
    """Take the merchant-staff role on ``merchant`` away; idempotent.

    Raises OwnerStaysStaff for the owner, NotFound for a member who does not exist.
    """
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
    access.forget_memo()
    db.session.expire(member, ["roles"])
    people.record_audit(
        "role.revoke", actor=actor, subject=member, detail=f"{STAFF_ROLE}@merchant:{merchant.id}"
    )
