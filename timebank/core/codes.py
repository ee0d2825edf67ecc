"""Rotating signed codes: a purpose, a subject and a time step, signed with the secret key.

A code names one subject (an activity's kiosk, a member's badge, later a redemption or a
certificate) for one step of time (30 seconds by default). On the wire a token is
``<prefix><subject>.<step>.<signature>``: the prefix is a letter of the purpose (or
nothing), the signature 16 URL-safe characters of an HMAC over ``<purpose>:<subject>:<step>``.
A purpose may also offer a six-digit short code to type when a camera fails:
``<subject>-<digits>``.

The purpose's name is inside the signed message, so a code made for one purpose never
verifies for another, whatever its prefix says. The step window is the caller's clock:
every check takes the moment (``at``) explicitly, so step boundaries are tested exactly.

Core knows no domain: callers declare their purposes with ``declare_purpose`` and turn
the errors below into their own (e.g. activities' ``token_invalid``, ``token_expired``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from timebank.core.errors import N_, DomainError

#: the default length of a step; a purpose may choose its own
STEP_SECONDS = 30

_TOKEN = re.compile(r"^([a-z]?)(\d{1,10})\.(\d{1,12})\.([A-Za-z0-9_-]{16})$")
_SHORT = re.compile(r"^(\d{1,10})-(\d{6})$")
_LABEL = re.compile(r"^[a-z][a-z_-]{0,30}$")


class CodeRejected(DomainError):
    """A rotating code was refused; callers usually raise their own error instead."""

    code = "code_rejected"


class CodeInvalid(CodeRejected):
    """Garbled, forged, of another purpose, or (short codes) wrong or out of the window."""

    code = "code_invalid"
    default_message = N_("This code is not valid.")


class CodeNotYetValid(CodeRejected):
    """The step lies in the future of the moment checked: a clock is wrong."""

    code = "code_not_yet_valid"
    default_message = N_("This code is not valid yet.")


class CodeExpired(CodeRejected):
    """The step is older than the one before the moment checked."""

    code = "code_expired"
    status = 409
    default_message = N_("This code has expired.")


@dataclass(frozen=True)
class Purpose:
    """What a code is for. Declare one with ``declare_purpose``."""

    #: signed into every code of the purpose: what keeps purposes apart
    name: str
    #: the letter before the subject id on the wire ("" for none); tells purposes apart cheaply
    prefix: str = ""
    #: how long one step lasts
    step_seconds: int = STEP_SECONDS
    #: signed into the purpose's short codes; None: the purpose has no short code
    short_label: str | None = None


@dataclass(frozen=True)
class SignedCode:
    """A code whose signature is good: the purpose, subject and step it names."""

    purpose: Purpose
    subject: int
    step: int


_PURPOSES: dict[str, Purpose] = {}


def declare_purpose(
    name: str, *, prefix: str = "", step_seconds: int = STEP_SECONDS, short_label: str | None = None
) -> Purpose:
    """Declare a purpose once for the whole deployment (declaring the same one again
    returns it). Raises ValueError for a malformed one, or when its name, prefix or short
    label is already another purpose's: two purposes signing the same words would accept
    each other's codes."""
    purpose = Purpose(name, prefix, step_seconds, short_label)
    if not _LABEL.match(name) or (short_label is not None and not _LABEL.match(short_label)):
        raise ValueError(f"purpose names and short labels are lowercase words: {purpose}")
    if short_label == name:
        raise ValueError(f"a short label signs other words than its tokens: {purpose}")
    if not re.fullmatch(r"[a-z]?", prefix) or step_seconds < 1:
        raise ValueError(f"a prefix is one lowercase letter or none, a step 1 s or more: {purpose}")
    if _PURPOSES.get(name) == purpose:
        return _PURPOSES[name]
    for other in _PURPOSES.values():
        signed_words = {other.name, other.short_label} - {None}
        if name in signed_words or short_label in signed_words or prefix == other.prefix:
            raise ValueError(f"{purpose} collides with {other}")
    _PURPOSES[name] = purpose
    return purpose


def step_of(moment: datetime, step_seconds: int = STEP_SECONDS) -> int:
    """The step ``moment`` falls in: floor(unix time / step_seconds)."""
    return math.floor(moment.timestamp()) // step_seconds


def seconds_left(purpose: Purpose, step: int, now: datetime) -> float:
    """How long after ``now`` the code of ``step`` stops being the current one."""
    return (step + 1) * purpose.step_seconds - now.timestamp()


def _key() -> bytes:
    # A key of its own, so a code can never be replayed as a session or CSRF value. The
    # label predates purposes other than check-in; changing it would void every code
    # scanned offline and not yet uploaded.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"timebank.checkin-token.v1", hashlib.sha256).digest()


def _mac(message: str) -> bytes:
    return hmac.new(_key(), message.encode(), hashlib.sha256).digest()


def _signature(purpose: Purpose, subject: int, step: int) -> str:
    return base64.urlsafe_b64encode(_mac(f"{purpose.name}:{subject}:{step}")[:12]).decode()


def make_token(purpose: Purpose, subject: int, step: int) -> str:
    """The compact, URL-safe code of ``subject`` at ``step``: ``<prefix><id>.<step>.<sig>``."""
    return f"{purpose.prefix}{subject}.{step}.{_signature(purpose, subject, step)}"


def make_short_code(purpose: Purpose, subject: int, step: int) -> str:
    """The code to type: ``<subject>-<6 digits>``. ValueError if the purpose has none."""
    if purpose.short_label is None:
        raise ValueError(f"{purpose.name} codes have no short form")
    digits = int.from_bytes(_mac(f"{purpose.short_label}:{subject}:{step}")[:4], "big") % 1_000_000
    return f"{subject}-{digits:06d}"


def read_token(text: str, *purposes: Purpose) -> SignedCode:
    """The purpose (one of ``purposes``), subject and step a token names, once its
    signature is proven. The step is not checked: see ``check_step``.

    Raises CodeInvalid for a garbled or forged token, or one of another purpose.
    """
    match = _TOKEN.match(text)
    if not match:
        raise CodeInvalid()
    prefix, subject, step = match.group(1), int(match.group(2)), int(match.group(3))
    purpose = next((p for p in purposes if p.prefix == prefix), None)
    if purpose is None:
        raise CodeInvalid()
    if not hmac.compare_digest(match.group(4), _signature(purpose, subject, step)):
        raise CodeInvalid()
    return SignedCode(purpose=purpose, subject=subject, step=step)


def read_short_code(purpose: Purpose, text: str, at: datetime) -> SignedCode:
    """The subject and step of a typed short code made in the step of ``at`` or the one
    before. Six digits carry no step, so only those two are tried.

    Raises CodeInvalid for a malformed code, a wrong one or an older one (they look alike).
    """
    match = _SHORT.match(text)
    if not match or purpose.short_label is None:
        raise CodeInvalid()
    subject = int(match.group(1))
    current = step_of(at, purpose.step_seconds)
    for step in (current, current - 1):
        if hmac.compare_digest(make_short_code(purpose, subject, step), text):
            return SignedCode(purpose=purpose, subject=subject, step=step)
    raise CodeInvalid()


def is_short_code(text: str) -> bool:
    """``text`` has the shape of a short code (its digits are not checked)."""
    return bool(_SHORT.match(text))


def check_step(purpose: Purpose, step: int, at: datetime) -> None:
    """Accept the step of ``at`` and the one before.

    Raises CodeNotYetValid for a later step, CodeExpired for an older one.
    """
    current = step_of(at, purpose.step_seconds)
    if step > current:
        raise CodeNotYetValid()
    if step < current - 1:
        raise CodeExpired()
