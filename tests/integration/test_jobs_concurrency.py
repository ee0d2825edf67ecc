"""Jobs and notifications under concurrent writers, on SQLite and PostgreSQL: a job run by
hand while the scheduler runs it does its work once; a notification key is used once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.integration.test_ledger_concurrency import _run_threads
from tests.unit.test_ledger import earn
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.inbox.models import Notification
from timebank.jobs import JOBS
from timebank.ledger import operations as ledger
from timebank.ledger.models import Transfer
from timebank.scheduling import operations as scheduling
from timebank.scheduling.models import JobPeriod

pytestmark = pytest.mark.concurrent


def test_two_runs_of_expiry_at_once_expire_each_lot_once(app):
    """Without the job's lock, the second run would read the lots before the first
    committed and expire 30 points again out of the 40 that never expire."""
    d = factories.create_district()
    alice = factories.create_member(d["building_a"])
    app.config["TIMEBANK_POINTS_EXPIRY_DAYS"] = 10
    earn(alice, d["a"], points=30, key="attendance:1")
    app.config["TIMEBANK_POINTS_EXPIRY_DAYS"] = 0
    earn(alice, d["a"], points=40, key="attendance:2")
    db.session.commit()
    later = utcnow() + timedelta(days=11)
    job = scheduling.find_job(JOBS, "expire-points")

    def work(n):
        runs = scheduling.run_job(job, now=later, trigger="manual", runner=f"thread {n}")
        return [run.outcome for run in runs]

    outcomes = _run_threads(app, 2, work)
    assert sorted(map(str, outcomes)) in (
        ["['ok']", "['skipped']"],  # both started; the second found the day done
        ["['ok']", "[]"],  # the second looked after the first had committed
    ), outcomes
    expired = db.session.scalars(sa.select(Transfer).where(Transfer.code == "expire")).all()
    assert [t.amount for t in expired] == [30]
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 40
    assert db.session.scalar(sa.select(sa.func.count(JobPeriod.id))) == 1


def test_one_notification_per_key_under_concurrent_writers(app):
    d = factories.create_district()
    member = factories.create_member(d["building_a"])
    db.session.commit()

    def work(n):
        written = inbox.notify(
            db.session.get(type(member), member.id),
            "activity_soon",
            key="remind:1:1:hour_before",
            params={"title": "周六环境整治", "starts": "09:00"},
        )
        return written is not None

    outcomes = _run_threads(app, 4, work)
    assert sorted(outcomes) == [False, False, False, True], outcomes
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1
