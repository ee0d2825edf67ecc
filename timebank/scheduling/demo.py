"""Demo data of the scheduler: three days of recorded job runs (one failed and one that
raised an alert an admin has since resolved). The organizer's reminder of approvals
waiting is written by reminders/demo.py, from his to-do list. Loaded once by
``timebank demo``; a second run changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people
from timebank.scheduling import operations as scheduling
from timebank.scheduling.models import Alert

RUNNER = "scheduler@demo:4242:a1b2"
ALERT_KEY = "alert:verify-ledger:demo"
BROKEN = (
    "checkpoint 3 (POINTS, 1520 entries) is no longer extended: entries up to 1520 were "
    "removed or rewritten"
)
RESOLVED = "核对发现是误连了培训环境的数据库；生产账本重新核验通过，已重新生成检查点。"


def load_jobs_demo(now: datetime | None = None) -> None:
    """Job runs of the last three days and a resolved alert."""
    now = now or utcnow()
    admin = people.find_member_by_phone("13800000000")
    if admin is None or db.session.scalar(sa.select(Alert.id).where(Alert.key == ALERT_KEY)):
        return
    broken_at = _runs(now)
    alert = scheduling.raise_alert(
        "ledger_verify_failed", ALERT_KEY, BROKEN, now=broken_at, log=False
    )
    scheduling.resolve_alert(
        alert.id, actor_id=admin.id, resolution=RESOLVED, now=broken_at + timedelta(hours=6)
    )
    db.session.flush()


def _run(job: str, started: datetime, counts: dict, *, outcome="ok", period=None, error=None):
    scheduling.record_run(
        job,
        runner=RUNNER,
        trigger="schedule",
        as_of=started,
        started_at=started,
        finished_at=started + timedelta(seconds=1.4 if job == "verify-ledger" else 0.2),
        outcome=outcome,
        counts=counts,
        error=error,
        period=period,
    )


def _runs(now: datetime) -> datetime:
    """Record three days of runs; returns when the verification that raised the alert ran."""
    zone = scheduling.local_zone()
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    for days_ago in (3, 2, 1):
        midnight = today - timedelta(days=days_ago)
        day = midnight.date().isoformat()
        _run(
            "expire-points",
            midnight + timedelta(minutes=30),
            {"transfers": 4, "points": 120},
            period=day,
        )
        verified = {"entries": 1520 + 40 * days_ago, "transfers": 760, "checkpoints": 2}
        if days_ago == 2:
            _run(
                "verify-ledger",
                midnight + timedelta(hours=3),
                {"entries": 1520, "problems": 1},
                outcome="alert",
                period=day,
            )
        else:
            _run("verify-ledger", midnight + timedelta(hours=3), verified, period=day)
        _run("remind-party", midnight + timedelta(hours=9), {"reminded": 6}, period=day)
        _run("remind-approvals", midnight + timedelta(hours=9), {"reminded": 2}, period=day)
        for hour in (8, 12, 18):
            moment = midnight + timedelta(hours=hour)
            _run("close-checkouts", moment, {"closed": 1 if hour == 12 else 0})
            _run("remind-activities", moment, {"day_before": 5, "hour_before": 3, "cancelled": 0})
        failed_at = midnight + timedelta(hours=14, minutes=7)
        outcome = "failed" if days_ago == 1 else "ok"
        _run(
            "release-holds",
            failed_at,
            None if outcome == "failed" else {"released": 1},
            outcome=outcome,
            error="OperationalError: database is locked" if outcome == "failed" else None,
        )
    return today - timedelta(days=2) + timedelta(hours=3)
