"""The rotating codes of check-in: an activity's kiosk code and a member's badge."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from timebank.activities.errors import TokenExpired, TokenInvalid, TokenWrongActivity
from timebank.activities.models import Activity
from timebank.activities.operations.approval import attendance_counts
from timebank.activities.operations.lookups import require_published
from timebank.core.db import utcnow
from timebank.core.errors import InvalidInput
from timebank.core.qr import qr_svg
from timebank.people.models import Member

#: a code shown on the kiosk rotates every STEP_SECONDS
STEP_SECONDS = 30
#: an offline scan may be uploaded this long after it was made
OFFLINE_MAX_AGE = timedelta(hours=24)

_TOKEN = re.compile(r"^(m?)(\d{1,10})\.(\d{1,12})\.([A-Za-z0-9_-]{16})$")
_SHORT = re.compile(r"^(\d{1,10})-(\d{6})$")


def step_of(moment: datetime) -> int:
    """The 30-second step ``moment`` falls in: floor(unix time / 30)."""
    return math.floor(moment.timestamp()) // STEP_SECONDS


def _key() -> bytes:
    # A key of its own, so a check-in code can never be replayed as a session or CSRF value.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"timebank.checkin-token.v1", hashlib.sha256).digest()


def _mac(message: str) -> bytes:
    return hmac.new(_key(), message.encode(), hashlib.sha256).digest()


def _sig(message: str) -> str:
    return base64.urlsafe_b64encode(_mac(message)[:12]).decode()


def kiosk_token(activity_id: int, step: int) -> str:
    """The compact, URL-safe code of ``activity_id`` at ``step``: ``<id>.<step>.<sig>``."""
    return f"{activity_id}.{step}.{_sig(f'kiosk:{activity_id}:{step}')}"


def kiosk_short_code(activity_id: int, step: int) -> str:
    """The code to type when the camera fails: ``<activity id>-<6 digits>``."""
    digits = int.from_bytes(_mac(f"short:{activity_id}:{step}")[:4], "big") % 1_000_000
    return f"{activity_id}-{digits:06d}"


def badge_token(member_id: int, step: int) -> str:
    """A member's personal rotating code: ``m<id>.<step>.<sig>``."""
    return f"m{member_id}.{step}.{_sig(f'badge:{member_id}:{step}')}"


def checkin_url(token: str) -> str:
    return f"{current_app.config['TIMEBANK_BASE_URL']}/checkin/{token}"


def current_code(activity: Activity, *, now: datetime | None = None) -> dict:
    """The kiosk's code now: token, short code, URL and seconds until it rotates.

    Raises ActivityCancelled for a cancelled activity: its kiosk shows no code.
    """
    require_published(activity)
    now = now or utcnow()
    step = step_of(now)
    token = kiosk_token(activity.id, step)
    return {
        "activity_id": activity.id,
        "token": token,
        "short_code": kiosk_short_code(activity.id, step),
        "url": checkin_url(token),
        "step": step,
        "expires_in": (step + 1) * STEP_SECONDS - now.timestamp(),
    }


def kiosk_state(activity: Activity, *, now: datetime | None = None) -> dict:
    """What the kiosk screen shows: the current code, its QR code (SVG) and the live
    check-in counts. Raises ActivityCancelled for a cancelled activity."""
    code = current_code(activity, now=now)
    return {**code, "svg": qr_svg(code["url"]), **attendance_counts(activity.id)}


def current_badge(member: Member, *, now: datetime | None = None) -> dict:
    now = now or utcnow()
    step = step_of(now)
    return {
        "member_id": member.id,
        "token": badge_token(member.id, step),
        "step": step,
        "expires_in": (step + 1) * STEP_SECONDS - now.timestamp(),
    }


@dataclass(frozen=True)
class VerifiedCode:
    #: the activity (kiosk) or member (badge) the code names
    subject_id: int
    #: the code's step
    step: int
    #: the proven time of the scan
    at: datetime
    #: True for a typed short code: six digits can be guessed, so it is a risk signal
    typed: bool = False


def _check_step(step: int, at: datetime) -> None:
    """Accept the step of ``at`` and the one before; older: expired; later: invalid."""
    current = step_of(at)
    if step > current:
        raise TokenInvalid("This check-in code is not valid yet; check the phone's clock.")
    if step < current - 1:
        raise TokenExpired("This check-in code has expired; scan the screen again.")


def _proven_time(now: datetime, scanned_at: datetime | None) -> datetime:
    if scanned_at is None:
        return now
    if scanned_at.tzinfo is None:
        raise InvalidInput("scanned_at needs a time zone.", errors={"scanned_at": ["?"]})
    if scanned_at > now + timedelta(seconds=STEP_SECONDS):
        raise InvalidInput(
            "scanned_at lies in the future.",
            errors={"scanned_at": ["In the future."]},
        )
    if scanned_at < now - OFFLINE_MAX_AGE:
        raise TokenExpired("This scan is more than 24 hours old and cannot be accepted.")
    return min(scanned_at, now)


def token_from_scan(text: str | None) -> str:
    """The code in what a camera read or a person typed: a whole check-in URL, or the
    token or short code itself."""
    code = (text or "").strip()[:300]
    if "/checkin/" in code:
        code = code.rsplit("/checkin/", 1)[1].split("?")[0]
    return code


def verify_kiosk_code(
    code: str,
    *,
    now: datetime | None = None,
    scanned_at: datetime | None = None,
    expected_activity_id: int | None = None,
) -> VerifiedCode:
    """Check a kiosk token (or short code): signature, activity, then step.

    The step must be that of the proven time (``scanned_at`` for an offline scan, else
    ``now``) or the one before. Raises CheckinRejected: ``token_invalid`` (forged,
    garbled, from the future), ``token_wrong_activity``, ``token_expired``.
    """
    now = now or utcnow()
    at = _proven_time(now, scanned_at)
    code = token_from_scan(code)
    match = _TOKEN.match(code)
    short = _SHORT.match(code)
    if match and not match.group(1):
        activity_id, step = int(match.group(2)), int(match.group(3))
        if not hmac.compare_digest(match.group(4), _sig(f"kiosk:{activity_id}:{step}")):
            raise TokenInvalid("This check-in code is not valid.")
    elif short:
        activity_id = int(short.group(1))
        current = step_of(at)
        step = next(
            (
                s
                for s in (current, current - 1)
                if hmac.compare_digest(kiosk_short_code(activity_id, s), code)
            ),
            None,
        )
        if step is None:
            raise TokenInvalid("This code is wrong or has expired; type the code on the screen.")
    else:
        raise TokenInvalid("This check-in code is not valid.")
    if expected_activity_id is not None and activity_id != expected_activity_id:
        raise TokenWrongActivity("This code belongs to another activity.")
    _check_step(step, at)
    return VerifiedCode(subject_id=activity_id, step=step, at=at, typed=bool(short))


def verify_badge_code(code: str, *, now: datetime | None = None) -> VerifiedCode:
    """Check a member's badge code; raises CheckinRejected like ``verify_kiosk_code``."""
    now = now or utcnow()
    match = _TOKEN.match((code or "").strip())
    if not match or match.group(1) != "m":
        raise TokenInvalid("This is not a member's badge code.")
    member_id, step = int(match.group(2)), int(match.group(3))
    if not hmac.compare_digest(match.group(4), _sig(f"badge:{member_id}:{step}")):
        raise TokenInvalid("This is not a member's badge code.")
    _check_step(step, now)
    return VerifiedCode(subject_id=member_id, step=step, at=now)
