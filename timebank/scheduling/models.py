"""Leases, job runs, the periods a job has done, and alerts for admins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.extensions import db

RUN_OUTCOMES = ("running", "ok", "alert", "failed", "skipped", "interrupted")
RUN_TRIGGERS = ("schedule", "manual")


class Lease(db.Model):
    """A named lease held by one process until it expires: the scheduler's leadership.

    The holder renews it well before ``expires_at``; another process takes it only once
    it has expired, so a leader killed without a goodbye is replaced within the lease time.
    """

    __tablename__ = "leases"

    #: the lease's name, e.g. scheduler
    name: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    #: the process holding it: scheduler@host:pid:random
    holder: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    #: when the current holder took it
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: when the holder last renewed it
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: after this moment anyone may take it
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<Lease {self.name} {self.holder} until {self.expires_at:%H:%M:%S}>"


class JobRun(db.Model):
    """One run of a job: when, as of when, by whom, how it ended and what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.CheckConstraint(
            "outcome IN ('running', 'ok', 'alert', 'failed', 'skipped', 'interrupted')",
            name="outcome_known",
        ),
        sa.CheckConstraint("trigger IN ('schedule', 'manual')", name="trigger_known"),
        sa.Index("ix_job_runs_job_started", "job", "started_at"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the job's name in the job table, e.g. expire-points
    job: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: schedule (the scheduler fired it, or caught it up) or manual (run now)
    trigger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: who ran it: scheduler@host:pid:random, cli@host:pid, or the admin's name and phone
    runner: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    #: the moment the job ran as of; a missed day caught up later runs as of that day
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: the day (2026-03-14) or month (2026-03) a daily or monthly job did; NULL otherwise
    period: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    #: when it started (server clock)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it ended; NULL while running
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: running, ok, alert (it raised an alert), failed, skipped (done already), interrupted
    outcome: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="running")
    #: what it did, e.g. {"closed": 3}
    counts: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    #: the error, when it failed
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: the run's request id (job-..., or the request's that ran it now): its log lines carry it
    request_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)

    def __repr__(self) -> str:
        return f"<JobRun {self.id} {self.job} {self.period or ''} {self.outcome}>"


class JobPeriod(db.Model):
    """A day or month a job has done, written in the same transaction as its effects: a
    rerun or a catch-up finds it and does that period no second time."""

    __tablename__ = "job_periods"
    __table_args__ = (sa.UniqueConstraint("job", "period"),)

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the job's name
    job: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: the day (2026-03-14) or month (2026-03)
    period: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: the scheduled moment of that period the job ran as of
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: the run that did it
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("job_runs.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: when it was done (server clock)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<JobPeriod {self.job} {self.period}>"


class Alert(db.Model):
    """Something admins must look at (the ledger failed verification, a job keeps
    failing): shown on their home page until one of them resolves it."""

    __tablename__ = "alerts"

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: ledger_verify_failed or job_failed
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: unique: raising the same alert again changes nothing, e.g. alert:verify-ledger:2026-03-14
    key: Mapped[str] = mapped_column(sa.String(160), unique=True, nullable=False)
    #: what was found, for people (the first wrong row, the error)
    message: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: when it was raised
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when an admin resolved it; NULL while open
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, nullable=True)
    #: the admin who resolved it
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: what the admin found and did
    resolution: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)

    def __repr__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"<Alert {self.id} {self.kind} {state}>"
