"""Activities: publish, sign up, rotating check-in codes, scans, hours, approval, party report.

Every function that depends on the time takes ``now`` (default: the server clock), so
step boundaries and windows are tested exactly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from timebank.activities.errors import (
    ActivityCancelled,
    ActivityFull,
    ActivityNotFound,
    ActivityNotOver,
    ActivityOver,
    AlreadyApproved,
    AttendanceNotFound,
    AttendanceRejected,
    CheckoutMissing,
    InvalidActivity,
    MemberAmbiguous,
    NotPartyMember,
    NotSignedUp,
    OutsideWindow,
    SignupRequired,
    TokenExpired,
    TokenInvalid,
    TokenWrongActivity,
)
from timebank.activities.models import (
    ACTIVITY_KINDS,
    CAPACITY,
    CHECKIN_MODES,
    DESCRIPTION_MAX,
    LATITUDE,
    LONGITUDE,
    MAX_DURATION,
    POINTS,
    RADIUS_M,
    TITLE_MAX,
    Activity,
    Attendance,
    CheckIn,
    Signup,
)
from timebank.core import access
from timebank.core.access import Target
from timebank.core.db import utcnow
from timebank.core.errors import FourEyes, InvalidInput
from timebank.core.qr import qr_svg
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.errors import MemberNotFound
from timebank.people.models import Member, PartyProfile
from timebank.units import operations as units
from timebank.units.models import UnitClosure

#: a code shown on the kiosk rotates every STEP_SECONDS
STEP_SECONDS = 30
#: volunteers may check in this long before the window opens (hours still count from the start)
CHECKIN_OPENS_BEFORE = timedelta(minutes=30)
#: check-out is accepted this long after the window closes (hours still stop at the end)
CHECKOUT_CLOSES_AFTER = timedelta(hours=2)
#: a second scan within this time of the check-in is a replay, not a check-out
MIN_CHECKOUT_GAP = timedelta(minutes=2)
#: an offline scan may be uploaded this long after it was made
OFFLINE_MAX_AGE = timedelta(hours=24)
#: how many attendances one approval call may decide
MAX_BULK = 200


# ---------------------------------------------------------------- categories and lookups


def categories() -> tuple[str, ...]:
    """The category codes this deployment offers (TIMEBANK_ACTIVITY_CATEGORIES)."""
    return tuple(current_app.config["TIMEBANK_ACTIVITY_CATEGORIES"])


def get_activity(activity_id: int) -> Activity:
    """Return the activity or raise NotFound."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound("Activity %(id)s does not exist.", params={"id": activity_id})
    return activity


def activity_target(activity_id: int) -> Target:
    """What an action on an activity is done to: its unit. ActivityNotFound if none."""
    return Target(unit=get_activity(activity_id).unit_id)


def _lock_activity(activity_id: int) -> Activity:
    """The activity row, locked FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already serialises writers)."""
    activity = db.session.scalar(
        sa.select(Activity)
        .where(Activity.id == activity_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if activity is None:
        raise ActivityNotFound("Activity %(id)s does not exist.", params={"id": activity_id})
    return activity


def nearby_unit_ids_select(member: Member) -> sa.Select:
    """Units whose activities a member's lists show: their home unit's line up to the
    street, everything below their home unit, and every subtree they organize.

    Lists only: any active member may open, join and check in to any activity (walk-ins
    from other communities are welcome, as the 爱心+ services are).
    """
    up = sa.select(UnitClosure.ancestor_id).where(UnitClosure.descendant_id == member.home_unit_id)
    down = sa.select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == member.home_unit_id
    )
    roots = access.scope_roots(member, "activities.manage")
    if not roots:
        return sa.union(up, down)
    organized = sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id.in_(roots))
    return sa.union(up, down, organized)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in the deployment's time zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def activities_select(
    member: Member,
    *,
    unit_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category: str | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> sa.Select:
    """Activities ``member`` may see, soonest first, filtered.

    ``unit_id`` limits to that unit's subtree; dates are local days, inclusive.
    """
    query = sa.select(Activity).order_by(Activity.starts_at, Activity.id)
    if not access.is_admin(member):
        query = query.where(Activity.unit_id.in_(nearby_unit_ids_select(member)))
    if unit_id is not None:
        query = query.where(Activity.unit_id.in_(units.subtree_ids_select(unit_id)))
    if date_from is not None:
        query = query.where(Activity.ends_at >= local_day_start(date_from))
    if date_to is not None:
        query = query.where(Activity.starts_at < local_day_start(date_to + timedelta(days=1)))
    if category is not None:
        query = query.where(Activity.category == category)
    if kind is not None:
        query = query.where(Activity.kind == kind)
    if status is not None:
        query = query.where(Activity.status == status)
    return query


def list_activities(member: Member, **filters) -> list[Activity]:
    return list(db.session.scalars(activities_select(member, **filters)))


# ---------------------------------------------------------------- publish and cancel


def create_activity(
    *,
    actor: Member,
    unit_id: int,
    title: str,
    category: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    kind: str = "service",
    lat: float | None = None,
    lng: float | None = None,
    radius_m: int | None = None,
    capacity: int | None = None,
    signup_required: bool = False,
    points_per_hour: int = 0,
    checkin_bonus: int = 0,
    checkin_mode: str = "kiosk",
    requires_checkout: bool = True,
) -> Activity:
    """Publish an activity in a unit the actor organizes.

    Raises NotFound for a missing unit, InvalidInput for a bad window, category, place,
    capacity or points rule.
    """
    units.get_unit(unit_id)
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Required."]
    if category not in categories():
        errors["category"] = ["Unknown category."]
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = ["Unknown kind."]
    if checkin_mode not in CHECKIN_MODES:
        errors["checkin_mode"] = ["Unknown mode."]
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        errors["starts_at"] = ["Give a time zone."]
    elif ends_at <= starts_at:
        errors["ends_at"] = ["The end must be after the start."]
    elif ends_at - starts_at > MAX_DURATION:
        errors["ends_at"] = ["An activity lasts at most 7 days."]
    place = (lat, lng, radius_m)
    if any(v is not None for v in place) and any(v is None for v in place):
        errors["radius_m"] = ["A place needs latitude, longitude and radius."]
    for name, value, bounds in (
        ("lat", lat, LATITUDE),
        ("lng", lng, LONGITUDE),
        ("radius_m", radius_m, RADIUS_M),
        ("capacity", capacity, CAPACITY),
    ):
        if value is not None and value not in bounds:
            errors[name] = [bounds.message()]
    for name, value in (("points_per_hour", points_per_hour), ("checkin_bonus", checkin_bonus)):
        if value not in POINTS:
            errors[name] = [POINTS.message()]
    if len(title) > TITLE_MAX:
        errors["title"] = [f"At most {TITLE_MAX} characters."]
    if len(description or "") > DESCRIPTION_MAX:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
    if errors:
        raise InvalidActivity(
            "The activity has invalid fields: %(fields)s.",
            errors=errors,
            params={"fields": ", ".join(sorted(errors))},
        )
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    activity = Activity(
        unit_id=unit_id,
        title=title,
        description=(description or "").strip(),
        category=category,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        capacity=capacity,
        signup_required=signup_required,
        points_per_hour=points_per_hour,
        checkin_bonus=checkin_bonus,
        checkin_mode=checkin_mode,
        requires_checkout=requires_checkout,
        status="published",
        created_by_id=actor.id,
    )
    db.session.add(activity)
    db.session.flush()
    people.record_audit("activity.create", actor=actor, detail=f"activity {activity.id}")
    return activity


def cancel_activity(
    activity: Activity, *, actor: Member, reason: str, now: datetime | None = None
) -> Activity:
    """Cancel: no new check-ins or credits; what was already approved stays credited.

    Idempotent.
    """
    activity = _lock_activity(activity.id)
    if activity.status == "cancelled":
        return activity
    activity.status = "cancelled"
    activity.cancel_reason = (reason or "").strip()[:500] or None
    activity.cancelled_at = now or utcnow()
    db.session.flush()
    people.record_audit("activity.cancel", actor=actor, detail=f"activity {activity.id}: {reason}")
    return activity


def _require_published(activity: Activity) -> None:
    if activity.status != "published":
        raise ActivityCancelled("%(title)s was cancelled.", params={"title": activity.title})


def _require_party_member(activity: Activity, member: Member) -> None:
    if activity.kind == "party" and db.session.get(PartyProfile, member.id) is None:
        raise NotPartyMember("Only party members attend party activities.")


# ---------------------------------------------------------------- sign-up


def active_signup_count(activity_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Signup.id)).where(
            Signup.activity_id == activity_id, Signup.status == "signed_up"
        )
    )


def get_signup(activity_id: int, member_id: int) -> Signup | None:
    return db.session.scalar(
        sa.select(Signup).where(Signup.activity_id == activity_id, Signup.member_id == member_id)
    )


def sign_up(activity: Activity, member: Member, *, now: datetime | None = None) -> Signup:
    """Take a place; idempotent. The activity row is locked while places are counted.

    Raises Conflict (``activity_full``, ``activity_cancelled``, ``activity_over``).
    """
    now = now or utcnow()
    activity = _lock_activity(activity.id)
    _require_published(activity)
    _require_party_member(activity, member)
    if now >= activity.ends_at:
        raise ActivityOver("The activity is over.")
    signup = get_signup(activity.id, member.id)
    if signup is not None and signup.status == "signed_up":
        return signup
    if activity.capacity is not None and active_signup_count(activity.id) >= activity.capacity:
        raise ActivityFull(
            "All %(capacity)s places are taken.",
            params={"capacity": activity.capacity},
        )
    if signup is None:
        signup = Signup(activity_id=activity.id, member_id=member.id, created_at=now)
        db.session.add(signup)
    else:
        signup.status = "signed_up"
        signup.created_at = now
        signup.withdrawn_at = None
    db.session.flush()
    return signup


def withdraw(activity: Activity, member: Member, *, now: datetime | None = None) -> Signup:
    """Give the place back; idempotent. NotFound (``not_signed_up``) without a sign-up."""
    activity = _lock_activity(activity.id)
    signup = get_signup(activity.id, member.id)
    if signup is None:
        raise NotSignedUp("You have not signed up for this activity.")
    if signup.status == "signed_up":
        signup.status = "withdrawn"
        signup.withdrawn_at = now or utcnow()
        db.session.flush()
    return signup


# ---------------------------------------------------------------- rotating codes

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
    _require_published(activity)
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


# ---------------------------------------------------------------- scans


@dataclass
class ScanResult:
    attendance: Attendance
    checkin: CheckIn
    #: checked_in, checked_out, already_checked_in or already_checked_out
    action: str

    @property
    def already(self) -> bool:
        return self.action.startswith("already_")


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat = rlat2 - rlat1
    dlng = math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlng / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _location_risk(
    activity: Activity, lat: float | None, lng: float | None
) -> tuple[int | None, str | None]:
    """(distance in metres or None, review reason or None)."""
    if not activity.has_place:
        return None, None
    if lat is None or lng is None:
        return None, "no_location"
    distance = round(haversine_m(activity.lat, activity.lng, lat, lng))
    if distance > activity.radius_m:
        return distance, "outside_radius"
    return distance, None


def _add_reason(attendance: Attendance, reason: str | None) -> None:
    if reason is None:
        return
    reasons = [r for r in (attendance.review_reason or "").split(",") if r]
    reasons += [r for r in reason.split(",") if r not in reasons]
    attendance.review_reason = ",".join(reasons)
    if attendance.status == "pending":
        attendance.status = "review"


def _existing_scan(activity_id: int, member_id: int) -> tuple[Attendance | None, dict]:
    attendance = db.session.scalar(
        sa.select(Attendance).where(
            Attendance.activity_id == activity_id, Attendance.member_id == member_id
        )
    )
    scans = {}
    if attendance is not None:
        for scan in db.session.scalars(
            sa.select(CheckIn).where(CheckIn.attendance_id == attendance.id)
        ):
            scans[scan.kind] = scan
    return attendance, scans


def _replay(attendance: Attendance, scans: dict) -> ScanResult:
    if "out" in scans:
        return ScanResult(attendance, scans["out"], "already_checked_out")
    return ScanResult(attendance, scans["in"], "already_checked_in")


def record_scan(
    activity: Activity,
    member: Member,
    *,
    at: datetime,
    method: str,
    now: datetime,
    step: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    nonce: str | None = None,
    actor: Member | None = None,
    typed: bool = False,
) -> ScanResult:
    """Turn a verified scan at the proven time ``at`` into a check-in or check-out.

    Risk signals (no location, outside the radius, a typed short code) hold the
    attendance for review instead of refusing it.

    The first scan checks in; a later one checks out when the activity asks for it. A
    repeat (same step, within two minutes, or after check-out) is an idempotent replay.
    Raises CheckinRejected: ``activity_cancelled``, ``outside_window``,
    ``not_signed_up``, ``not_party_member``.
    """
    _require_published(activity)
    _require_party_member(activity, member)
    attendance, scans = _existing_scan(activity.id, member.id)
    if attendance is not None:
        check_in_scan = scans["in"]
        replay = (
            not activity.requires_checkout
            or "out" in scans
            or (step is not None and step == check_in_scan.token_step)
            or at - attendance.checked_in_at < MIN_CHECKOUT_GAP
        )
        if replay:
            return _replay(attendance, scans)
        if at > activity.ends_at + CHECKOUT_CLOSES_AFTER:
            raise OutsideWindow("Check-out closed two hours after the activity ended.")
        kind = "out"
    else:
        if not activity.starts_at - CHECKIN_OPENS_BEFORE <= at <= activity.ends_at:
            raise OutsideWindow(
                "Check-in is open from 30 minutes before the start until the end of the activity.",
            )
        if activity.signup_required:
            signup = get_signup(activity.id, member.id)
            if signup is None or signup.status != "signed_up":
                raise SignupRequired("Sign up for this activity before checking in.")
        kind = "in"
    distance, reason = (
        (None, None) if method in ("badge", "manual") else _location_risk(activity, lat, lng)
    )
    if typed:
        reason = f"{reason},typed_code" if reason else "typed_code"
    try:
        with db.session.begin_nested():
            if kind == "in":
                attendance = Attendance(
                    # the objects, not only their ids: dumping the response after the
                    # commit must not lazy-load (on SQLite a new transaction takes the lock)
                    activity=activity,
                    member=member,
                    status="pending",
                    checked_in_at=at,
                    manual=method == "manual",
                    created_at=now,
                )
                db.session.add(attendance)
                db.session.flush()
            else:
                attendance.checked_out_at = at
                attendance.checkout_auto_closed = False
            _add_reason(attendance, reason)
            scan = CheckIn(
                attendance_id=attendance.id,
                activity_id=activity.id,
                member_id=member.id,
                kind=kind,
                method=method,
                scanned_at=at,
                received_at=now,
                token_step=step,
                lat=lat,
                lng=lng,
                distance_m=distance,
                nonce=nonce,
                actor_id=actor.id if actor else None,
            )
            db.session.add(scan)
            db.session.flush()
    except IntegrityError:
        # a concurrent scan of the same member won the unique constraint: a replay
        db.session.expire_all()
        attendance, scans = _existing_scan(activity.id, member.id)
        if attendance is None or "in" not in scans:
            raise
        return _replay(attendance, scans)
    return ScanResult(attendance, scan, "checked_in" if kind == "in" else "checked_out")


def _by_nonce(member: Member, nonce: str | None) -> ScanResult | None:
    if not nonce:
        return None
    scan = db.session.scalar(
        sa.select(CheckIn).where(CheckIn.member_id == member.id, CheckIn.nonce == nonce)
    )
    if scan is None:
        return None
    attendance = db.session.get(Attendance, scan.attendance_id)
    action = "already_checked_out" if scan.kind == "out" else "already_checked_in"
    return ScanResult(attendance, scan, action)


def check_in(
    member: Member,
    token: str,
    *,
    now: datetime | None = None,
    lat: float | None = None,
    lng: float | None = None,
    scanned_at: datetime | None = None,
    nonce: str | None = None,
    expected_activity_id: int | None = None,
) -> ScanResult:
    """A volunteer's phone submits a kiosk code (live, or later with ``scanned_at``).

    A nonce seen before returns the first result unchanged. Raises CheckinRejected
    (see ``verify_kiosk_code`` and ``record_scan``) and NotFound for a deleted activity.
    """
    now = now or utcnow()
    previous = _by_nonce(member, nonce)
    if previous is not None:
        return previous
    verified = verify_kiosk_code(
        token, now=now, scanned_at=scanned_at, expected_activity_id=expected_activity_id
    )
    activity = get_activity(verified.subject_id)
    return record_scan(
        activity,
        member,
        at=verified.at,
        method="kiosk",
        now=now,
        step=verified.step,
        lat=lat,
        lng=lng,
        nonce=nonce,
        typed=verified.typed,
    )


def scan_badge(
    activity: Activity, code: str, *, actor: Member, now: datetime | None = None
) -> ScanResult:
    """Organizer staff scan a member's badge code at the activity."""
    now = now or utcnow()
    verified = verify_badge_code(code, now=now)
    member = people.get_member(verified.subject_id)
    return record_scan(
        activity, member, at=now, method="badge", now=now, step=verified.step, actor=actor
    )


def find_member_for_manual_check_in(activity: Activity, text: str, *, actor: Member) -> Member:
    """The member an organizer means by a phone number, or by a name unique in the
    activity unit's subtree. Raises NotFound, or InvalidInput when the name is ambiguous."""
    text = (text or "").strip()[:60]
    digits = re.sub(r"[\s-]", "", text).removeprefix("+86")
    if digits.isdigit():
        member = people.find_member_by_phone(people.normalize_phone(digits))
        if member is None or not member.is_active:
            raise MemberNotFound("No member has this phone number.")
        return member
    matches = list(
        db.session.scalars(
            people.members_in_unit_select(activity.unit_id, status="active")
            .where(Member.name == text)
            .limit(2)
        )
    )
    if not matches:
        raise MemberNotFound(
            "Nobody called %(name)s lives in this unit.",
            params={"name": text},
        )
    if len(matches) > 1:
        raise MemberAmbiguous(
            "More than one member is called %(name)s; use the phone number.",
            params={"name": text},
        )
    return matches[0]


def manual_check_in(
    activity: Activity, member: Member, *, actor: Member, now: datetime | None = None
) -> ScanResult:
    """An organizer checks in (or out) a member without a smartphone; flagged manual.

    Any active member may be checked in (walk-ins are welcome), like a kiosk scan.
    """
    now = now or utcnow()
    return record_scan(activity, member, at=now, method="manual", now=now, actor=actor)


# ---------------------------------------------------------------- hours


def rounding_minutes() -> int:
    return max(1, int(current_app.config.get("TIMEBANK_HOUR_ROUNDING_MINUTES", 15)))


def service_minutes(
    activity: Activity, checked_in_at: datetime, checked_out_at: datetime | None
) -> int:
    """Overlap of [in, out] with the window, rounded down; no check-out: until the end."""
    end = checked_out_at if checked_out_at is not None else activity.ends_at
    start = max(checked_in_at, activity.starts_at)
    end = min(end, activity.ends_at)
    minutes = max(0, int((end - start).total_seconds()) // 60)
    return minutes - minutes % rounding_minutes()


def points_for(activity: Activity, minutes: int) -> int:
    return minutes * activity.points_per_hour // 60 + activity.checkin_bonus


def close_missing_checkouts(activity: Activity, *, now: datetime | None = None) -> int:
    """After the window: close every open attendance at the window end, flagged.

    Idempotent; returns how many were closed (0 before the end or without check-out).
    """
    now = now or utcnow()
    if not activity.requires_checkout or now < activity.ends_at:
        return 0
    open_ones = list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.activity_id == activity.id, Attendance.checked_out_at.is_(None))
            .order_by(Attendance.id)
        )
    )
    for attendance in open_ones:
        attendance.checked_out_at = max(activity.ends_at, attendance.checked_in_at)
        attendance.checkout_auto_closed = True
        db.session.add(
            CheckIn(
                attendance_id=attendance.id,
                activity_id=activity.id,
                member_id=attendance.member_id,
                kind="out",
                method="auto",
                scanned_at=attendance.checked_out_at,
                received_at=now,
            )
        )
    db.session.flush()
    return len(open_ones)


def close_all_missing_checkouts(*, now: datetime | None = None, days: int = 7) -> int:
    """The scheduler's job: close missing check-outs of every activity that ended in the
    last ``days`` days. Idempotent; returns how many attendances were closed."""
    now = now or utcnow()
    ended = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.requires_checkout.is_(True),
            Activity.ends_at <= now,
            Activity.ends_at > now - timedelta(days=days),
            Activity.id.in_(
                sa.select(Attendance.activity_id).where(Attendance.checked_out_at.is_(None))
            ),
        )
        .order_by(Activity.id)
    )
    return sum(close_missing_checkouts(activity, now=now) for activity in list(ended))


# ---------------------------------------------------------------- review and approval


def get_attendance(activity: Activity, attendance_id: int) -> Attendance:
    attendance = db.session.get(Attendance, attendance_id)
    if attendance is None or attendance.activity_id != activity.id:
        raise AttendanceNotFound(
            "Attendance %(id)s does not exist for this activity.",
            params={"id": attendance_id},
        )
    return attendance


def list_attendance(activity: Activity, *, status: str | None = None) -> list[Attendance]:
    query = (
        sa.select(Attendance)
        .where(Attendance.activity_id == activity.id)
        .options(selectinload(Attendance.member))
        .order_by(Attendance.checked_in_at, Attendance.id)
    )
    if status is not None:
        query = query.where(Attendance.status == status)
    return list(db.session.scalars(query))


def attendance_counts(activity_id: int) -> dict:
    """Check-ins and check-outs so far (the kiosk's live counter)."""
    checked_in, checked_out = db.session.execute(
        sa.select(sa.func.count(Attendance.id), sa.func.count(Attendance.checked_out_at)).where(
            Attendance.activity_id == activity_id
        )
    ).one()
    return {"checked_in": checked_in, "checked_out": checked_out}


def _lock_attendances(activity: Activity, ids: list[int]) -> list[Attendance]:
    ids = sorted(set(ids))
    if not ids:
        raise InvalidInput("Name at least one attendance.", errors={"ids": ["Required."]})
    if len(ids) > MAX_BULK:
        raise InvalidInput(
            "At most %(max)s attendances at once.", params={"max": MAX_BULK}, errors={"ids": ["?"]}
        )
    rows = list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.id.in_(ids))
            .options(selectinload(Attendance.member))
            .order_by(Attendance.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    found = {a.id for a in rows if a.activity_id == activity.id}
    missing = [i for i in ids if i not in found]
    if missing:
        raise AttendanceNotFound(
            "Attendance %(id)s does not exist for this activity.",
            params={"id": missing[0]},
        )
    return rows


def approve_attendance(
    activity: Activity, ids: list[int], *, actor: Member, now: datetime | None = None
) -> list[Attendance]:
    """Approve attendances (one or up to 200) and credit HOURS and POINTS in the ledger.

    All or none. Each credit is keyed ``attendance:<id>``, so approving again or retrying
    after a crash credits nothing more. Missing check-outs are closed at the window end
    once it has passed. Raises FourEyes, NotFound, Conflict (``activity_cancelled``,
    ``attendance_rejected``, ``checkout_missing`` or ``activity_not_over`` before the
    window ends).
    """
    from timebank.ledger import operations as ledger

    now = now or utcnow()
    _require_published(activity)
    rows = _lock_attendances(activity, ids)
    close_missing_checkouts(activity, now=now)
    for attendance in rows:
        if attendance.member_id == actor.id and attendance.status != "approved":
            # Organizers account to the street office for every hour: nobody pays themselves.
            raise FourEyes(
                "Another organizer must approve your own attendance.",
            )
        if attendance.status == "rejected":
            raise AttendanceRejected(
                "Attendance %(id)s was rejected; it cannot be approved.",
                params={"id": attendance.id},
            )
        if attendance.status != "approved":
            if not activity.requires_checkout and now < activity.ends_at:
                raise ActivityNotOver(
                    "Approve after the activity ends: hours run until its end.",
                )
            if activity.requires_checkout and attendance.checked_out_at is None:
                raise CheckoutMissing(
                    "%(name)s has not checked out yet; approve after the activity ends.",
                    params={"name": attendance.member.name},
                )
            attendance.minutes = service_minutes(
                activity, attendance.checked_in_at, attendance.checked_out_at
            )
            attendance.points = points_for(activity, attendance.minutes)
            attendance.status = "approved"
            attendance.decided_by_id = actor.id
            attendance.decided_at = now
        # also for an approved one: a retry after a crash between the two must credit once
        ledger.credit_from_evidence(
            member_id=attendance.member_id,
            member_unit_id=attendance.member.home_unit_id,
            unit_id=activity.unit_id,
            minutes=attendance.minutes or 0,
            points=attendance.points or 0,
            code="earn_checkin",
            reference_type="attendance",
            reference_id=str(attendance.id),
            idempotency_key=f"attendance:{attendance.id}",
            actor_id=attendance.decided_by_id,
        )
    db.session.flush()
    return rows


def reject_attendance(
    activity: Activity,
    ids: list[int],
    *,
    actor: Member,
    reason: str,
    now: datetime | None = None,
) -> list[Attendance]:
    """Reject attendances with a reason; nothing is credited. Conflict if already approved."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", errors={"reason": ["Required."]})
    rows = _lock_attendances(activity, ids)
    for attendance in rows:
        if attendance.status == "approved":
            raise AlreadyApproved(
                "Attendance %(id)s is already approved and credited; correct it in the ledger.",
                params={"id": attendance.id},
            )
        attendance.status = "rejected"
        attendance.reject_reason = reason[:500]
        attendance.decided_by_id = actor.id
        attendance.decided_at = now or utcnow()
    db.session.flush()
    return rows


# ---------------------------------------------------------------- a member's record


def my_attendance(member: Member, *, limit: int = 100) -> list[Attendance]:
    return list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.member_id == member.id)
            .options(selectinload(Attendance.activity))
            .order_by(Attendance.checked_in_at.desc())
            .limit(limit)
        )
    )


def my_signups(member: Member, *, now: datetime | None = None) -> list[Activity]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Activity)
            .join(Signup, Signup.activity_id == Activity.id)
            .where(
                Signup.member_id == member.id,
                Signup.status == "signed_up",
                Activity.ends_at >= now,
            )
            .order_by(Activity.starts_at)
        )
    )


# ---------------------------------------------------------------- party members


def quarter_start(now: datetime) -> datetime:
    """The start of the local calendar quarter ``now`` falls in, as UTC."""
    local = now.astimezone(local_zone())
    return local_day_start(date(local.year, 3 * ((local.month - 1) // 3) + 1, 1))


@dataclass
class PartyRow:
    member: Member
    reported: bool
    party_activities: int
    service_minutes: int


def party_report(unit_id: int, *, now: datetime | None = None) -> list[PartyRow]:
    """Per party member living in the subtree: reported in (双报到), party activities
    attended and approved service minutes this quarter."""
    now = now or utcnow()
    since = quarter_start(now)
    members = people.list_members(unit_id, party="member")
    ids = [m.id for m in members]
    party_counts: dict[int, int] = {}
    service: dict[int, int] = {}
    if ids:
        for member_id, count in db.session.execute(
            sa.select(Attendance.member_id, sa.func.count(Attendance.id))
            .join(Activity, Activity.id == Attendance.activity_id)
            .where(
                Attendance.member_id.in_(ids),
                Attendance.checked_in_at >= since,
                Attendance.status != "rejected",
                Activity.kind == "party",
            )
            .group_by(Attendance.member_id)
        ):
            party_counts[member_id] = count
        for member_id, minutes in db.session.execute(
            sa.select(Attendance.member_id, sa.func.sum(Attendance.minutes))
            .join(Activity, Activity.id == Attendance.activity_id)
            .where(
                Attendance.member_id.in_(ids),
                Attendance.checked_in_at >= since,
                Attendance.status == "approved",
                Activity.kind == "service",
            )
            .group_by(Attendance.member_id)
        ):
            service[member_id] = int(minutes or 0)
    return [
        PartyRow(
            member=m,
            reported=m.party is not None and m.party.reported_on is not None,
            party_activities=party_counts.get(m.id, 0),
            service_minutes=service.get(m.id, 0),
        )
        for m in members
    ]
