"""A member's personal redeem code: rotating, signed, short-lived (core/codes.py).

The phone shows ``r<member id>.<step>.<signature>`` as a QR code and ``<member id>-<six
digits>`` to type. A code is accepted in its own 30-second step and the next one; each
code redeems once (the redemptions table is unique on member and step). Forged, expired,
not yet valid and used codes are refused, each with its own error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from timebank.core import codes
from timebank.core.clock import utcnow
from timebank.core.throttle import REDEEM_CODES_MEMBER
from timebank.merchants.errors import RedeemCodeExpired, RedeemCodeInvalid, RedeemCodeNotYetValid

#: ``r<member id>.<step>.<sig>``, or typed ``<member id>-<6 digits>``
REDEEM = codes.declare_purpose("redeem", prefix="r", short_label="redeem_short")
#: a typed code older than its window is told apart from a wrong one this far back
EXPIRED_LOOKBACK_STEPS = 40


@dataclass(frozen=True)
class RedeemCode:
    """What the member's phone shows now."""

    member_id: int
    token: str
    short_code: str
    step: int
    expires_in: float


@dataclass(frozen=True)
class ReadCode:
    """A redeem code whose signature and step were proven."""

    member_id: int
    step: int
    typed: bool


def current_redeem_code(member_id: int, *, now: datetime | None = None) -> RedeemCode:
    """The member's redeem code now (the phone refreshes it as it rotates)."""
    now = now or utcnow()
    step = codes.step_of(now, REDEEM.step_seconds)
    return RedeemCode(
        member_id=member_id,
        token=codes.make_token(REDEEM, member_id, step),
        short_code=codes.make_short_code(REDEEM, member_id, step),
        step=step,
        expires_in=codes.seconds_left(REDEEM, step, now),
    )


def issue_redeem_code(member_id: int, *, now: datetime | None = None) -> RedeemCode:
    """The code to show a member now, counted against their throttle (RateLimited past
    it): the page and the API issue codes through this."""
    REDEEM_CODES_MEMBER.take(str(member_id))
    return current_redeem_code(member_id, now=now)


def _read_short(text: str, now: datetime) -> ReadCode:
    """Six digits carry no step: the current and previous steps are valid; an older
    one that matches is expired, anything else invalid."""
    try:
        signed = codes.read_short_code(REDEEM, text, now)
        return ReadCode(member_id=signed.subject, step=signed.step, typed=True)
    except codes.CodeInvalid:
        pass
    member_id = int(text.split("-", 1)[0])
    current = codes.step_of(now, REDEEM.step_seconds)
    for step in range(current - 2, current - 2 - EXPIRED_LOOKBACK_STEPS, -1):
        if codes.make_short_code(REDEEM, member_id, step) == text:
            raise RedeemCodeExpired()
    raise RedeemCodeInvalid()


def read_redeem_code(text: str | None, *, now: datetime | None = None) -> ReadCode:
    """The member and step of a scanned token or typed short code.

    Raises RedeemCodeInvalid (forged, garbled, another purpose's, wrong digits),
    RedeemCodeExpired (older than the step before now), RedeemCodeNotYetValid.
    """
    now = now or utcnow()
    text = (text or "").strip()[:300]
    if codes.is_short_code(text):
        return _read_short(text, now)
    try:
        signed = codes.read_token(text, REDEEM)
        codes.check_step(REDEEM, signed.step, now)
    except codes.CodeInvalid:
        raise RedeemCodeInvalid() from None
    except codes.CodeExpired:
        raise RedeemCodeExpired() from None
    except codes.CodeNotYetValid:
        raise RedeemCodeNotYetValid() from None
    return ReadCode(member_id=signed.subject, step=signed.step, typed=False)
