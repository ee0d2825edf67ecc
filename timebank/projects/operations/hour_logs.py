"""Hour logs: a member who served reports a day's minutes against a project or a small
wish (capped by the schedule), with an optional photo; organizers approve them in bulk
(the valid ones; the others are reported, not all or none) or reject them with a reason.
Approval credits HOURS and POINTS through the ledger once, keyed ``hourlog:<id>``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from timebank.core import access
from timebank.core.access import Target
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError, FourEyes, InvalidInput
from timebank.core.privacy import shown_name
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.errors import (
    HourLogDecided,
    HourLogNotFound,
    InvalidHourLog,
    NotAWish,
    NotServing,
    OutsideSchedule,
    OverSchedule,
    ProjectNotRunning,
)
from timebank.projects.models import LOG_MINUTES, TEXT_MAX, HourLog, Need, Project
from timebank.projects.operations.claims import serving_claim
from timebank.projects.operations.clock import local_date
from timebank.projects.operations.lookups import lock_need
from timebank.projects.operations.needs import require_reason, resolve_with
from timebank.projects.operations.notices import notify_hours_approved, notify_hours_rejected
from timebank.projects.operations.organizations import require_contact
from timebank.projects.operations.photos import store_photo
from timebank.projects.reasons import coded

#: how many hour logs one decision may name
MAX_BULK = 200
#: the most minutes a day one member may log on a small wish
WISH_DAILY_MINUTES = 480


def rounding_minutes() -> int:
    return max(1, int(current_app.config["TIMEBANK_HOUR_ROUNDING_MINUTES"]))


def _day_cap(project: Project | None, need: Need | None, member: Member, served_on: date):
    """(the day's cap, minutes already logged that day, the subject's title)."""
    subject = HourLog.project_id == project.id if project else HourLog.need_id == need.id
    logged = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(HourLog.minutes), 0)).where(
            subject,
            HourLog.member_id == member.id,
            HourLog.served_on == served_on,
            HourLog.status != "rejected",
        )
    )
    if project is not None:
        return project.daily_minutes, int(logged), project.title
    return WISH_DAILY_MINUTES, int(logged), need.title


def _check_project(project: Project, member: Member, served_on: date, *, logged_by, as_contact):
    """The member's place on a running project; the day within its schedule."""
    if project.status not in ("in_progress", "done"):
        raise ProjectNotRunning(
            "Hours are reported once %(title)s is under way, until it is verified.",
            params={"title": project.title},
        )
    claim = serving_claim(project.id, member.id)
    if claim is None:
        raise NotServing(
            "%(name)s holds no place on %(title)s.",
            params={"name": shown_name(member), "title": project.title},
        )
    if as_contact:
        if claim.organization is None:
            raise NotServing(
                "%(name)s was not named by an organization.", params={"name": shown_name(member)}
            )
        require_contact(logged_by, claim.organization)
    first, last = local_date(project.starts_at), local_date(project.ends_at)
    if not first <= served_on <= last:
        raise OutsideSchedule(
            "%(title)s runs from %(first)s to %(last)s.",
            params={"title": project.title, "first": first, "last": last},
            errors={"served_on": ["Outside the schedule."]},
        )
    return claim


def _check_wish(need: Need, member: Member, served_on: date) -> Need:
    need = lock_need(need.id)
    if not need.is_wish:
        raise NotAWish("%(title)s is not a small wish.", params={"title": need.title})
    if need.status != "accepted" or need.taker_id != member.id:
        raise NotServing(
            "%(name)s has not taken %(title)s.",
            params={"name": shown_name(member), "title": need.title},
        )
    if served_on < local_date(need.created_at):
        raise OutsideSchedule(
            "That day is before the wish was made.", errors={"served_on": ["Before the wish."]}
        )
    return need


@use_case
def log_hours(
    *,
    member: Member,
    logged_by: Member,
    served_on: date,
    minutes: int,
    description: str,
    project: Project | None = None,
    need: Need | None = None,
    as_contact: bool = False,
    photo: bytes | None = None,
    now: datetime | None = None,
) -> HourLog:
    """Report ``minutes`` that ``member`` served on ``served_on`` (a local day) on a project
    or a small wish. ``logged_by`` is the member (or their guardian) or, ``as_contact``,
    the contact of the organization that named them.

    The day lies in the project's schedule (not in the future), and the member's minutes
    for it stay within the schedule's daily minutes (a wish: 8 hours). Raises
    InvalidHourLog, ProjectNotRunning, NotServing, NotOrganizationContact, NotAWish,
    OutsideSchedule, OverSchedule, InvalidPhoto, PhotoTooLarge.
    """
    now = now or utcnow()
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if (project is None) == (need is None):
        errors["project_id"] = ["Name a project or a small wish."]
    if not description or len(description) > TEXT_MAX:
        errors["description"] = [f"Say what was done (at most {TEXT_MAX} characters)."]
    unit = rounding_minutes()
    if minutes not in LOG_MINUTES or minutes < unit:
        errors["minutes"] = [f"Between {max(unit, LOG_MINUTES.low)} and {LOG_MINUTES.high}."]
    if errors:
        raise InvalidHourLog(
            "The hour log has invalid fields: %(fields)s.",
            errors=errors,
            params={"fields": ", ".join(sorted(errors))},
        )
    if served_on > local_date(now):
        raise OutsideSchedule(
            "Hours are reported after the service, not before.",
            errors={"served_on": ["In the future."]},
        )
    claim = None
    if project is not None:
        claim = _check_project(
            project, member, served_on, logged_by=logged_by, as_contact=as_contact
        )
    else:
        need = _check_wish(need, member, served_on)
    cap, logged, title = _day_cap(project, need, member, served_on)
    if logged + minutes > cap:
        raise OverSchedule(
            "At most %(cap)s minutes a day on %(title)s; %(left)s left for %(day)s.",
            params={"cap": cap, "title": title, "left": max(cap - logged, 0), "day": served_on},
            errors={"minutes": ["Over the schedule."]},
        )
    log = HourLog(
        project_id=project.id if project is not None else None,
        need_id=need.id if need is not None else None,
        member_id=member.id,
        logged_by_id=logged_by.id,
        claim_id=claim.id if claim is not None else None,
        organization_id=claim.organization_id if claim is not None else None,
        served_on=served_on,
        minutes=minutes,
        description=description,
        status="pending",
        created_at=now,
    )
    if photo:
        log.photo_name, log.photo_type = store_photo(photo, member_id=member.id)
    db.session.add(log)
    db.session.flush()
    return log


@use_case
def attach_photo(log: HourLog, data: bytes) -> HourLog:
    """Add (or replace: the old file is deleted once this commits) the photo of a log
    that waits for a decision. Raises HourLogDecided, InvalidPhoto, PhotoTooLarge,
    RateLimited (uploads for one member are throttled). The status is read on the
    locked row: a photo never changes under a decision."""
    log = lock_hour_logs([log.id])[log.id]
    if log.status != "pending":
        raise HourLogDecided("Hour log %(id)s was already decided.", params={"id": log.id})
    log.photo_name, log.photo_type = store_photo(
        data, member_id=log.member_id, replaces=log.photo_name
    )
    db.session.flush()
    return log


# ---------------------------------------------------------------- decisions


@dataclass
class Decisions:
    """The outcome of a bulk decision: the logs decided, and each refused id with its error
    (not all or none)."""

    decided: list[HourLog] = field(default_factory=list)
    refused: list[tuple[int, DomainError]] = field(default_factory=list)


def lock_hour_logs(ids: list[int]) -> dict[int, HourLog]:
    """The named logs that exist, locked in id order. InvalidInput for none or too many."""
    ids = sorted(set(ids))
    if not ids:
        raise InvalidInput("Name at least one hour log.", errors={"ids": ["Required."]})
    if len(ids) > MAX_BULK:
        raise InvalidInput(
            "At most %(max)s hour logs at once.",
            params={"max": MAX_BULK},
            errors={"ids": ["Too many."]},
        )
    rows = db.session.scalars(
        sa.select(HourLog)
        .where(HourLog.id.in_(ids))
        .options(
            selectinload(HourLog.project), selectinload(HourLog.need), selectinload(HourLog.member)
        )
        .order_by(HourLog.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {log.id: log for log in rows}


def _authorize_locked(actor: Member, found: dict[int, HourLog]) -> None:
    """Forbidden unless ``actor`` may decide hours somewhere and every locked log lies in
    their scope. Checked on the rows the decision locked, in its transaction: a log
    committed after an earlier check would be decided unchecked (READ COMMITTED)."""
    access.authorize_anywhere(actor, "hour_logs.approve")
    for log in found.values():
        access.authorize(actor, "hour_logs.approve", Target(unit=log.unit_id))


def _decide_each(ids, decide, actor: Member) -> Decisions:
    found = lock_hour_logs(ids)
    _authorize_locked(actor, found)
    outcome = Decisions()
    for log_id in sorted(set(ids)):
        log = found.get(log_id)
        try:
            if log is None:
                raise HourLogNotFound("Hour log %(id)s does not exist.", params={"id": log_id})
            decide(log)
            outcome.decided.append(log)
        except DomainError as error:
            outcome.refused.append((log_id, error))
    db.session.flush()
    return outcome


def _not_ones_own(log: HourLog, actor: Member) -> None:
    if actor.id == log.logged_by_id or access.pays_self_or_ward(actor, log.member_id):
        raise FourEyes("Nobody decides on their own or their ward's hours; another organizer must.")


def _audit_decision(action: str, log: HourLog, actor: Member, detail: str | None = None) -> None:
    after = {"status": log.status}
    if log.status == "approved":
        after |= {"minutes": log.credited_minutes, "points": log.credited_points}
    record_audit(
        action, actor=actor, subject=log.member_id, target=f"hour_log:{log.id}",
        before={"status": "pending", "minutes": log.minutes}, after=after, detail=detail,
    )  # fmt: skip


@use_case
def approve_hour_logs(ids: list[int], *, actor: Member, now: datetime | None = None) -> Decisions:
    """Approve the valid logs among ``ids`` and credit each (HOURS: the minutes rounded
    down to the deployment's unit; POINTS: by the project's rule) with key
    ``hourlog:<id>``; approving again credits nothing more. A small wish is resolved when
    its taker's hours are approved. The others are refused, each with its error:
    HourLogNotFound, HourLogDecided (rejected), FourEyes (one's own). Raises Forbidden
    (nothing decided) when any named log lies outside the actor's scope."""
    now = now or utcnow()
    approved: list[HourLog] = []

    def approve(log: HourLog) -> None:
        if log.status == "rejected":
            raise HourLogDecided("Hour log %(id)s was rejected.", params={"id": log.id})
        if log.status == "pending":
            _not_ones_own(log, actor)
            log.credited_minutes = log.minutes - log.minutes % rounding_minutes()
            log.credited_points = log.credited_minutes * _points_per_hour(log) // 60
            log.status, log.decided_by_id, log.decided_at = "approved", actor.id, now
            _audit_decision("hour_log.approve", log, actor)
            _resolve_wish(log, actor, now)
        notify_hours_approved(log, now=now)
        # also one approved before: a retry after a crash must credit exactly once
        approved.append(log)

    outcome = _decide_each(ids, approve, actor)
    _credit(approved)
    return outcome


def _points_per_hour(log: HourLog) -> int:
    if log.project is not None:
        return log.project.points_per_hour
    return int(current_app.config["TIMEBANK_WISH_POINTS_PER_HOUR"])


def _resolve_wish(log: HourLog, actor: Member, now: datetime) -> None:
    need = log.need
    if need is not None and need.status == "accepted" and need.taker_id == log.member_id:
        resolve_with(need, actor=actor, reason=coded("wish_fulfilled"), now=now)


def _credit(logs: list[HourLog]) -> None:
    """Post the approved logs' HOURS and POINTS, once each (keyed ``hourlog:<id>``), in one
    step after every decision: the issuance accounts are locked only for that step."""
    from timebank.ledger import operations as ledger

    ledger.credit_evidence([
        ledger.Evidence(
            member_id=log.member_id,
            member_unit_id=log.member.home_unit_id,
            unit_id=log.unit_id,
            minutes=log.credited_minutes or 0,
            points=log.credited_points or 0,
            code="earn_project",
            reference_type="hour_log",
            reference_id=str(log.id),
            idempotency_key=f"hourlog:{log.id}",
            actor_id=log.decided_by_id,
        )
        for log in logs
    ])  # fmt: skip


@use_case
def reject_hour_logs(
    ids: list[int], *, actor: Member, reason: str, now: datetime | None = None
) -> Decisions:
    """Reject the pending logs among ``ids`` with a reason; nothing is credited. Refused:
    HourLogNotFound, HourLogDecided (approved: correct it in the ledger), FourEyes.
    Raises ReasonRequired for the whole call, Forbidden as ``approve_hour_logs``."""
    reason = require_reason(reason)
    now = now or utcnow()

    def reject(log: HourLog) -> None:
        if log.status == "approved":
            raise HourLogDecided(
                "Hour log %(id)s is already approved and credited; correct it in the ledger.",
                params={"id": log.id},
            )
        if log.status == "pending":
            _not_ones_own(log, actor)
            log.status, log.reject_reason = "rejected", reason
            log.decided_by_id, log.decided_at = actor.id, now
            _audit_decision("hour_log.reject", log, actor, detail=reason)
            notify_hours_rejected(log, now=now)

    return _decide_each(ids, reject, actor)


# ---------------------------------------------------------------- lists


def _with_subjects(query: sa.Select) -> sa.Select:
    return query.options(
        selectinload(HourLog.project),
        selectinload(HourLog.need),
        selectinload(HourLog.member),
        selectinload(HourLog.organization),
    )


def hour_logs_select(unit_ids: sa.Select, *, status: str | None = None) -> sa.Select:
    """Logs of projects and small wishes in the units of ``unit_ids``, oldest first (the
    approval queue with ``status="pending"``)."""
    query = (
        sa.select(HourLog)
        .outerjoin(Project, Project.id == HourLog.project_id)
        .outerjoin(Need, Need.id == HourLog.need_id)
        .where(sa.func.coalesce(Project.unit_id, Need.unit_id).in_(unit_ids))
        .order_by(HourLog.served_on, HourLog.id)
    )
    if status is not None:
        query = query.where(HourLog.status == status)
    return _with_subjects(query)


def count_hour_logs_waiting(unit_ids, *, created_before: datetime | None = None) -> int:
    """Hour logs waiting for an organizer in the units of ``unit_ids`` (ids, or a SELECT
    of them); ``created_before``: only those reported before then (waiting that long)."""
    query = (
        sa.select(sa.func.count(HourLog.id))
        .outerjoin(Project, Project.id == HourLog.project_id)
        .outerjoin(Need, Need.id == HourLog.need_id)
        .where(
            sa.func.coalesce(Project.unit_id, Need.unit_id).in_(unit_ids),
            HourLog.status == "pending",
        )
    )
    if created_before is not None:
        query = query.where(HourLog.created_at < created_before)
    return db.session.scalar(query)


def members_with_approved_hours(member_ids, since: date) -> set[int]:
    """Those of ``member_ids`` (ids, or a SELECT of them) with an approved hour log served
    on or after ``since``: project or small-wish service counts as serving."""
    return set(
        db.session.scalars(
            sa.select(HourLog.member_id)
            .where(
                HourLog.member_id.in_(member_ids),
                HourLog.status == "approved",
                HourLog.served_on >= since,
            )
            .distinct()
        )
    )


def my_hour_logs(member: Member, *, limit: int = 200) -> list[HourLog]:
    """The member's logs, the newest day first."""
    return list(
        db.session.scalars(
            _with_subjects(
                sa.select(HourLog)
                .where(HourLog.member_id == member.id)
                .order_by(HourLog.served_on.desc(), HourLog.id.desc())
                .limit(limit)
            )
        )
    )


def hour_logs_of_project(project_id: int) -> list[HourLog]:
    return list(
        db.session.scalars(
            _with_subjects(
                sa.select(HourLog)
                .where(HourLog.project_id == project_id)
                .order_by(HourLog.served_on, HourLog.id)
            )
        )
    )


def approved_minutes_since(member_ids: list[int], since: date) -> dict[int, int]:
    """Member id -> approved (credited) minutes of hour logs served on or after ``since``:
    project service and small wishes, for the party-member report (双报到)."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        sa.select(HourLog.member_id, sa.func.sum(HourLog.credited_minutes))
        .where(
            HourLog.member_id.in_(member_ids),
            HourLog.status == "approved",
            HourLog.served_on >= since,
        )
        .group_by(HourLog.member_id)
    )
    return {member_id: int(minutes or 0) for member_id, minutes in rows}
