"""Joining: a unit's join link, the SMS code that proves a phone, and an organizer's
approval or rejection of the registration."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.core.db import utcnow
from timebank.core.errors import InvalidInput, RateLimited
from timebank.core.sms import load_sms_adapter
from timebank.core.uow import after_commit
from timebank.extensions import db
from timebank.people.errors import (
    CodeExpired,
    CodeInvalid,
    JoinLinkInvalid,
    JoinLinkMissing,
    NotPending,
    PhoneTaken,
    WrongCode,
)
from timebank.people.models import JoinLink, Member, PhoneVerification
from timebank.people.operations.audit import record_audit
from timebank.people.operations.credentials import (
    check_password_strength,
    hash_password,
    normalize_phone,
)
from timebank.people.operations.members import create_member, find_member_by_phone, grant_role
from timebank.units import operations as units

OTP_MAX_ATTEMPTS = 5
OTP_MAX_PER_HOUR = 5


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
    return f"{current_app.config['TIMEBANK_BASE_URL']}/join/{link.code}"


def _otp_digest(phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def send_phone_code(phone: str) -> None:
    """Send a 6-digit one-time code by SMS (after the commit); at most 5 an hour."""
    now = utcnow()
    recent = db.session.scalar(
        sa.select(sa.func.count(PhoneVerification.id)).where(
            PhoneVerification.phone == phone,
            PhoneVerification.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= OTP_MAX_PER_HOUR:
        raise RateLimited("Too many codes sent to this phone; try again in an hour.")
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = timedelta(minutes=current_app.config["TIMEBANK_OTP_TTL_MINUTES"])
    db.session.add(
        PhoneVerification(phone=phone, code_hash=_otp_digest(phone, code), expires_at=now + ttl)
    )
    db.session.flush()
    adapter = load_sms_adapter(current_app)
    message = f"[timebank] 验证码 {code}, {ttl.seconds // 60} 分钟内有效 (verification code)."
    after_commit(db.session, lambda: adapter.send(phone, message))


def start_registration(*, code: str, phone: str, name: str, password: str) -> Member:
    """A resident registers through a join link: an unverified member, and an SMS code.

    Raises NotFound for a dead link, InvalidInput for bad fields, Conflict when the
    phone is registered and already verified (an unverified one may start again).
    """
    link = get_join_link(code)
    phone = normalize_phone(phone)
    check_password_strength(password)
    member = find_member_by_phone(phone)
    if member is not None and member.status != "unverified":
        raise PhoneTaken(
            "The phone %(phone)s is already registered.",
            params={"phone": phone},
        )
    if member is None:
        member = create_member(
            phone=phone,
            name=name,
            home_unit_id=link.unit_id,
            password=password,
            status="unverified",
        )
    else:
        member.name = (name or "").strip() or member.name
        member.home_unit_id = link.unit_id
        member.password_hash = hash_password(password)
    send_phone_code(phone)
    return member


def verify_phone(*, phone: str, code: str) -> Member:
    """Check the SMS code; the member becomes pending (awaiting an organizer's approval).

    Raises InvalidInput (``code_invalid``) for a wrong code, (``code_expired``) for a
    stale one, RateLimited after five wrong guesses.
    """
    phone = normalize_phone(phone)
    member = find_member_by_phone(phone)
    verification = db.session.scalar(
        sa.select(PhoneVerification)
        .where(PhoneVerification.phone == phone, PhoneVerification.consumed_at.is_(None))
        .order_by(PhoneVerification.id.desc())
        .limit(1)
    )
    if member is None or verification is None:
        raise CodeInvalid("No code was sent to this phone.")
    if verification.attempts >= OTP_MAX_ATTEMPTS:
        raise RateLimited("Too many wrong codes; ask for a new one.")
    if verification.expires_at <= utcnow():
        raise CodeExpired("The code has expired; ask for a new one.")
    if not hmac.compare_digest(verification.code_hash, _otp_digest(phone, (code or "").strip())):
        verification.attempts += 1
        db.session.flush()
        raise WrongCode("The code is wrong.", errors={"code": ["Wrong."]})
    verification.consumed_at = utcnow()
    if member.status == "unverified":
        member.status = "pending"
    member.phone_verified_at = utcnow()
    db.session.flush()
    record_audit("member.verify_phone", actor=member, subject=member)
    return member


def approve_member(member: Member, *, actor: Member) -> Member:
    """Make a pending member an active volunteer of their home unit.

    Raises Conflict unless pending.
    """
    if member.status != "pending":
        raise NotPending(
            "%(name)s is not waiting for approval.",
            params={"name": member.name},
        )
    member.status = "active"
    grant_role(member, "volunteer", member.home_unit_id, granted_by=actor)
    record_audit("member.approve", actor=actor, subject=member)
    return member


def reject_member(member: Member, *, actor: Member, reason: str) -> Member:
    """Turn down a pending registration, saying why.

    Raises Conflict (``not_pending``) unless pending, InvalidInput for a blank reason.
    """
    if member.status != "pending":
        raise NotPending(
            "%(name)s is not waiting for approval.",
            params={"name": member.name},
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", errors={"reason": ["Required."]})
    member.status = "rejected"
    db.session.flush()
    record_audit("member.reject", actor=actor, subject=member, detail=reason)
    return member
