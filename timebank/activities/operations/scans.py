"""Scans: a verified code (kiosk or badge) or an organizer's manual entry becomes a
check-in or a check-out, with its risk signals held for review."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from timebank.activities.errors import MemberAmbiguous, OutsideWindow, SignupRequired
from timebank.activities.models import Activity, Attendance, CheckIn
from timebank.activities.operations.checkin_codes import verify_badge_code, verify_kiosk_code
from timebank.activities.operations.lookups import (
    get_activity,
    require_party_member,
    require_published,
)
from timebank.activities.operations.signups import get_signup
from timebank.core.db import utcnow
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.errors import MemberNotFound
from timebank.people.models import Member

#: volunteers may check in this long before the window opens (hours still count from the start)
CHECKIN_OPENS_BEFORE = timedelta(minutes=30)
#: check-out is accepted this long after the window closes (hours still stop at the end)
CHECKOUT_CLOSES_AFTER = timedelta(hours=2)
#: a second scan within this time of the check-in is a replay, not a check-out
MIN_CHECKOUT_GAP = timedelta(minutes=2)


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


def _risk_signals(
    activity: Activity, *, method: str, lat: float | None, lng: float | None, typed: bool
) -> tuple[int | None, str | None]:
    """(distance in metres or None, comma-separated review reasons or None)."""
    # staff saw the member in person: where a badge or a name was entered says nothing
    distance, reason = (
        (None, None) if method in ("badge", "manual") else _location_risk(activity, lat, lng)
    )
    if typed:
        reason = f"{reason},typed_code" if reason else "typed_code"
    return distance, reason


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


def _is_replay(
    activity: Activity, attendance: Attendance, scans: dict, *, at: datetime, step: int | None
) -> bool:
    """A scan after the check-in that is not a check-out: none is asked for, one was
    made, or it is the check-in's own code or comes within MIN_CHECKOUT_GAP of it."""
    check_in_scan = scans["in"]
    return (
        not activity.requires_checkout
        or "out" in scans
        or (step is not None and step == check_in_scan.token_step)
        or at - attendance.checked_in_at < MIN_CHECKOUT_GAP
    )


def _require_check_in_open(activity: Activity, member: Member, at: datetime) -> None:
    """Raise OutsideWindow outside the check-in window, SignupRequired without a place."""
    if not activity.starts_at - CHECKIN_OPENS_BEFORE <= at <= activity.ends_at:
        raise OutsideWindow(
            "Check-in is open from 30 minutes before the start until the end of the activity.",
        )
    if activity.signup_required:
        signup = get_signup(activity.id, member.id)
        if signup is None or signup.status != "signed_up":
            raise SignupRequired("Sign up for this activity before checking in.")


def _attend(
    activity: Activity,
    member: Member,
    attendance: Attendance | None,
    scan: CheckIn,
    *,
    reason: str | None,
    now: datetime,
) -> Attendance:
    """Open the attendance (a check-in) or close it (a check-out) with ``scan`` as its
    evidence; flushes, so the unique constraints speak here."""
    if attendance is None:
        attendance = Attendance(
            # the objects, not only their ids: dumping the response after the
            # commit must not lazy-load (on SQLite a new transaction takes the lock)
            activity=activity,
            member=member,
            status="pending",
            checked_in_at=scan.scanned_at,
            manual=scan.method == "manual",
            created_at=now,
        )
        db.session.add(attendance)
        db.session.flush()
    else:
        attendance.checked_out_at = scan.scanned_at
        attendance.checkout_auto_closed = False
    _add_reason(attendance, reason)
    scan.attendance_id = attendance.id
    db.session.add(scan)
    db.session.flush()
    return attendance


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
    require_published(activity)
    require_party_member(activity, member)
    attendance, scans = _existing_scan(activity.id, member.id)
    if attendance is None:
        _require_check_in_open(activity, member, at)
    elif _is_replay(activity, attendance, scans, at=at, step=step):
        return _replay(attendance, scans)
    elif at > activity.ends_at + CHECKOUT_CLOSES_AFTER:
        raise OutsideWindow("Check-out closed two hours after the activity ended.")
    kind = "in" if attendance is None else "out"
    distance, reason = _risk_signals(activity, method=method, lat=lat, lng=lng, typed=typed)
    scan = CheckIn(
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
    try:
        with db.session.begin_nested():
            attendance = _attend(activity, member, attendance, scan, reason=reason, now=now)
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
    """Organizer staff scan a member's badge code at the activity.

    Raises CheckinRejected (see ``verify_badge_code`` and ``record_scan``), NotFound for
    a member who no longer exists.
    """
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
    Raises CheckinRejected like ``record_scan``.
    """
    now = now or utcnow()
    return record_scan(activity, member, at=now, method="manual", now=now, actor=actor)
