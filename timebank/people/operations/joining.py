"""Joining: a unit's join link, the SMS code that proves a phone, and an organizer's
approval or rejection of the registration."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput
from timebank.core.privacy import mask_phone, shown_name
from timebank.core.throttle import CODES_ADDRESS
from timebank.core.urls import public_url
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.errors import (
    CodeInvalid,
    HomeOutsideJoinLink,
    JoinLinkInvalid,
    JoinLinkMissing,
    NotPending,
    PhoneTaken,
)
from timebank.people.models import JoinLink, Member, PhoneVerification
from timebank.people.operations.audit import record_audit
from timebank.people.operations.credentials import (
    check_password_strength,
    hash_password,
    normalize_phone,
)
from timebank.people.operations.members import (
    check_name,
    create_member,
    find_member_by_phone,
    grant_role,
    lock_member,
)
from timebank.people.operations.notices import notify_membership_decided
from timebank.people.operations.phone_codes import send_phone_code, take_phone_code
from timebank.units import operations as units


def current_join_link(unit_id: int) -> JoinLink:
    """The unit's live join link; JoinLinkMissing until one is made."""
    link = db.session.scalar(
        sa.select(JoinLink)
        .where(JoinLink.unit_id == unit_id, JoinLink.revoked_at.is_(None))
        .order_by(JoinLink.id.desc())
        .limit(1)
    )
    if link is None:
        raise JoinLinkMissing("This unit has no join link yet; make one first.")
    return link


def has_join_link(unit_id: int) -> bool:
    """True when the unit has a live join link (a new one would replace it)."""
    query = sa.select(JoinLink.id).where(JoinLink.unit_id == unit_id, JoinLink.revoked_at.is_(None))
    return db.session.scalar(query.limit(1)) is not None


def unit_of_join_code(code: str):
    """The unit a join link with this code was made for, live or withdrawn; None for a
    code nobody made (an old poster still names its community)."""
    link = db.session.scalar(
        sa.select(JoinLink).options(joinedload(JoinLink.unit)).where(JoinLink.code == code[:32])
    )
    return link.unit if link is not None else None


@use_case
def renew_join_link(unit_id: int, *, actor: Member | None) -> JoinLink:
    """A new join link for the unit; the links made before stop working."""
    units.get_unit(unit_id)
    now = utcnow()
    for old in db.session.scalars(
        sa.select(JoinLink).where(JoinLink.unit_id == unit_id, JoinLink.revoked_at.is_(None))
    ):
        old.revoked_at = now
    link = JoinLink(
        unit_id=unit_id, code=secrets.token_urlsafe(9), created_by_id=actor.id if actor else None
    )
    db.session.add(link)
    db.session.flush()
    record_audit("join_link.renew", actor=actor, detail=f"unit {unit_id}")
    return link


def get_join_link(code: str) -> JoinLink:
    """The live join link with this code, or NotFound (``join_link_invalid``)."""
    link = db.session.scalar(sa.select(JoinLink).where(JoinLink.code == code))
    if link is None or link.revoked_at is not None:
        raise JoinLinkInvalid("This join link is not valid any more.")
    return link


def join_url(link: JoinLink) -> str:
    """The address a resident opens (or scans from the poster) to join the link's unit."""
    return public_url(f"/join/{link.code}")


def homes_of_join_link(link: JoinLink) -> list:
    """The grids and buildings a resident joining through ``link`` may choose as their
    home, in tree order (the link's own unit is the choice for "not listed")."""
    return [u for u in units.list_units(within=[link.unit_id]) if u.id != link.unit_id]


def _pending_join(phone: str) -> PhoneVerification | None:
    """The newest registration code sent to ``phone`` that is still live (not used, not
    expired): a registration waiting for its phone to be proved."""
    return db.session.scalar(
        sa.select(PhoneVerification)
        .where(
            PhoneVerification.phone == phone,
            PhoneVerification.purpose == "join",
            PhoneVerification.consumed_at.is_(None),
            PhoneVerification.expires_at > utcnow(),
        )
        .order_by(PhoneVerification.id.desc())
        .limit(1)
    )


@use_case
def start_registration(*, code: str, phone: str, name: str, unit_id: int | None = None) -> dict:
    """A resident registers through a join link: an SMS code is sent to the phone.

    No password yet: whoever proves the phone chooses it (``verify_phone``). The
    registration's name and unit ride on the code. While a registration for the phone
    waits for its code, a second join (a stranger holding the public poster) only sends
    that registration's code again and changes nothing. The answer is the same either
    way and names nobody: ``{"sent": True, "phone": masked}``.
    ``unit_id``: the resident's building or grid, at or below the link's unit (default:
    the link's unit). Raises NotFound for a dead link, InvalidInput for bad fields
    (HomeOutsideJoinLink for a home elsewhere), Conflict when the phone belongs to a
    verified member, RateLimited past five codes an hour.
    """
    link = get_join_link(code)
    home_id = link.unit_id if unit_id is None else unit_id
    if not units.is_within(home_id, link.unit_id):
        raise HomeOutsideJoinLink(
            "Choose a building or grid of this community.", errors={"unit_id": ["?"]}
        )
    phone = normalize_phone(phone)
    name = check_name(name)
    member = find_member_by_phone(phone)
    if member is not None and member.status != "unverified":
        raise PhoneTaken(
            "The phone %(phone)s is already registered.",
            params={"phone": phone},
        )
    pending = _pending_join(phone) if member is not None else None
    if pending is not None:
        send_phone_code(phone, purpose="join", name=pending.name, unit_id=pending.unit_id)
    else:
        if member is None:
            create_member(phone=phone, name=name, home_unit_id=home_id, status="unverified")
        send_phone_code(phone, purpose="join", name=name, unit_id=home_id)
    return {"sent": True, "phone": mask_phone(phone)}


@use_case
def resend_join_code(phone: str, *, address: str | None = None) -> None:
    """Send the registration of an unverified phone a new code, with the same details as
    the newest one (an attacker pressing "resend" changes nothing). The answer is the
    same for any phone. Raises InvalidInput for a malformed phone, RateLimited."""
    phone = normalize_phone(phone)
    if address:
        CODES_ADDRESS.take(address)
    member = find_member_by_phone(phone)
    if member is None or member.status != "unverified":
        return
    latest = db.session.scalar(
        sa.select(PhoneVerification)
        .where(PhoneVerification.phone == phone, PhoneVerification.purpose == "join")
        .order_by(PhoneVerification.id.desc())
        .limit(1)
    )
    if latest is None:
        return
    send_phone_code(phone, purpose="join", name=latest.name, unit_id=latest.unit_id)


@use_case
def verify_phone(*, phone: str, code: str, password: str, name: str | None = None) -> Member:
    """Check the SMS code and set the password: whoever proves the phone chooses it. The
    registration the code was sent for becomes the member's (its unit, and its name
    unless ``name`` gives another), and the member waits for an organizer's approval.

    Raises InvalidInput for a weak password or a bad name, (``code_invalid``) for a wrong
    code, (``code_expired``) for a stale one, RateLimited after five wrong guesses;
    Conflict (``phone_taken``) when the phone was proved already.
    """
    phone = normalize_phone(phone)
    # argon2 is slow: hashed before the first write, so it holds no lock
    password_hash = hash_password(check_password_strength(password, phone=phone))
    name = check_name(name) if name else None
    member = find_member_by_phone(phone)
    if member is None:
        raise CodeInvalid("No code was sent to this phone.")
    member = lock_member(member)
    if member.status != "unverified":
        raise PhoneTaken("The phone %(phone)s is already registered.", params={"phone": phone})
    registration = take_phone_code(phone, code, purpose="join")
    member.name = name or registration.name or member.name
    member.home_unit_id = registration.unit_id or member.home_unit_id
    member.password_hash = password_hash
    member.status = "pending"
    member.phone_verified_at = utcnow()
    db.session.flush()
    record_audit("member.verify_phone", actor=member, subject=member)
    return member


@use_case
def approve_member(member: Member, *, actor: Member) -> Member:
    """Make a pending member an active volunteer of their home unit.

    Raises Conflict unless pending.
    """
    member = lock_member(member)
    if member.status != "pending":
        raise NotPending(
            "%(name)s is not waiting for approval.",
            params={"name": shown_name(member)},
        )
    member.status = "active"
    grant_role(member, "volunteer", member.home_unit_id, granted_by=actor)
    record_audit("member.approve", actor=actor, subject=member)
    notify_membership_decided(member, approved=True)
    return member


@use_case
def reject_member(member: Member, *, actor: Member, reason: str) -> Member:
    """Turn down a pending registration, saying why.

    Raises Conflict (``not_pending``) unless pending, InvalidInput for a blank reason.
    """
    member = lock_member(member)
    if member.status != "pending":
        raise NotPending(
            "%(name)s is not waiting for approval.",
            params={"name": shown_name(member)},
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", errors={"reason": ["Required."]})
    member.status = "rejected"
    db.session.flush()
    record_audit("member.reject", actor=actor, subject=member, detail=reason)
    notify_membership_decided(member, approved=False, reason=reason)
    return member
