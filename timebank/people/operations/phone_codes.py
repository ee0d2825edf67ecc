"""One-time codes sent by SMS: they prove a phone for a registration (join) or for a
login without a password (a first login, or a new password).

A code carries what it was sent for; whoever brings it back gets exactly that. Guessing
is bounded in the database: each code takes five tries at most, counted by one
conditional UPDATE, so concurrent guesses cannot share a stale count.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale, gettext

from timebank.core.clock import utcnow
from timebank.core.errors import N_, RateLimited
from timebank.core.sms import load_sms_adapter
from timebank.core.uow import after_commit
from timebank.extensions import db
from timebank.people.errors import CodeExpired, CodeInvalid, WrongCode
from timebank.people.models import PhoneVerification

OTP_MAX_ATTEMPTS = 5
OTP_MAX_PER_HOUR = 5
#: the SMS, by purpose, in the language of the page that asked for it (Chinese from the
#: command line); the name shows whose registration a code confirms, so a stranger's
#: code shows another name
_SMS_TEXT = {
    "join": N_(
        "[Time bank] Your code is %(code)s, to join the time bank as %(name)s. "
        "It is valid for %(minutes)s minutes."
    ),
    "login": N_(
        "[Time bank] Your code is %(code)s, to log in to the time bank. "
        "It is valid for %(minutes)s minutes."
    ),
}


def _otp_digest(phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def send_phone_code(
    phone: str,
    *,
    purpose: str = "join",
    name: str | None = None,
    unit_id: int | None = None,
) -> PhoneVerification:
    """Send a 6-digit one-time code by SMS after the commit, carrying a registration's
    details (``purpose="join"``). Raises RateLimited past five codes an hour per phone."""
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
    row = PhoneVerification(
        phone=phone,
        purpose=purpose,
        code_hash=_otp_digest(phone, code),
        expires_at=now + ttl,
        name=name,
        unit_id=unit_id,
    )
    db.session.add(row)
    db.session.flush()
    adapter = load_sms_adapter(current_app)
    locale = (
        str(get_locale()) if has_request_context() else current_app.config["BABEL_DEFAULT_LOCALE"]
    )
    with force_locale(locale):
        message = gettext(_SMS_TEXT[purpose], code=code, name=name or "", minutes=ttl.seconds // 60)
    after_commit(db.session, lambda: adapter.send(phone, message))
    return row


def take_phone_code(phone: str, code: str, *, purpose: str) -> PhoneVerification:
    """The live code of ``purpose`` sent to ``phone`` that ``code`` matches, used up.

    Raises CodeInvalid when none was sent, CodeExpired when all have lapsed, RateLimited
    after five tries of the newest code, WrongCode for a wrong one (the try is kept).
    """
    now = utcnow()
    rows = list(
        db.session.scalars(
            sa.select(PhoneVerification)
            .where(
                PhoneVerification.phone == phone,
                PhoneVerification.purpose == purpose,
                PhoneVerification.consumed_at.is_(None),
            )
            .order_by(PhoneVerification.id.desc())
            .limit(OTP_MAX_PER_HOUR)
        )
    )
    if not rows:
        raise CodeInvalid("No code was sent to this phone.")
    live = [row for row in rows if row.expires_at > now]
    if not live:
        raise CodeExpired("The code has expired; ask for a new one.")
    table = PhoneVerification.__table__
    counted = db.session.execute(
        table.update()
        .where(table.c.id == live[0].id, table.c.attempts < OTP_MAX_ATTEMPTS)
        .values(attempts=table.c.attempts + 1)
        .returning(table.c.attempts)
    ).scalar()
    if counted is None:
        raise RateLimited("Too many wrong codes; ask for a new one.")
    digest = _otp_digest(phone, (code or "").strip())
    match = next((row for row in live if hmac.compare_digest(row.code_hash, digest)), None)
    if match is None:
        raise WrongCode("The code is wrong.", errors={"code": ["Wrong."]})
    match.consumed_at = now
    db.session.flush()
    return match
