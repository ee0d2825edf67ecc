"""Login: a phone and password for a session, bearer tokens for the API."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.core.db import utcnow
from timebank.core.errors import InvalidInput
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
from timebank.people.operations.credentials import normalize_phone, password_matches
from timebank.people.operations.members import find_member_by_phone


def authenticate(phone: str, password: str) -> Member:
    """Return the active member with this phone and password.

    Raises AuthenticationRequired (``invalid_credentials``) for a wrong phone or
    password, and DomainError (``account_not_active``) for a pending or suspended one.
    """
    try:
        phone = normalize_phone(phone)
    except InvalidInput:
        raise InvalidCredentials("Wrong phone number or password.") from None
    member = find_member_by_phone(phone)
    if member is None or not password_matches(member.password_hash, password or ""):
        raise InvalidCredentials("Wrong phone number or password.")
    if member.status != "active":
        messages = {
            "unverified": "Your phone number is not verified yet.",
            "pending": "Your registration is waiting for an organizer's approval.",
            "rejected": "Your registration was not approved.",
            "suspended": "Your account is suspended.",
        }
        raise AccountNotActive(messages[member.status])
    return member


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(member: Member) -> tuple[str, ApiToken]:
    """A new bearer token for ``member``; the plain token is returned once, never stored."""
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


def revoke_token(token_id: int) -> None:
    """Stop the token from working (logout); revoking twice keeps the first time."""
    row = db.session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
