"""Login: a phone and password (or an SMS code) for a session, bearer tokens for the API,
and ending every session at once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.core.audit import AuditEvent
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError, InvalidInput
from timebank.core.throttle import CODES_ADDRESS, LOGIN_ADDRESS, LOGIN_PHONE
from timebank.core.uow import read_phase
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.errors import (
    AccountNotActive,
    InvalidCredentials,
    TokenAccountNotActive,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from timebank.people.models import ApiToken, Member
from timebank.people.operations.audit import record_audit
from timebank.people.operations.credentials import (
    check_password_strength,
    dummy_hash,
    hash_password,
    normalize_phone,
    password_matches,
)
from timebank.people.operations.members import find_member_by_phone, lock_member
from timebank.people.operations.phone_codes import send_phone_code, take_phone_code


def _check_status(member: Member) -> None:
    """AccountNotActive, in words the member understands, unless they may log in."""
    if member.status == "active":
        return
    if member.status == "unverified":
        raise AccountNotActive("Your phone number is not verified yet.")
    if member.status == "pending":
        raise AccountNotActive("Your registration is waiting for an organizer's approval.")
    if member.status == "rejected":
        reason = rejection_reason(member)
        if reason:
            raise AccountNotActive(
                "Your registration was not approved: %(reason)s", params={"reason": reason}
            )
        raise AccountNotActive("Your registration was not approved.")
    if member.status == "removed":
        raise AccountNotActive("This account was removed.")
    raise AccountNotActive("Your account is suspended.")


def _throttled(phone: str, address: str | None) -> None:
    if address:
        LOGIN_ADDRESS.check(address)
    LOGIN_PHONE.check(phone)


def _failed(phone: str, address: str | None) -> None:
    if address:
        LOGIN_ADDRESS.count(address)
    LOGIN_PHONE.count(phone)


@use_case
def authenticate(phone: str, password: str, *, address: str | None = None) -> Member:
    """Return the active member with this phone and password.

    Wrong tries are counted per phone and per address (``address``: the client's IP):
    past the limits, RateLimited with Retry-After. The hash is checked outside any
    transaction (a login flood takes no write lock), and an unknown phone costs the same
    as a known one. Raises AuthenticationRequired (``invalid_credentials``) for a wrong
    phone or password, AccountNotActive (403) for a pending, rejected or suspended one.
    """
    try:
        phone = normalize_phone(phone)
    except InvalidInput:
        if address:
            LOGIN_ADDRESS.count(address)
        raise InvalidCredentials("Wrong phone number or password.") from None
    _throttled(phone, address)
    with read_phase():
        member = find_member_by_phone(phone)
    stored = member.password_hash if member is not None else None
    if not password_matches(stored or dummy_hash(), password or "") or not stored:
        _failed(phone, address)
        raise InvalidCredentials("Wrong phone number or password.")
    LOGIN_PHONE.reset(phone)
    _check_status(member)
    return member


@use_case
def send_login_code(phone: str, *, address: str | None = None) -> None:
    """Text a login code to an active member's phone: a first login, or a new password.

    The answer is the same whether the phone is registered or not. Raises InvalidInput
    for a malformed phone, RateLimited past the limits per phone and per address.
    """
    phone = normalize_phone(phone)
    if address:
        CODES_ADDRESS.take(address)
    member = find_member_by_phone(phone)
    if member is not None and member.status == "active":
        send_phone_code(phone, purpose="login")


@use_case
def login_with_code(
    phone: str, code: str, *, new_password: str | None = None, address: str | None = None
) -> Member:
    """The member whose phone the login code proves; with ``new_password``, it becomes
    their password and every other session and token ends (a reset).

    Raises InvalidCredentials for an unknown phone, the code's own errors (wrong,
    expired, too many tries), WeakPassword, RateLimited.
    """
    phone = normalize_phone(phone)
    _throttled(phone, address)
    new_hash = None
    if new_password is not None:
        # argon2 is slow: hashed before the code is taken (a write), so it holds no lock
        new_hash = hash_password(check_password_strength(new_password, phone=phone))
    member = find_member_by_phone(phone)
    if member is None or member.status != "active":
        _failed(phone, address)
        raise InvalidCredentials("Wrong phone number or code.")
    try:
        take_phone_code(phone, code, purpose="login")
    except DomainError:
        _failed(phone, address)
        raise
    LOGIN_PHONE.reset(phone)
    if new_hash is not None:
        member.password_hash = new_hash
        end_all_sessions(member)
    return member


@use_case
def change_password(member: Member, *, current: str | None, new: str) -> None:
    """Set a new password; every other session and token ends. A member with a password
    proves it first (``current``); one who has none yet (an imported member who logs in by
    SMS code) sets a first one without. Whether there is one is asked again on the
    member's locked row, so a password set meanwhile (another device) is never replaced
    unproved. Raises InvalidCredentials for a wrong current password, WeakPassword."""
    seen = member.password_hash
    if seen is not None and not password_matches(seen, current or ""):
        raise InvalidCredentials("The current password is wrong.")
    # argon2 is slow: hashed before the member's row is locked
    new_hash = hash_password(check_password_strength(new, phone=member.phone))
    member = lock_member(member)
    if member.password_hash != seen:
        raise InvalidCredentials("Your password was changed meanwhile; try again.")
    member.password_hash = new_hash
    end_all_sessions(member)


def has_password(member: Member) -> bool:
    """Whether the member has a password to log in with (an imported member, or one whose
    account was wiped, has none until they set one)."""
    return member.password_hash is not None


@use_case
def end_all_sessions(member: Member) -> None:
    """Log the member out everywhere: every page session ends (their epoch moves on) and
    every bearer token is revoked."""
    member.session_epoch = (member.session_epoch or 0) + 1
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.flush()
    record_audit("member.sessions_ended", actor=member, subject=member)


def rejection_reason(member: Member) -> str | None:
    """Why the member's registration was turned down, as the organizer wrote it."""
    return db.session.scalar(
        sa.select(AuditEvent.detail)
        .where(AuditEvent.subject_member_id == member.id, AuditEvent.action == "member.reject")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@use_case
def issue_token(member: Member) -> tuple[str, ApiToken]:
    """A new bearer token for ``member``; the plain token is returned once, never stored.

    The login was checked on the member as read before the write lock (argon2 holds no
    lock); the token is written on the member's locked row, and only if nothing that
    ends sessions (a new password, "log out everywhere", a suspension) happened in
    between: else InvalidCredentials. So a log-out-everywhere either sees the token and
    revokes it, or the token is refused."""
    seen = (member.session_epoch, member.password_hash)
    member = lock_member(member)
    if (member.session_epoch, member.password_hash) != seen or not member.is_active:
        raise InvalidCredentials("Your sign-in changed meanwhile; log in again.")
    token = secrets.token_urlsafe(32)
    ttl = timedelta(hours=current_app.config["TIMEBANK_TOKEN_TTL_HOURS"])
    row = ApiToken(member_id=member.id, token_hash=_token_digest(token), expires_at=utcnow() + ttl)
    db.session.add(row)
    db.session.flush()
    return token, row


#: the member and their token's state in one query: every API request asks it first
_MEMBER_BY_TOKEN = (
    sa.select(Member, ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at)
    .join(ApiToken, ApiToken.member_id == Member.id)
    .where(ApiToken.token_hash == sa.bindparam("digest"))
)


def member_for_token(token: str) -> tuple[Member, int]:
    """The member a bearer token names, and the token's id.

    Raises AuthenticationRequired (``token_invalid``, ``token_revoked``,
    ``token_expired``, ``account_not_active``).
    """
    found = db.session.execute(_MEMBER_BY_TOKEN, {"digest": _token_digest(token)}).first()
    if found is None:
        raise TokenInvalid("The token is not valid.")
    member, token_id, revoked_at, expires_at = found
    if revoked_at is not None:
        raise TokenRevoked("The token was revoked.")
    if expires_at <= utcnow():
        raise TokenExpired("The token has expired; log in again.")
    if not member.is_active:
        raise TokenAccountNotActive("The account is not active.")
    return member, token_id


@use_case
def revoke_token(token_id: int) -> None:
    """Stop the token from working (logout); revoking twice keeps the first time."""
    row = db.session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
