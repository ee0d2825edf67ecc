"""Credentials: phone numbers in one canonical form, password strength and hashing."""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from timebank.core.errors import InvalidInput
from timebank.people.errors import InvalidPhone, WeakPassword

#: ASCII digits only: \d would also take "１３７..." and other scripts' digits
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def _password_hasher() -> PasswordHasher:
    if current_app.config.get("TESTING"):
        # Tests create hundreds of members; production keeps argon2id's defaults.
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``, for Member.password_hash."""
    return _password_hasher().hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches the hash; False for no hash or a damaged one."""
    if not password_hash:
        return False
    try:
        return _password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_phone(raw: str | None) -> str:
    """Strip spaces, dashes and a +86 prefix; raise InvalidInput unless 11 mobile digits."""
    # NFKC turns full-width digits (a Chinese input method's) into ASCII ones
    phone = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", str(raw or "")))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not _PHONE.match(phone):
        raise InvalidPhone(
            "The phone number must be an 11-digit mainland mobile number starting with 1.",
            errors={"phone": ["Not a valid mobile number."]},
        )
    return phone


@functools.cache
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).resolve().parent.parent / "common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _is_run(password: str) -> bool:
    """One character repeated, or a run of digits or letters up or down (12345678)."""
    if len(set(password)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(password, password[1:], strict=False)}
    return steps in ({1}, {-1})


def check_password_strength(password: str | None, *, phone: str | None = None) -> str:
    """Return ``password``; WeakPassword under 8 characters, for one of the most common
    passwords, a run such as 12345678 or 88888888, or the member's own phone number;
    InvalidInput over 128 characters."""
    if not password or len(password) < 8:
        raise WeakPassword(
            "The password must have at least 8 characters.",
            errors={"password": ["At least 8 characters."]},
        )
    if len(password) > 128:
        raise InvalidInput("The password is too long.", errors={"password": ["At most 128."]})
    lowered = password.lower()
    if lowered in _common_passwords() or _is_run(lowered) or (phone and phone in password):
        raise WeakPassword(
            "This password is too easy to guess; choose another.",
            errors={"password": ["Too easy to guess."]},
        )
    return password


def dummy_hash() -> str:
    """A hash to check a password against when the phone is unknown, so an unknown phone
    takes as long as a known one (the answer's time must not tell who is registered)."""
    key = "TESTING" if current_app.config.get("TESTING") else "production"
    return _dummy_hashes(key)


@functools.cache
def _dummy_hashes(_kind: str) -> str:
    return hash_password(secrets.token_urlsafe(16))
