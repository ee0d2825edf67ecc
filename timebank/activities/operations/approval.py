"""The organizer's review: the attendance list and counts, approval (which credits the
ledger) and rejection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from timebank.activities.errors import (
    ActivityNotOver,
    AlreadyApproved,
    AttendanceNotFound,
    AttendanceRejected,
    CheckoutMissing,
)
from timebank.activities.models import Activity, Attendance
from timebank.activities.operations.hours import (
    close_missing_checkouts,
    points_for,
    service_minutes,
)
from timebank.activities.operations.lookups import require_published
from timebank.activities.operations.notices import notify_attendances_decided
from timebank.core import access
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError, FourEyes, InvalidInput
from timebank.core.privacy import shown_name
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member

#: how many attendances one approval call may decide
MAX_BULK = 200


def get_attendance(activity: Activity, attendance_id: int) -> Attendance:
    """Return the activity's attendance or raise AttendanceNotFound."""
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


def count_attendance_waiting(unit_ids, *, created_before: datetime | None = None) -> int:
    """Attendance held for review at activities of ``unit_ids`` (ids, or a SELECT of them);
    ``created_before``: only check-ins made before then (waiting that long)."""
    query = (
        sa.select(sa.func.count(Attendance.id))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Activity.unit_id.in_(unit_ids), Attendance.status == "review")
    )
    if created_before is not None:
        query = query.where(Attendance.created_at < created_before)
    return db.session.scalar(query)


@dataclass(frozen=True)
class ActivityWaiting:
    """One activity's attendance that waits for an organizer."""

    activity: Activity
    #: pending attendance of an activity whose window has ended: ready to approve
    to_approve: int
    #: check-ins held for review (e.g. scanned outside the place's radius)
    held: int


def _waiting_clauses(unit_ids, now: datetime):
    """Attendance ready to approve (pending, window over) or held for review."""
    ready = sa.and_(Attendance.status == "pending", Activity.ends_at <= now)
    return (
        Activity.unit_id.in_(unit_ids),
        Activity.status == "published",
        sa.or_(ready, Attendance.status == "review"),
    ), ready


def attendance_waiting(
    unit_ids, *, now: datetime | None = None, created_before: datetime | None = None
) -> list[ActivityWaiting]:
    """Per activity of ``unit_ids`` (ids, or a SELECT of them), the attendance waiting
    for an organizer, oldest activity first: check-outs to approve once the window has
    ended, and check-ins held for review. ``created_before``: only check-ins made before
    then (waiting that long)."""
    now = now or utcnow()
    clauses, ready = _waiting_clauses(unit_ids, now)
    query = (
        sa.select(
            Attendance.activity_id,
            sa.func.count(Attendance.id).filter(ready),
            sa.func.count(Attendance.id).filter(Attendance.status == "review"),
        )
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(*clauses)
        .group_by(Attendance.activity_id)
    )
    if created_before is not None:
        query = query.where(Attendance.created_at < created_before)
    rows = db.session.execute(query).all()
    ids = [r[0] for r in rows]
    found = {a.id: a for a in db.session.scalars(sa.select(Activity).where(Activity.id.in_(ids)))}
    waiting = [ActivityWaiting(found[r[0]], r[1], r[2]) for r in rows]
    return sorted(waiting, key=lambda w: (w.activity.starts_at, w.activity.id))


def _lock_rows(ids: list[int]) -> list[Attendance]:
    """The attendances with these ids that exist, locked, in id order."""
    return list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.id.in_(ids))
            .options(selectinload(Attendance.member))
            .order_by(Attendance.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _lock_attendances(activity: Activity, ids: list[int]) -> list[Attendance]:
    """The named attendances of the activity, locked, in id order.

    Raises InvalidInput for none or more than MAX_BULK, AttendanceNotFound for an id
    that is not the activity's.
    """
    ids = sorted(set(ids))
    if not ids:
        raise InvalidInput("Name at least one attendance.", errors={"ids": ["Required."]})
    if len(ids) > MAX_BULK:
        raise InvalidInput(
            "At most %(max)s attendances at once.", params={"max": MAX_BULK}, errors={"ids": ["?"]}
        )
    rows = _lock_rows(ids)
    found = {a.id for a in rows if a.activity_id == activity.id}
    missing = [i for i in ids if i not in found]
    if missing:
        raise AttendanceNotFound(
            "Attendance %(id)s does not exist for this activity.",
            params={"id": missing[0]},
        )
    return rows


@use_case
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
    now = now or utcnow()
    require_published(activity)
    rows = _lock_attendances(activity, ids)
    close_missing_checkouts(activity, now=now)
    for attendance in rows:
        _approve(activity, attendance, actor=actor, now=now)
    notify_attendances_decided(activity, rows, now=now)
    # also for an approved one: a retry after a crash between the two must credit once
    _credit(activity, rows, now=now)
    return rows


@dataclass
class Approval:
    """What a bulk approval did: the attendances approved (and credited), each other one
    with the error that kept it back, and those approved with no minutes to credit."""

    decided: list[Attendance] = field(default_factory=list)
    refused: list[tuple[int, DomainError]] = field(default_factory=list)
    zero_minutes: list[Attendance] = field(default_factory=list)


@use_case
def approve_valid_attendance(
    activity: Activity, ids: list[int], *, actor: Member, now: datetime | None = None
) -> Approval:
    """Approve and credit the attendances among ``ids`` that can be approved now; report
    each other one with its error (FourEyes, AttendanceRejected, CheckoutMissing,
    ActivityNotOver, AttendanceNotFound), and those approved with zero minutes (they
    stayed less than the rounding unit: only a points bonus, if any, is credited).

    Each is decided on its own: ``_approve`` refuses before it changes anything, so one
    refused leaves the others standing (and their writes go out together, with no
    savepoint each).
    Raises InvalidInput for none or more than MAX_BULK, ActivityCancelled.
    """
    now = now or utcnow()
    require_published(activity)
    wanted = sorted(set(ids))
    if not wanted:
        raise InvalidInput("Name at least one attendance.", errors={"ids": ["Required."]})
    if len(wanted) > MAX_BULK:
        raise InvalidInput(
            "At most %(max)s attendances at once.", params={"max": MAX_BULK}, errors={"ids": ["?"]}
        )
    rows = {a.id: a for a in _lock_rows(wanted) if a.activity_id == activity.id}
    close_missing_checkouts(activity, now=now)
    outcome = Approval()
    for attendance_id in wanted:
        attendance = rows.get(attendance_id)
        try:
            if attendance is None:
                raise AttendanceNotFound(
                    "Attendance %(id)s does not exist for this activity.",
                    params={"id": attendance_id},
                )
            _approve(activity, attendance, actor=actor, now=now)
        except DomainError as error:
            outcome.refused.append((attendance_id, error))
            continue
        outcome.decided.append(attendance)
        if not attendance.minutes:
            outcome.zero_minutes.append(attendance)
    notify_attendances_decided(activity, outcome.decided, now=now)
    _credit(activity, outcome.decided, now=now)
    return outcome


def _approve(activity: Activity, attendance: Attendance, *, actor: Member, now: datetime) -> None:
    """Mark one attendance approved with its minutes and points; one already approved
    stays as it was. Raises FourEyes, AttendanceRejected, ActivityNotOver, CheckoutMissing,
    always before it changes anything (``approve_valid_attendance`` relies on that)."""
    if attendance.status != "approved" and access.pays_self_or_ward(actor, attendance.member_id):
        # Organizers account to the street office for every hour: nobody pays themselves
        # or the member they look after.
        raise FourEyes("Another organizer must approve your own or your ward's attendance.")
    if attendance.status == "rejected":
        raise AttendanceRejected(
            "Attendance %(id)s was rejected; it cannot be approved.",
            params={"id": attendance.id},
        )
    if attendance.status == "approved":
        return
    if not activity.requires_checkout and now < activity.ends_at:
        raise ActivityNotOver(
            "Approve after the activity ends: hours run until its end.",
        )
    if activity.requires_checkout and attendance.checked_out_at is None:
        raise CheckoutMissing(
            "%(name)s has not checked out yet; approve after the activity ends.",
            params={"name": shown_name(attendance.member)},
        )
    attendance.minutes = service_minutes(
        activity, attendance.checked_in_at, attendance.checked_out_at
    )
    attendance.points = points_for(activity, attendance.minutes)
    before = {"status": attendance.status}
    attendance.status = "approved"
    attendance.decided_by_id = actor.id
    attendance.decided_at = now
    record_audit(
        "attendance.approve", actor=actor, subject=attendance.member_id,
        target=f"attendance:{attendance.id}", before=before,
        after={"status": "approved", "minutes": attendance.minutes, "points": attendance.points},
        detail=f"activity {activity.id}",
    )  # fmt: skip


def _credit(activity: Activity, approved: list[Attendance], *, now: datetime) -> None:
    """Post the approved attendances' HOURS and POINTS at ``now``, once each (keyed
    ``attendance:<id>``), in one step at the end of the approval: the community's issuance
    accounts are locked only for that step."""
    from timebank.ledger import operations as ledger

    db.session.flush()
    ledger.credit_evidence(
        [
            ledger.Evidence(
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
            for attendance in approved
        ],
        now=now,
    )


@use_case
def reject_attendance(
    activity: Activity,
    ids: list[int],
    *,
    actor: Member,
    reason: str,
    now: datetime | None = None,
) -> list[Attendance]:
    """Reject attendances with a reason; nothing is credited. Conflict if already approved.

    Raises InvalidInput without a reason, NotFound like ``approve_attendance``.
    """
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
        before = {"status": attendance.status}
        attendance.status = "rejected"
        attendance.reject_reason = reason[:500]
        attendance.decided_by_id = actor.id
        attendance.decided_at = now = now or utcnow()
        record_audit(
            "attendance.reject", actor=actor, subject=attendance.member_id,
            target=f"attendance:{attendance.id}", before=before, after={"status": "rejected"},
            detail=attendance.reject_reason,
        )  # fmt: skip
    notify_attendances_decided(activity, rows, now=now)
    db.session.flush()
    return rows
