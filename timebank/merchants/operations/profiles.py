"""Merchants: apply or be added in a unit, approval and suspension by the unit's
organizers, the profile, and the owner's staff (members with the merchant-staff role on
that one merchant)."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from timebank.core import access
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants.errors import (
    InvalidMerchant,
    MerchantExists,
    MerchantNotFound,
    MerchantNotPending,
    MerchantWrongStatus,
    StaffNotMember,
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
from timebank.merchants.operations.news import tell_owner_decided
from timebank.merchants.operations.staff import STAFF_ROLE, grant_staff
from timebank.people import operations as people
from timebank.people.models import Member, RoleAssignment
from timebank.units import operations as units
from timebank.units.models import UnitClosure

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


@use_case
def apply_merchant(
    *,
    unit_id: int,
    actor: Member,
    owner: Member | None = None,
    owner_phone: str | None = None,
    **profile,
) -> Merchant:
    """A shop applies (its owner is the actor) or an organizer of ``unit_id`` adds one,
    naming its owner by ``owner_phone`` (or ``owner``, the system's way): pending until
    an organizer of the unit approves it.

    Raises NotFound for a missing unit, Forbidden when someone not organizing the unit
    names an owner by phone, InvalidPhone, StaffNotMember, InvalidMerchant for bad
    fields, MerchantExists.
    """
    units.get_unit(unit_id)
    if owner_phone:
        access.authorize(actor, "merchants.approve", Target(unit=unit_id))
        owner = member_by_phone(owner_phone)
    owner = owner or actor
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


@use_case
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
    reinstated = before["status"] == "suspended" and status == "approved"
    tell_owner_decided(merchant, "reinstated" if reinstated else status, merchant.decided_at)
    return merchant


@use_case
def approve_merchant(merchant: Merchant, *, actor: Member, now: datetime | None = None):
    """Approve a pending shop: its POINTS account opens and its owner becomes its staff.

    Raises MerchantNotPending unless it is pending.
    """
    if merchant.status != "pending":
        raise MerchantNotPending(
            "%(name)s is not waiting for a decision.", params={"name": merchant.name}
        )
    ledger.merchant_account(merchant.id, "POINTS")
    grant_staff(merchant, merchant.owner, granted_by=actor)
    return _decide(merchant, "approved", actor, None, now)


@use_case
def reject_merchant(merchant: Merchant, *, actor: Member, reason: str, now=None) -> Merchant:
    """Turn down a pending application. Raises MerchantNotPending."""
    if merchant.status != "pending":
        raise MerchantNotPending(
            "%(name)s is not waiting for a decision.", params={"name": merchant.name}
        )
    return _decide(merchant, "rejected", actor, reason, now)


@use_case
def suspend_merchant(merchant: Merchant, *, actor: Member, reason: str, now=None) -> Merchant:
    """Stop an approved shop redeeming (its holds then time out; its statements can
    still be settled). Raises MerchantWrongStatus unless it is approved."""
    if merchant.status != "approved":
        raise MerchantWrongStatus("Only an approved shop can be suspended.")
    return _decide(merchant, "suspended", actor, reason, now)


@use_case
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
