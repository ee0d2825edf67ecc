"""The scheduler process's decisions with a controlled clock (no APScheduler thread runs):
only the leader runs jobs, a process that cannot renew or has lost the lease runs none,
and APScheduler is configured to coalesce missed runs, one instance at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from tests.activities_factories import T0
from timebank.core import clock as app_clock
from timebank.extensions import db
from timebank.jobs import JOBS
from timebank.scheduling import operations as scheduling
from timebank.scheduling import process as process_module
from timebank.scheduling.errors import InvalidSchedule
from timebank.scheduling.models import JobRun
from timebank.scheduling.process import SchedulerProcess


class Clock:
    """One clock for the wall (utcnow) and for time.monotonic, moved by the test."""

    def __init__(self):
        self.offset = timedelta(0)

    def utcnow(self):
        return T0 + self.offset

    def monotonic(self):
        return 1_000_000 + self.offset.total_seconds()


@pytest.fixture
def clock(app, monkeypatch):
    app.config.update(TIMEBANK_SCHEDULER_LEASE_SECONDS=60, TIMEBANK_SCHEDULER_RENEW_SECONDS=15)
    clock = Clock()
    app_clock.set_source(clock.utcnow)  # the app fixture sets it back at the end
    monkeypatch.setattr(process_module.time, "monotonic", clock.monotonic)
    db.session.commit()  # SQLite: the processes below write in their own sessions
    return clock


def runners() -> list[str]:
    found = list(db.session.scalars(sa.select(JobRun.runner).order_by(JobRun.id)))
    db.session.rollback()
    return found


def test_only_the_leader_runs_and_a_standby_runs_once_the_lease_expired(app, clock):
    first, second = SchedulerProcess(app, JOBS), SchedulerProcess(app, JOBS)
    assert first._beat() and not second._beat()
    first.run("release-holds")
    second.run("release-holds")
    assert runners() == [first.identity]

    clock.offset = timedelta(seconds=59)  # the leader died without renewing
    assert not second._beat()
    clock.offset = timedelta(seconds=61)
    assert not first.is_leader  # its own clock says its lease ran out: it runs nothing
    first.run("release-holds")
    assert second._beat() and second.is_leader
    second.run("release-holds")
    assert runners() == [first.identity, second.identity]
    assert not first._beat()  # back from the dead: it stays a standby


def test_a_process_that_cannot_renew_runs_nothing(app, clock, monkeypatch):
    leader = SchedulerProcess(app, JOBS)
    assert leader._beat()

    def unreachable(*args, **kwargs):
        raise OperationalError("UPDATE leases", {}, Exception("database is locked"))

    monkeypatch.setattr(scheduling, "claim_lease", unreachable)
    assert not leader._beat() and not leader.is_leader
    leader.run("release-holds")
    assert runners() == []


def test_a_job_of_a_process_that_lost_the_lease_commits_nothing(app, clock):
    """The process still believes it leads (its renewals stalled), but another took the
    lease: the job's own transaction checks the lease first, and stops."""
    stale = SchedulerProcess(app, JOBS)
    assert stale._beat()
    clock.offset = timedelta(seconds=61)
    stale._leader_until = float("inf")  # as if its clock had not noticed
    with app.app_context():
        scheduling.claim_lease("scheduler", "scheduler@other:1:x", now=clock.utcnow(), seconds=60)
        db.session.commit()
    stale.run("release-holds")
    assert runners() == [] and not stale.is_leader


def test_missed_runs_coalesce_one_instance_at_a_time(app, clock):
    app.config["TIMEBANK_SCHEDULER_MISFIRE_GRACE_SECONDS"] = 120
    process = SchedulerProcess(app, JOBS)
    assert process.scheduler._job_defaults == {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 120,
    }
    assert process.renew_seconds == 15 and process.lease_seconds == 60


def test_a_schedule_that_does_not_read_stops_the_start(app):
    app.config["TIMEBANK_JOB_EXPIRE_POINTS"] = "every 5m"  # a daily job needs a crontab
    with pytest.raises(InvalidSchedule):
        SchedulerProcess(app, JOBS)
    result = app.test_cli_runner().invoke(args=["scheduler"])
    assert result.exit_code != 0 and "TIMEBANK_JOB_EXPIRE_POINTS" in result.output
