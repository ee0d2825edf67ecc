"""Two real `timebank scheduler` processes on the test database (SQLite file or
PostgreSQL): only the lease holder runs jobs, and after the leader is killed with SIGKILL
the other takes over within the lease time. Short lease and interval by TIMEBANK_*
variables; these tests take seconds, on purpose."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from timebank.config import SETTINGS
from timebank.extensions import db
from timebank.scheduling.models import JobRun, Lease

pytestmark = pytest.mark.concurrent

LEASE = 3.0
RENEW = 0.5
TIMEBANK = Path(sys.executable).with_name("timebank")


def scheduler_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        TIMEBANK_ENV="testing",
        TIMEBANK_DATABASE_URL=database_url,
        TIMEBANK_SCHEDULER_LEASE_SECONDS=str(LEASE),
        TIMEBANK_SCHEDULER_RENEW_SECONDS=str(RENEW),
    )
    for setting in SETTINGS:  # one cheap job every second; the others off
        if setting.name.startswith("TIMEBANK_JOB_"):
            env[setting.name] = "off"
    env["TIMEBANK_JOB_RELEASE_HOLDS"] = "every 1s"
    return env


def start_scheduler(database_url: str, log: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(TIMEBANK), "scheduler", *extra],
        env=scheduler_env(database_url),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def runs_by_pid() -> dict[int, list]:
    """Recorded runs (runner, started_at, outcome), by the pid in their runner
    (scheduler@host:pid:random)."""
    query = sa.select(JobRun.runner, JobRun.started_at, JobRun.outcome).order_by(JobRun.id)
    runs = db.session.execute(query).all()
    db.session.rollback()  # end the read at once: on SQLite it holds the write lock
    found: dict[int, list] = {}
    for run in runs:
        found.setdefault(int(run.runner.split(":")[1]), []).append(run)
    return found


def current_lease() -> tuple[str, datetime, datetime]:
    """(holder, acquired_at, expires_at) of the scheduler's lease."""
    row = db.session.execute(
        sa.select(Lease.holder, Lease.acquired_at, Lease.expires_at).where(
            Lease.name == "scheduler"
        )
    ).one()
    db.session.rollback()
    return row


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")


def log_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


# slow: two real scheduler processes start (about a second each), the standby must not take
# over while the leader renews (a lease and a second), then must after a SIGKILL (up to a
# lease): 10-13 s of waiting on real time that no smaller lease makes reliable under load.
@pytest.mark.slow
def test_only_the_leader_runs_jobs_and_a_standby_takes_over_after_sigkill(
    app, database_url, tmp_path
):
    db.session.commit()
    first = start_scheduler(database_url, tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: first.pid in runs_by_pid(), 30, "the first scheduler's first run")
        second = start_scheduler(database_url, tmp_path / "second.log")
        wait_for(lambda: "started" in log_text(tmp_path / "second.log"), 30, "the second to start")
        before = len(runs_by_pid()[first.pid])
        time.sleep(LEASE + 1)  # longer than a lease: the second never takes over meanwhile
        during = runs_by_pid()
        assert set(during) == {first.pid}, (tmp_path / "second.log").read_text()
        assert len(during[first.pid]) >= before + 2  # the leader kept working

        killed_at = datetime.now(UTC)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        took_over = wait_for(
            lambda: runs_by_pid().get(second.pid), LEASE + 10, "the second to take over"
        )
        holder, acquired_at, _expires = current_lease()
        assert holder.split(":")[1] == str(second.pid)
        takeover = (acquired_at - killed_at).total_seconds()
        first_run = (took_over[0].started_at - killed_at).total_seconds()
        print(f"lease taken {takeover:.2f} s after SIGKILL; first job {first_run:.2f} s after")
        assert takeover <= LEASE + 0.5, takeover
        assert first_run <= LEASE + 1.5, first_run
        after = runs_by_pid()
        assert all(r.started_at < killed_at for r in after[first.pid])
        # every run of the new leader went well; its newest may still be running (it runs
        # every second, and its start is committed before its work)
        *finished, newest = after[second.pid]
        assert all(r.outcome == "ok" for r in finished) and newest.outcome in ("ok", "running")
        # the run the kill cut short (if it did) is marked interrupted by the new leader
        *done, last = after[first.pid]
        assert all(r.outcome == "ok" for r in done) and last.outcome in ("ok", "interrupted")

        second.send_signal(signal.SIGTERM)  # a clean stop hands the lease back
        assert second.wait(timeout=15) == 0, (tmp_path / "second.log").read_text()
        assert current_lease()[2] <= datetime.now(UTC)
    finally:
        stop(first)
        if second is not None:
            stop(second)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] == "Z"  # a zombie has exited
    except FileNotFoundError:
        return True


def test_a_scheduler_started_by_make_run_stops_when_its_shell_is_killed(
    app, database_url, tmp_path
):
    """`make run` starts the scheduler from a shell beside the server; even when that shell
    is killed outright (no trap runs), --exit-with-parent stops the scheduler."""
    db.session.commit()
    shell = subprocess.Popen(
        [
            "sh",
            "-c",
            f'"{TIMEBANK}" scheduler --exit-with-parent >"{tmp_path}/s.log" 2>&1 & '
            "echo $!; sleep 60",
        ],  # fmt: skip
        env=scheduler_env(database_url),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        pid = int(shell.stdout.readline())
        wait_for(lambda: "started" in log_text(tmp_path / "s.log"), 30, "the scheduler")
        shell.send_signal(signal.SIGKILL)
        shell.wait(timeout=10)
        wait_for(lambda: _gone(pid), RENEW * 4 + 10, "the scheduler to stop")
        assert "is gone; stopping" in log_text(tmp_path / "s.log")
    finally:
        os.killpg(shell.pid, signal.SIGKILL)  # the shell's sleep, and anything left
