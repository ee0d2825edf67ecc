"""``timebank scheduler``: APScheduler's BlockingScheduler in a process of its own.

Started inside the web app, APScheduler would run once per gunicorn worker; here it runs
once, and even a second scheduler started by mistake runs nothing: only the process that
holds the database lease (``scheduling.operations.leases``) runs jobs.

- A heartbeat thread claims or renews the lease every TIMEBANK_SCHEDULER_RENEW_SECONDS.
  A standby tries again the moment the leader's lease expires, so after a leader dies
  (even by SIGKILL) it takes over within TIMEBANK_SCHEDULER_LEASE_SECONDS.
- A process that loses the lease, or cannot renew it, runs no further job at once; and
  every job's transaction first renews the lease only if still held (``fence``), so a job
  of a process that lost it commits nothing.
- On becoming leader it marks runs a dead leader left "running" as interrupted and fires
  every job at once: period jobs then catch up the days they missed, in order.
- Jobs run one at a time (one worker thread); ``coalesce``: missed fire times run once,
  ``max_instances=1``, ``misfire_grace_time`` from TIMEBANK_SCHEDULER_MISFIRE_GRACE_SECONDS.
  The job store lives in memory: the job table is the source, nothing is shared.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from timebank.core.clock import utcnow
from timebank.core.uow import unit_of_work
from timebank.scheduling import operations as scheduling
from timebank.scheduling.errors import LeaseLost
from timebank.scheduling.table import Job

logger = logging.getLogger("timebank.scheduler")
#: the process's job runner, for APScheduler's textual reference to ``fire``
_process: SchedulerProcess | None = None
#: stop running jobs this long before the lease would run out, to leave time to commit
LEADER_MARGIN = 0.2


def fire(name: str) -> None:
    """What APScheduler calls (``"timebank.scheduling.process:fire"``): run one job."""
    if _process is not None:
        _process.run(name)


def scheduler_identity() -> str:
    return f"scheduler@{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class SchedulerProcess:
    """The scheduler of one process; ``start()`` blocks until SIGTERM or SIGINT."""

    def __init__(self, app: Flask, jobs: Iterable[Job], *, exit_with_parent: bool = False):
        self.app = app
        self.jobs = {job.name: job for job in jobs}
        self.identity = scheduler_identity()
        config = app.config
        self.lease_seconds = float(config["TIMEBANK_SCHEDULER_LEASE_SECONDS"])
        self.renew_seconds = min(
            float(config["TIMEBANK_SCHEDULER_RENEW_SECONDS"]), self.lease_seconds / 3
        )
        self.zone = ZoneInfo(config["TIMEBANK_TIMEZONE"])
        jobs_by_name = self.jobs.items()
        with app.app_context():  # an unreadable schedule stops the start (InvalidSchedule)
            self.triggers = {name: job.trigger(config, self.zone) for name, job in jobs_by_name}
        self._leader_until = 0.0  # time.monotonic() until which this process may start jobs
        self._stop = threading.Event()
        self._parent = os.getppid() if exit_with_parent else None
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.scheduler = BlockingScheduler(
            timezone=self.zone,
            executors={"default": self.executor},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(config["TIMEBANK_SCHEDULER_MISFIRE_GRACE_SECONDS"]),
            },
        )

    @property
    def is_leader(self) -> bool:
        return time.monotonic() < self._leader_until

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        global _process
        _process = self
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        leader = self._beat()  # before the first job is added: a leader fires them all now
        for name, trigger in self.triggers.items():
            if trigger is None:
                continue
            extra = {"next_run_time": datetime.now(self.zone)} if leader else {}
            self.scheduler.add_job(
                "timebank.scheduling.process:fire",
                trigger=trigger,
                args=[name],
                id=name,
                name=name,
                **extra,
            )
        heartbeat = threading.Thread(target=self._heartbeat, name="lease", daemon=True)
        heartbeat.start()
        logger.info(
            "scheduler %s started: %s jobs, lease %ss renewed every %ss",
            self.identity,
            sum(t is not None for t in self.triggers.values()),
            self.lease_seconds,
            self.renew_seconds,
        )
        try:
            self.scheduler.start()
        finally:
            self._stop.set()
            heartbeat.join(timeout=self.lease_seconds)
            self.executor.shutdown(wait=True)  # let a running job finish and commit
            self._release()
            logger.info("scheduler %s stopped", self.identity)

    def stop(self, *_signal) -> None:
        """Stop firing jobs; ``start()`` then waits for a running job and hands the lease
        back, so a standby takes over at once."""
        self._stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _release(self) -> None:
        self._leader_until = 0.0
        try:
            with self.app.app_context(), unit_of_work():
                scheduling.release_lease(scheduling.LEADER, self.identity, now=utcnow())
        except Exception:
            logger.exception("could not hand the lease back; it expires by itself")

    # ------------------------------------------------------------ the lease

    def _heartbeat(self) -> None:
        wait = self.renew_seconds if self.is_leader else self._until_lease_expires()
        while not self._stop.wait(wait):
            wait = self.renew_seconds
            was_leader = self.is_leader
            if self._beat():
                if not was_leader:
                    self._fire_all()
            else:
                wait = self._until_lease_expires()
            if self._parent is not None and os.getppid() != self._parent:
                logger.warning("the process that started the scheduler is gone; stopping")
                self.stop()
                return

    def _beat(self) -> bool:
        """Claim or renew the lease; True while this process is the leader."""
        started = time.monotonic()
        was_leader = self.is_leader
        try:
            with self.app.app_context(), unit_of_work():
                held = scheduling.claim_lease(
                    scheduling.LEADER, self.identity, now=utcnow(), seconds=self.lease_seconds
                )
                if held and not was_leader:
                    interrupted = scheduling.mark_interrupted(
                        runner_prefix="scheduler@", except_runner=self.identity
                    )
        except Exception:
            logger.exception("could not renew the lease; running no jobs until it is renewed")
            held = False
        if held:
            self._leader_until = started + self.lease_seconds * (1 - LEADER_MARGIN)
            if not was_leader:
                logger.info(
                    "%s is the leader now (%s runs of a dead leader marked interrupted)",
                    self.identity,
                    interrupted,
                )
        else:
            self._leader_until = 0.0
            if was_leader:
                logger.warning("%s lost the lease; running no jobs", self.identity)
        return held

    def _until_lease_expires(self) -> float:
        """Seconds until the current holder's lease runs out (a standby tries then)."""
        try:
            with self.app.app_context(), unit_of_work():
                lease = scheduling.current_lease()
                expires = lease.expires_at if lease else None
        except Exception:
            return self.renew_seconds
        if expires is None:
            return 0.05
        left = (expires - utcnow()).total_seconds() + 0.05
        return min(self.renew_seconds, max(0.05, left))

    def _fire_all(self) -> None:
        """A new leader runs every job now: catch-up of missed periods, and no wait."""
        now = datetime.now(self.zone)
        for name, trigger in self.triggers.items():
            if trigger is not None:
                self.scheduler.modify_job(name, next_run_time=now)

    def _fence(self) -> None:
        if not self.is_leader:
            raise LeaseLost("This process is not the scheduler's leader.")
        scheduling.fence(scheduling.LEADER, self.identity, now=utcnow(), seconds=self.lease_seconds)

    # ------------------------------------------------------------ jobs

    def run(self, name: str) -> None:
        """Run one job of the table, if this process is the leader (else do nothing)."""
        if not self.is_leader:
            logger.debug("standby: %s not run", name)
            return
        try:
            with self.app.app_context():
                scheduling.run_job(
                    self.jobs[name],
                    now=utcnow(),
                    trigger="schedule",
                    runner=self.identity,
                    fence=self._fence,
                )
        except LeaseLost:
            self._leader_until = 0.0
            logger.warning("%s: lease lost; %s not run", self.identity, name)
        except Exception:
            logger.exception("job %s could not run", name)
