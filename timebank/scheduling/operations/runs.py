"""Running a job of the job table: recorded, fenced by the lease, once per period, and
caught up in order after downtime.

A run is three short transactions: record it as running; do the job's work, its period
mark and its outcome together (all or nothing); or, when the work failed, record the
failure. The scheduler fences every transaction with its lease; on PostgreSQL an advisory
lock per job keeps a manual run and a scheduled one from running the same job at once
(SQLite's BEGIN IMMEDIATE already runs one writer at a time).
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from timebank.core import metrics
from timebank.core.clock import utcnow
from timebank.core.request_id import bound_request_id, current_request_id
from timebank.core.uow import unit_of_work
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.scheduling.errors import JobNotFound, LeaseLost
from timebank.scheduling.models import JobPeriod, JobRun
from timebank.scheduling.operations.alerts import RAISED, raise_alert
from timebank.scheduling.table import Job, fire_times

logger = logging.getLogger("timebank.jobs")
#: periods one firing catches up at most; the rest follow at the next firing
MAX_CATCH_UP = 400
#: how far back a job's first run looks for its newest period
FIRST_LOOKBACK = {"day": timedelta(days=2), "month": timedelta(days=62)}
ERROR_MAX = 4000


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def find_job(jobs: Iterable[Job], name: str) -> Job:
    """The job of that name in the table, or JobNotFound."""
    for job in jobs:
        if job.name == name:
            return job
    raise JobNotFound("There is no job %(name)s.", params={"name": name})


@use_case
def run_job(
    job: Job,
    *,
    now: datetime,
    trigger: str,
    runner: str,
    fence: Callable[[], None] | None = None,
) -> list[JobRun]:
    """Run ``job`` as of ``now``; returns the runs it recorded (oldest first).

    A job without a period runs once. A job with one does every period due and not yet
    done, oldest first, each as of its own scheduled moment, and stops at the first that
    fails (a later day never goes before an earlier one). Run by hand (``trigger=
    "manual"``) with nothing due, a ``latest`` job (verification) runs as of now anyway.
    ``fence`` (the scheduler's lease) starts each transaction; LeaseLost propagates.
    """
    if job.period is None:
        return [_run_once(job, as_of=now, period=None, trigger=trigger, runner=runner, fence=fence)]
    due = due_periods(job, now)
    if not due and trigger == "manual" and job.catch_up == "latest":
        return [_run_once(job, as_of=now, period=None, trigger=trigger, runner=runner, fence=fence)]
    runs = []
    for period, as_of in due:
        run = _run_once(
            job, as_of=as_of, period=period, trigger=trigger, runner=runner, fence=fence
        )
        if run is None:
            continue
        runs.append(run)
        if run.outcome == "failed":
            break
    return runs


def due_periods(job: Job, now: datetime) -> list[tuple[str, datetime]]:
    """(period, scheduled moment) of each period of ``job`` due by ``now`` and not done,
    oldest first: every one since the last done (``each``), or the newest (``latest``).
    A job that never ran starts with the newest period only."""
    zone = local_zone()
    trigger = job.trigger(current_app.config, zone)
    if trigger is None:
        return []
    last = db.session.scalar(
        sa.select(sa.func.max(JobPeriod.as_of)).where(JobPeriod.job == job.name)
    )
    lookback = now - FIRST_LOOKBACK[job.period]
    if last is None:
        times = fire_times(trigger, lookback, now, limit=10_000)[-1:]
    elif job.catch_up == "latest":
        times = fire_times(trigger, max(last, lookback), now, limit=10_000)[-1:]
    else:
        times = fire_times(trigger, last + timedelta(microseconds=1), now, limit=MAX_CATCH_UP)
    first_of: dict[str, datetime] = {}
    for moment in times:
        first_of.setdefault(job.period_of(moment, zone), moment)
    done = set(
        db.session.scalars(
            sa.select(JobPeriod.period).where(
                JobPeriod.job == job.name, JobPeriod.period.in_(list(first_of))
            )
        )
    )
    return [(period, moment) for period, moment in first_of.items() if period not in done]


def lock_job(name: str) -> None:
    """Hold the job's lock until the transaction ends (PostgreSQL advisory lock; on SQLite
    the transaction's BEGIN IMMEDIATE already excludes every other writer)."""
    if db.session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"timebank.job:{name}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _period_done(job: str, period: str) -> bool:
    return (
        db.session.scalar(
            sa.select(JobPeriod.id).where(JobPeriod.job == job, JobPeriod.period == period)
        )
        is not None
    )


def _start(job: Job, *, as_of, period, trigger, runner, fence) -> int | None:
    """Record the run as running (committed, so the admin page shows it); None when its
    period was done meanwhile."""
    with unit_of_work():
        if fence is not None:
            fence()
        lock_job(job.name)
        if period is not None and _period_done(job.name, period):
            return None
        run = JobRun(
            job=job.name,
            trigger=trigger,
            runner=runner[:160],
            as_of=as_of,
            period=period,
            started_at=utcnow(),
            outcome="running",
            request_id=current_request_id(),
        )
        db.session.add(run)
        db.session.flush()
        return run.id


def _run_once(job: Job, **how) -> JobRun | None:
    """One run under a request id of its own (``job-...``), or the request's that asked
    for it (Run now): its log lines, audit rows and run row carry it."""
    with bound_request_id(current_request_id(), prefix="job-"):
        run = _run_recorded(job, **how)
    if run is not None:
        metrics.count("job_runs", job.name, run.outcome)
    return run


def _run_recorded(job: Job, *, as_of, period, trigger, runner, fence) -> JobRun | None:
    run_id = _start(job, as_of=as_of, period=period, trigger=trigger, runner=runner, fence=fence)
    if run_id is None:
        return None
    db.session.info.pop(RAISED, None)
    try:
        with unit_of_work():
            if fence is not None:
                fence()
            lock_job(job.name)
            run = db.session.get(JobRun, run_id)
            if period is not None and _period_done(job.name, period):
                run.outcome, run.finished_at = "skipped", utcnow()
                return run
            counts = job.function()(as_of)
            if period is not None:
                db.session.add(JobPeriod(job=job.name, period=period, as_of=as_of, run_id=run_id))
            run.counts = dict(counts or {})
            run.outcome = "alert" if db.session.info.pop(RAISED, 0) else "ok"
            run.finished_at = utcnow()
            db.session.flush()
    except LeaseLost:
        _finish(run_id, "interrupted", "The scheduler lost its lease before the job committed.")
        raise
    except Exception as error:
        logger.exception("job %s (run %s, as of %s) failed", job.name, run_id, as_of.isoformat())
        text = "".join(traceback.format_exception(error))[-ERROR_MAX:]
        return _finish(run_id, "failed", text, alert_summary=f"{type(error).__name__}: {error}")
    logger.info("job %s as of %s: %s %s", job.name, as_of.isoformat(), run.outcome, run.counts)
    return run


def _finish(run_id: int, outcome: str, error: str, alert_summary: str | None = None) -> JobRun:
    """Record how a run that did not commit its work ended; a failure raises an alert
    (one per job and day it ran as of)."""
    with unit_of_work():
        run = db.session.get(JobRun, run_id, populate_existing=True)
        run.outcome, run.error, run.finished_at = outcome, error, utcnow()
        if alert_summary is not None:
            day = run.as_of.astimezone(local_zone()).date().isoformat()
            raise_alert(
                "job_failed",
                f"alert:job-failed:{run.job}:{day}",
                f"{run.job} failed (run {run.id}): {alert_summary}"[:ERROR_MAX],
            )
        db.session.flush()
        return run


def mark_interrupted(*, runner_prefix: str, except_runner: str) -> int:
    """Runs left "running" by a scheduler process that died: say so. Returns how many."""
    updated = db.session.execute(
        sa.update(JobRun)
        .where(
            JobRun.outcome == "running",
            JobRun.runner.startswith(runner_prefix),
            JobRun.runner != except_runner,
        )
        .values(outcome="interrupted", finished_at=utcnow(), error="The process running it died.")
        .execution_options(synchronize_session=False)
    )
    return updated.rowcount


def recent_runs(*, job: str | None = None, limit: int = 50) -> list[JobRun]:
    """The newest runs, of one job or of all."""
    query = sa.select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(db.session.scalars(query))


def last_runs() -> dict[str, JobRun]:
    """Job name -> its newest run, in one query."""
    newest = sa.select(sa.func.max(JobRun.id)).group_by(JobRun.job)
    runs = db.session.scalars(sa.select(JobRun).where(JobRun.id.in_(newest)))
    return {run.job: run for run in runs}


def record_run(
    job: str,
    *,
    runner: str,
    trigger: str,
    as_of: datetime,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
    counts: dict | None = None,
    error: str | None = None,
    period: str | None = None,
) -> JobRun:
    """Record a run that happened elsewhere (the demo's history)."""
    run = JobRun(
        job=job,
        runner=runner,
        trigger=trigger,
        as_of=as_of,
        period=period,
        started_at=started_at,
        finished_at=finished_at,
        outcome=outcome,
        counts=counts,
        error=error,
    )
    db.session.add(run)
    db.session.flush()
    return run
