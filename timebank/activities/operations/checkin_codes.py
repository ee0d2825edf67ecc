"""The rotating codes of check-in: an activity's kiosk code and a member's badge.

Thin wrappers on core/codes.py, which makes and checks the signed codes; here they get
the errors the API and pages have always given (``token_invalid``, ``token_expired``,
``token_wrong_activity``) with the same words, and the proven time of a scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from timebank.activities.errors import TokenExpired, TokenInvalid, TokenWrongActivity
from timebank.activities.models import Activity
from timebank.activities.operations.approval import attendance_counts
from timebank.activities.operations.lookups import require_published
from timebank.core import codes
from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput
from timebank.core.qr import qr_svg
from timebank.core.urls import public_url
from timebank.people.models import Member

#: the code on an activity's kiosk: ``<activity id>.<step>.<sig>``, or typed ``<id>-<digits>``
KIOSK = codes.declare_purpose("kiosk", short_label="short")
#: a member's personal code, shown to organizer staff: ``m<member id>.<step>.<sig>``, or
#: typed ``<member id>-<digits>`` (the badge shows both: a phone's camera may be broken)
BADGE = codes.declare_purpose("badge", prefix="m", short_label="badge_short")
#: a code shown on the kiosk rotates every STEP_SECONDS
STEP_SECONDS = KIOSK.step_seconds
#: an offline scan may be uploaded this long after it was made
OFFLINE_MAX_AGE = timedelta(hours=24)


def step_of(moment: datetime) -> int:
    """The 30-second step ``moment`` falls in: floor(unix time / 30)."""
    return codes.step_of(moment, KIOSK.step_seconds)


def kiosk_token(activity_id: int, step: int) -> str:
    """The compact, URL-safe code of ``activity_id`` at ``step``: ``<id>.<step>.<sig>``."""
    return codes.make_token(KIOSK, activity_id, step)


def kiosk_short_code(activity_id: int, step: int) -> str:
    """The code to type when the camera fails: ``<activity id>-<6 digits>``."""
    return codes.make_short_code(KIOSK, activity_id, step)


def badge_token(member_id: int, step: int) -> str:
    """A member's personal rotating code: ``m<id>.<step>.<sig>``."""
    return codes.make_token(BADGE, member_id, step)


def checkin_url(token: str) -> str:
    return public_url(f"/checkin/{token}")


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
        "expires_in": codes.seconds_left(KIOSK, step, now),
    }


def kiosk_state(activity: Activity, *, now: datetime | None = None) -> dict:
    """What the kiosk screen shows: the current code, its QR code (SVG) and the live
    check-in counts. Raises ActivityCancelled for a cancelled activity."""
    code = current_code(activity, now=now)
    return {**code, "svg": qr_svg(code["url"]), **attendance_counts(activity.id)}


def current_badge(member: Member, *, now: datetime | None = None) -> dict:
    now = now or utcnow()
    step = codes.step_of(now, BADGE.step_seconds)
    return {
        "member_id": member.id,
        "token": badge_token(member.id, step),
        "short_code": codes.make_short_code(BADGE, member.id, step),
        "step": step,
        "expires_in": codes.seconds_left(BADGE, step, now),
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


def _check_step(purpose: codes.Purpose, step: int, at: datetime) -> None:
    """Accept the step of ``at`` and the one before.

    Raises TokenInvalid for a later step, TokenExpired for an older one.
    """
    try:
        codes.check_step(purpose, step, at)
    except codes.CodeNotYetValid:
        raise TokenInvalid(
            "This check-in code is not valid yet; check the phone's clock."
        ) from None
    except codes.CodeExpired:
        raise TokenExpired("This check-in code has expired; scan the screen again.") from None


def _proven_time(now: datetime, scanned_at: datetime | None) -> datetime:
    """When the scan happened: ``now``, or an offline scan's ``scanned_at``.

    Raises InvalidInput for a naive or future ``scanned_at``, TokenExpired for one older
    than OFFLINE_MAX_AGE.
    """
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


def _read_kiosk_code(code: str, at: datetime) -> codes.SignedCode:
    """The signed activity and step of a kiosk token or typed short code (the step of
    ``at`` or the one before). Raises TokenInvalid."""
    if codes.is_short_code(code):
        try:
            return codes.read_short_code(KIOSK, code, at)
        except codes.CodeInvalid:
            raise TokenInvalid(
                "This code is wrong or has expired; type the code on the screen."
            ) from None
    try:
        return codes.read_token(code, KIOSK)
    except codes.CodeInvalid:
        raise TokenInvalid("This check-in code is not valid.") from None


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
    signed = _read_kiosk_code(code, at)
    if expected_activity_id is not None and signed.subject != expected_activity_id:
        raise TokenWrongActivity("This code belongs to another activity.")
    _check_step(KIOSK, signed.step, at)
    return VerifiedCode(
        subject_id=signed.subject, step=signed.step, at=at, typed=codes.is_short_code(code)
    )


def verify_badge_code(code: str, *, now: datetime | None = None) -> VerifiedCode:
    """Check a member's badge code, scanned or typed (``<member id>-<digits>``, as the
    badge shows it); raises CheckinRejected like ``verify_kiosk_code``."""
    now = now or utcnow()
    code = (code or "").strip()
    if codes.is_short_code(code):
        try:
            signed = codes.read_short_code(BADGE, code, now)
        except codes.CodeInvalid:
            raise TokenInvalid(
                "This badge code is wrong or has expired; type the code the badge shows now."
            ) from None
        return VerifiedCode(subject_id=signed.subject, step=signed.step, at=now, typed=True)
    try:
        signed = codes.read_token(code, BADGE)
    except codes.CodeInvalid:
        raise TokenInvalid("This is not a member's badge code.") from None
    _check_step(BADGE, signed.step, now)
    return VerifiedCode(subject_id=signed.subject, step=signed.step, at=now)
