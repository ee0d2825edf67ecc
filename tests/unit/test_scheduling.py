"""The scheduler's machinery with a controlled clock: the lease, recorded runs, periods
done once each and caught up in order, schedules, and the job table's settings."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from timebank.config import SETTINGS
from timebank.extensions import db
from timebank.jobs import JOBS
from timebank.scheduling import operations as scheduling
from timebank.scheduling.errors import InvalidSchedule, LeaseLost
from timebank.scheduling.models import Alert, JobPeriod, JobRun
from timebank.scheduling.table import Job, parse_schedule

#: 2026-03-14 09:00 UTC is 17:00 in Asia/Shanghai (the deployment's zone)
T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
DONE: list[tuple[str, datetime]] = []


def fake_daily(as_of: datetime) -> dict:
    DONE.append(("daily", as_of))
    return {"done": 1}


def fake_monthly(as_of: datetime) -> dict:
    DONE.append(("monthly", as_of))
    return {"statements": 1}


def fake_failing(as_of: datetime) -> dict:
    raise RuntimeError("the gateway timed out")


DAILY = Job("fake-daily", f"{__name__}:fake_daily", doc="", period="day")
MONTHLY = Job("fake-monthly", f"{__name__}:fake_monthly", doc="", period="month")
LATEST = Job("fake-latest", f"{__name__}:fake_daily", doc="", period="day", catch_up="latest")
FAILING = Job("fake-failing", f"{__name__}:fake_failing", doc="")


@pytest.fixture
def fake_jobs(app):
    DONE.clear()
    app.config.update(
        TIMEBANK_JOB_FAKE_DAILY="30 0 * * *",
        TIMEBANK_JOB_FAKE_MONTHLY="0 6 1 * *",
        TIMEBANK_JOB_FAKE_LATEST="0 3 * * *",
        TIMEBANK_JOB_FAKE_FAILING="every 1m",
    )
    return app


def run(job, now, trigger="schedule", **kwargs):
    return scheduling.run_job(job, now=now, trigger=trigger, runner="test", **kwargs)


def local(text: str) -> datetime:
    """A wall-clock time in Asia/Shanghai, e.g. local("2026-03-14 01:00")."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


# ---------------------------------------------------------------- the lease


def test_one_holder_at_a_time_and_takeover_only_after_expiry(app):
    assert scheduling.claim_lease("scheduler", "a", now=T0, seconds=60)
    db.session.commit()
    assert not scheduling.claim_lease("scheduler", "b", now=T0 + timedelta(seconds=59), seconds=60)
    assert scheduling.claim_lease("scheduler", "a", now=T0 + timedelta(seconds=30), seconds=60)
    db.session.commit()
    # a renewed at +30 s: b still waits at +89 s, takes over at +90 s (a died)
    assert not scheduling.claim_lease("scheduler", "b", now=T0 + timedelta(seconds=89), seconds=60)
    assert scheduling.claim_lease("scheduler", "b", now=T0 + timedelta(seconds=90), seconds=60)
    db.session.commit()
    lease = scheduling.current_lease()
    assert (lease.holder, lease.acquired_at) == ("b", T0 + timedelta(seconds=90))
    assert not scheduling.claim_lease("scheduler", "a", now=T0 + timedelta(seconds=91), seconds=60)


def test_fence_refuses_a_process_that_lost_the_lease(app):
    scheduling.claim_lease("scheduler", "a", now=T0, seconds=60)
    scheduling.fence("scheduler", "a", now=T0 + timedelta(seconds=10), seconds=60)
    assert scheduling.current_lease().expires_at == T0 + timedelta(seconds=70)
    with pytest.raises(LeaseLost):
        scheduling.fence("scheduler", "a", now=T0 + timedelta(seconds=71), seconds=60)
    scheduling.claim_lease("scheduler", "b", now=T0 + timedelta(seconds=71), seconds=60)
    with pytest.raises(LeaseLost):
        scheduling.fence("scheduler", "a", now=T0 + timedelta(seconds=72), seconds=60)


def test_a_released_lease_is_free_at_once(app):
    scheduling.claim_lease("scheduler", "a", now=T0, seconds=60)
    scheduling.release_lease("scheduler", "a", now=T0 + timedelta(seconds=1))
    assert scheduling.claim_lease("scheduler", "b", now=T0 + timedelta(seconds=1), seconds=60)


def test_a_fenced_run_of_a_process_without_the_lease_commits_nothing(app, fake_jobs):
    scheduling.claim_lease("scheduler", "other", now=T0, seconds=60)
    db.session.commit()

    def fence():
        scheduling.fence("scheduler", "me", now=T0, seconds=60)

    with pytest.raises(LeaseLost):
        run(DAILY, local("2026-03-14 01:00"), fence=fence)
    assert DONE == []
    assert db.session.scalar(sa.select(sa.func.count(JobRun.id))) == 0


# ---------------------------------------------------------------- runs


def test_every_run_is_recorded_with_its_counts(app, fake_jobs):
    [first] = run(DAILY, local("2026-03-14 01:00"))
    assert (first.job, first.period, first.outcome, first.counts) == (
        "fake-daily",
        "2026-03-14",
        "ok",
        {"done": 1},
    )
    assert first.as_of == local("2026-03-14 00:30")
    assert first.finished_at >= first.started_at
    assert db.session.scalar(sa.select(JobPeriod.run_id)) == first.id


def test_a_failed_run_is_recorded_with_its_error_and_alerts_admins(app, fake_jobs, caplog):
    with caplog.at_level(logging.ERROR):
        [failed] = run(FAILING, T0)
        [again] = run(FAILING, T0 + timedelta(minutes=1))
    assert failed.outcome == "failed" and "the gateway timed out" in failed.error
    assert again.outcome == "failed"
    alerts = scheduling.open_alerts()
    assert [(a.kind, a.key) for a in alerts] == [
        ("job_failed", "alert:job-failed:fake-failing:2026-03-14")
    ]
    assert any(
        r.levelno == logging.ERROR and "ALERT job_failed" in r.message for r in caplog.records
    )


def test_a_run_interrupted_by_a_dead_process_is_marked(app, fake_jobs):
    scheduling.record_run(
        "fake-daily", runner="scheduler@host:1:dead", trigger="schedule", as_of=T0,
        started_at=T0, finished_at=T0, outcome="ok",
    )  # fmt: skip
    stuck = scheduling.record_run(
        "fake-daily", runner="scheduler@host:1:dead", trigger="schedule", as_of=T0,
        started_at=T0, finished_at=T0, outcome="ok",
    )  # fmt: skip
    stuck.outcome, stuck.finished_at = "running", None
    db.session.commit()
    assert (
        scheduling.mark_interrupted(runner_prefix="scheduler@", except_runner="scheduler@me") == 1
    )
    assert db.session.get(JobRun, stuck.id, populate_existing=True).outcome == "interrupted"


# ---------------------------------------------------------------- periods and catch-up


def test_a_daily_job_does_its_day_once(app, fake_jobs):
    assert [r.period for r in run(DAILY, local("2026-03-14 01:00"))] == ["2026-03-14"]
    assert run(DAILY, local("2026-03-14 01:05")) == []
    assert run(DAILY, local("2026-03-14 23:59"), trigger="manual") == []
    assert len(DONE) == 1


def test_the_first_run_does_only_the_newest_period(app, fake_jobs):
    runs = run(DAILY, local("2026-03-14 00:10"))  # before today's 00:30: yesterday is newest
    assert [r.period for r in runs] == ["2026-03-13"]


def test_three_days_down_each_missed_day_once_in_order(app, fake_jobs):
    run(DAILY, local("2026-03-10 00:31"))
    runs = run(DAILY, local("2026-03-13 08:00"))  # down from the 10th's run to the 13th
    assert [(r.period, r.as_of) for r in runs] == [
        ("2026-03-11", local("2026-03-11 00:30")),
        ("2026-03-12", local("2026-03-12 00:30")),
        ("2026-03-13", local("2026-03-13 00:30")),
    ]
    assert [as_of for _, as_of in DONE] == [
        local(f"2026-03-{day} 00:30") for day in (10, 11, 12, 13)
    ]
    assert run(DAILY, local("2026-03-13 08:00")) == []
    assert len(DONE) == 4


def test_a_catch_up_stops_at_a_failed_day_and_a_rerun_resumes_there(app, fake_jobs, monkeypatch):
    run(DAILY, local("2026-03-10 00:31"))
    calls, original = {"n": 0}, fake_daily

    def crash_on_the_second(as_of):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the server lost power")
        return original(as_of)

    monkeypatch.setattr(f"{__name__}.fake_daily", crash_on_the_second)
    runs = run(DAILY, local("2026-03-13 08:00"))
    assert [(r.period, r.outcome) for r in runs] == [("2026-03-11", "ok"), ("2026-03-12", "failed")]
    monkeypatch.setattr(f"{__name__}.fake_daily", fake_daily)
    rerun = run(DAILY, local("2026-03-13 08:05"))
    assert [(r.period, r.outcome) for r in rerun] == [("2026-03-12", "ok"), ("2026-03-13", "ok")]
    assert [as_of.day for _, as_of in DONE] == [10, 11, 12, 13]


def test_monthly_periods_catch_up_each_month_once_in_order(app, fake_jobs):
    run(MONTHLY, local("2026-01-01 07:00"))
    runs = run(MONTHLY, local("2026-04-02 12:00"))  # three statements missed
    assert [r.period for r in runs] == ["2026-02", "2026-03", "2026-04"]
    assert run(MONTHLY, local("2026-04-30 12:00")) == []
    assert [as_of for _, as_of in DONE] == [local(f"2026-{m:02d}-01 06:00") for m in (1, 2, 3, 4)]


def test_a_latest_job_skips_to_the_newest_day_and_runs_when_asked(app, fake_jobs):
    run(LATEST, local("2026-03-10 04:00"))
    runs = run(LATEST, local("2026-03-13 08:00"))
    assert [r.period for r in runs] == ["2026-03-13"]
    assert run(LATEST, local("2026-03-13 09:00")) == []
    [manual] = run(LATEST, local("2026-03-13 10:00"), trigger="manual")
    assert (manual.period, manual.as_of) == (None, local("2026-03-13 10:00"))
    assert len(DONE) == 3


def test_two_runs_of_one_period_do_it_once(app, fake_jobs):
    """A period's mark is written with its effects, under the job's lock: a second run
    that started before the first committed finds the mark and skips."""
    first = run(DAILY, local("2026-03-14 01:00"))
    db.session.execute(sa.delete(JobPeriod))  # as if the second had looked before
    db.session.add(JobPeriod(job="fake-daily", period="2026-03-14", as_of=first[0].as_of,
                             run_id=first[0].id))  # fmt: skip
    db.session.commit()
    assert run(DAILY, local("2026-03-14 01:00")) == []
    assert len(DONE) == 1


# ---------------------------------------------------------------- schedules and the table


def test_schedules_read_as_intervals_crontabs_or_off():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    assert parse_schedule("off", zone) is None
    assert parse_schedule("every 30s", zone).interval == timedelta(seconds=30)
    assert parse_schedule("every 5m", zone).interval == timedelta(minutes=5)
    nightly = parse_schedule("0 3 * * *", zone)
    assert nightly.get_next_fire_time(None, local("2026-03-14 12:00")) == local("2026-03-15 03:00")
    for bad in ("every", "every 0m", "3am", "61 * * * *"):
        with pytest.raises(InvalidSchedule):
            parse_schedule(bad, zone)


def test_a_daily_job_refuses_an_interval(app):
    app.config["TIMEBANK_JOB_FAKE_DAILY"] = "every 5m"
    from zoneinfo import ZoneInfo

    with pytest.raises(InvalidSchedule):
        DAILY.trigger(app.config, ZoneInfo("Asia/Shanghai"))


def test_every_job_has_a_setting_a_readme_row_and_a_function(app, project_root):
    readme = (project_root / "README.md").read_text()
    names = {s.name for s in SETTINGS}
    for job in JOBS:
        assert job.setting in names, f"add {job.setting} to config.SETTINGS"
        assert job.setting in readme, f"list {job.setting} in the README"
        assert callable(job.function())
    job_settings = {n for n in names if n.startswith("TIMEBANK_JOB_")}
    assert job_settings == {job.setting for job in JOBS}, "a setting without a job"
    assert len({job.name for job in JOBS}) == len(JOBS)


def test_alerts_are_raised_once_per_key_and_resolved_by_an_admin(app, caplog):
    with caplog.at_level(logging.ERROR, logger="timebank.alerts"):
        first = scheduling.raise_alert("ledger_verify_failed", "alert:x", "entry 7: hash mismatch")
        again = scheduling.raise_alert("ledger_verify_failed", "alert:x", "entry 7: hash mismatch")
    assert first.id == again.id
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    db.session.commit()
    scheduling.resolve_alert(first.id, actor_id=None, resolution="恢复了备份", now=T0)
    assert scheduling.open_alerts() == []
    assert db.session.get(Alert, first.id).resolution == "恢复了备份"
