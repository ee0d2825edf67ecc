"""Scans: a verified code (kiosk or badge) or an organizer's manual entry becomes a
check-in or a check-out, with its risk signals held for review."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from timebank.activities.errors import MemberAmbiguous, OutsideWindow, SignupRequired
from timebank.activities.models import Activity, Attendance, CheckIn
from timebank.activities.operations.checkin_codes import (
    STEP_SECONDS,
    verify_badge_code,
    verify_kiosk_code,
)
from timebank.activities.operations.lookups import (
    get_activity,
    require_party_member,
    require_published,
)
from timebank.activities.operations.signups import get_signup
from timebank.core import metrics
from timebank.core.clock import utcnow
from timebank.core.db import insert_unless_taken
from timebank.core.errors import Conflict
from timebank.core.throttle import CHECKINS_MEMBER
from timebank.core.uow import reads_before_writes
from timebank.core.usecases import use_case
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
    activity: Activity,
    *,
    method: str,
    lat: float | None,
    lng: float | None,
    typed: bool,
    late: bool = False,
) -> tuple[int | None, str | None]:
    """(distance in metres or None, comma-separated review reasons or None)."""
    # staff saw the member in person: where a badge or a name was entered says nothing
    distance, reason = (
        (None, None) if method in ("badge", "manual") else _location_risk(activity, lat, lng)
    )
    for flagged, signal in ((typed, "typed_code"), (late, "late_upload")):
        if flagged:
            reason = f"{reason},{signal}" if reason else signal
    return distance, reason


def _merged_reasons(current: str | None, reason: str | None) -> str | None:
    """The review reasons so far plus ``reason``'s, each once, comma-separated."""
    reasons = [r for r in (current or "").split(",") if r]
    reasons += [r for r in (reason or "").split(",") if r and r not in reasons]
    return ",".join(reasons) or None


_EXISTING_SCAN = (
    sa.select(Attendance, CheckIn)
    .outerjoin(CheckIn, CheckIn.attendance_id == Attendance.id)
    .where(
        Attendance.activity_id == sa.bindparam("activity_id"),
        Attendance.member_id == sa.bindparam("member_id"),
    )
)


def _existing_scan(activity_id: int, member_id: int) -> tuple[Attendance | None, dict]:
    """The member's attendance at the activity and its scans by kind, in one query."""
    params = {"activity_id": activity_id, "member_id": member_id}
    rows = db.session.execute(_EXISTING_SCAN, params).all()
    attendance = rows[0][0] if rows else None
    return attendance, {scan.kind: scan for _, scan in rows if scan is not None}


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


def checkin_open(activity: Activity, now: datetime | None = None) -> bool:
    """True while a published activity takes check-ins: from 30 minutes before the start
    until the end (its page then offers the scan besides the sign-up)."""
    at = now or utcnow()
    return (
        activity.status == "published"
        and activity.starts_at - CHECKIN_OPENS_BEFORE <= at <= activity.ends_at
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


ATTENDANCES = Attendance.__table__
CHECKINS = CheckIn.__table__
#: built once, executed with parameters: a statement built per call costs more than it runs
_CLOSE_ATTENDANCE = (
    ATTENDANCES.update()
    .where(ATTENDANCES.c.id == sa.bindparam("attendance_id"))
    .values(
        checked_out_at=sa.bindparam("checked_out_at"),
        checkout_auto_closed=sa.bindparam("checkout_auto_closed"),
        review_reason=sa.bindparam("review_reason"),
        status=sa.bindparam("status"),
    )
)


def _persisted(model, row_id: int, values: dict, **related):
    """The ORM object of a row just written by a Core statement, in the session as if
    loaded: the hot path of a flash crowd skips the ORM's flush (half its cost)."""
    obj = model(id=row_id, **values)
    make_transient_to_detached(obj)
    db.session.add(obj)
    for name, value in related.items():
        set_committed_value(obj, name, value)
    return obj


def _attend(
    activity: Activity,
    member: Member,
    attendance: Attendance | None,
    scan: dict,
    *,
    reason: str | None,
    now: datetime,
) -> tuple[Attendance, CheckIn] | None:
    """Open the attendance (a check-in) or close it (a check-out) with the ``scan`` as its
    evidence. None when a concurrent scan of the member wrote first: the unique
    constraints refuse the second (one attendance per activity and member, one scan of
    each kind, one scan per nonce)."""
    add_scan = insert_unless_taken(CHECKINS, CHECKINS.c.id)
    changes: dict = {}
    if attendance is None:
        values = {
            "activity_id": activity.id, "member_id": member.id,
            "status": "review" if reason else "pending", "checked_in_at": scan["scanned_at"],
            "checked_out_at": None, "checkout_auto_closed": False,
            "manual": scan["method"] == "manual", "review_reason": _merged_reasons(None, reason),
            "minutes": None, "points": None, "decided_by_id": None, "decided_at": None,
            "reject_reason": None, "created_at": now,
        }  # fmt: skip
        opened = insert_unless_taken(ATTENDANCES, ATTENDANCES.c.id)
        attendance_id = db.session.execute(opened, values).scalar_one_or_none()
        if attendance_id is None:
            return None
        # the objects, not only their ids: dumping the response must not lazy-load
        attendance = _persisted(Attendance, attendance_id, values, activity=activity, member=member)
        values = {**scan, "attendance_id": attendance.id}
        scan_id = db.session.execute(add_scan, values).scalar_one_or_none()
        if scan_id is None:
            # its nonce was taken by an upload being recorded this moment: the unit of
            # work rolls the attendance back, and the phone's retry gets that upload's result
            raise Conflict()
    else:
        values = {**scan, "attendance_id": attendance.id}
        scan_id = db.session.execute(add_scan, values).scalar_one_or_none()
        if scan_id is None:
            return None
        changes = {
            "checked_out_at": scan["scanned_at"],
            "checkout_auto_closed": False,
            "review_reason": _merged_reasons(attendance.review_reason, reason),
            "status": "review" if reason and attendance.status == "pending" else attendance.status,
        }
        db.session.execute(_CLOSE_ATTENDANCE, {**changes, "attendance_id": attendance.id})
        for name, value in changes.items():
            set_committed_value(attendance, name, value)
    metrics.count_after_commit("checkins", "out" if "checked_out_at" in changes else "in")
    return attendance, _persisted(CheckIn, scan_id, values, attendance=attendance)


@dataclass
class _PlannedScan:
    """What a scan will write, decided from reads: the attendance it opens (None) or
    closes, the scan row, and its review reasons."""

    activity: Activity
    member: Member
    attendance: Attendance | None
    scan: dict
    reason: str | None


def _plan_scan(
    activity: Activity,
    member: Member,
    *,
    at: datetime,
    method: str,
    now: datetime,
    step: int | None,
    lat: float | None,
    lng: float | None,
    nonce: str | None,
    actor: Member | None,
    typed: bool,
    late: bool,
) -> ScanResult | _PlannedScan:
    """The reads and rules of ``record_scan``: a replay's result, or what to write."""
    require_published(activity)
    require_party_member(activity, member)
    attendance, scans = _existing_scan(activity.id, member.id)
    if attendance is not None:  # known already: a replay's answer names them unloaded
        set_committed_value(attendance, "activity", activity)
        set_committed_value(attendance, "member", member)
    if attendance is None:
        _require_check_in_open(activity, member, at)
    elif _is_replay(activity, attendance, scans, at=at, step=step):
        return _replay(attendance, scans)
    elif at > activity.ends_at + CHECKOUT_CLOSES_AFTER:
        raise OutsideWindow("Check-out closed two hours after the activity ended.")
    kind = "in" if attendance is None else "out"
    distance, reason = _risk_signals(
        activity, method=method, lat=lat, lng=lng, typed=typed, late=late
    )
    scan = {
        "activity_id": activity.id, "member_id": member.id, "kind": kind, "method": method,
        "scanned_at": at, "received_at": now, "token_step": step, "lat": lat, "lng": lng,
        "distance_m": distance, "nonce": nonce, "actor_id": actor.id if actor else None,
    }  # fmt: skip
    return _PlannedScan(activity, member, attendance, scan, reason)


def _write_scan(plan: _PlannedScan, *, now: datetime) -> ScanResult:
    """Write a planned scan. A concurrent scan of the same member that wrote first (the
    unique constraints say so) makes this one its replay."""
    activity, member = plan.activity, plan.member
    written = _attend(activity, member, plan.attendance, plan.scan, reason=plan.reason, now=now)
    if written is None:
        db.session.expire_all()
        attendance, scans = _existing_scan(activity.id, member.id)
        if attendance is None or "in" not in scans:
            raise Conflict()
        return _replay(attendance, scans)
    attendance, check_in = written
    action = "checked_in" if plan.scan["kind"] == "in" else "checked_out"
    return ScanResult(attendance, check_in, action)


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
    late: bool = False,
) -> ScanResult:
    """Turn a verified scan at the proven time ``at`` into a check-in or check-out.

    Risk signals (no location, outside the radius, a typed short code, an upload that
    arrives later than it claims to have been scanned: ``late``) hold the attendance
    for review instead of refusing it.

    The first scan checks in; a later one checks out when the activity asks for it. A
    repeat (same step, within two minutes, or after check-out) is an idempotent replay.
    Raises CheckinRejected: ``activity_cancelled``, ``outside_window``,
    ``not_signed_up``, ``not_party_member``.
    """
    plan = _plan_scan(
        activity, member, at=at, method=method, now=now, step=step, lat=lat, lng=lng,
        nonce=nonce, actor=actor, typed=typed, late=late,
    )  # fmt: skip
    return plan if isinstance(plan, ScanResult) else _write_scan(plan, now=now)


def count_scan_attempt(member: Member) -> None:
    """A member's check-in submissions are limited (core/throttle.py): RateLimited past
    them. Counts this one."""
    CHECKINS_MEMBER.take(str(member.id))


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


@use_case
def submit_scan(member: Member, token: str, **details) -> ScanResult:
    """A volunteer's phone submits a kiosk code (the scan page, its offline uploads, the
    API): counted against the member's check-in throttle (RateLimited past it), then
    checked in or out by ``check_in`` with the same ``details``."""
    count_scan_attempt(member)
    return check_in(member, token, **details)


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

    Only the phone says when an offline scan was made, and a screenshot of the kiosk
    forwarded to a chat group can be "scanned" later with the time it was taken: an
    upload arriving more than one step after its claimed time is recorded but held for
    review (``late_upload``). A live scan is accepted at once.

    A nonce seen before returns the first result unchanged. Raises CheckinRejected
    (see ``verify_kiosk_code`` and ``record_scan``) and NotFound for a deleted activity.
    """
    now = now or utcnow()
    # a flash crowd scans at once: on SQLite only the writes wait for one another
    with reads_before_writes():
        previous = _by_nonce(member, nonce)
        if previous is not None:
            return previous
        verified = verify_kiosk_code(
            token, now=now, scanned_at=scanned_at, expected_activity_id=expected_activity_id
        )
        plan = _plan_scan(
            get_activity(verified.subject_id), member, at=verified.at, method="kiosk",
            now=now, step=verified.step, lat=lat, lng=lng, nonce=nonce, actor=None,
            typed=verified.typed,
            late=scanned_at is not None and now - scanned_at > timedelta(seconds=STEP_SECONDS),
        )  # fmt: skip
    return plan if isinstance(plan, ScanResult) else _write_scan(plan, now=now)


@use_case
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


@use_case
def manual_check_in(
    activity: Activity, member: Member, *, actor: Member, now: datetime | None = None
) -> ScanResult:
    """An organizer checks in (or out) a member without a smartphone; flagged manual.

    Any active member may be checked in (walk-ins are welcome), like a kiosk scan.
    Raises CheckinRejected like ``record_scan``.
    """
    now = now or utcnow()
    return record_scan(activity, member, at=now, method="manual", now=now, actor=actor)
