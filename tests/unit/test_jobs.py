"""Each job of the job table with a controlled clock: what it does, and that running it a
second time changes nothing. Jobs run through the runner (``run``), as the scheduler runs
them: recorded, in a unit of work."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests import factories
from tests.activities_factories import T0, create_activity
from tests.unit.test_ledger import _tamper, earn
from timebank.activities import operations as activities
from timebank.activities.models import Attendance
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox.models import Notification
from timebank.jobs import JOBS
from timebank.ledger import operations as ledger
from timebank.ledger.models import Checkpoint, Entry, Transfer
from timebank.ledger.operations.sql import LOTS
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.scheduling import operations as scheduling

SHANGHAI = ZoneInfo("Asia/Shanghai")


def run(name: str, now: datetime, trigger: str = "schedule"):
    """Run the job ``name`` of the table as of ``now``; its recorded runs."""
    job = scheduling.find_job(JOBS, name)
    return scheduling.run_job(job, now=now, trigger=trigger, runner="test")


def counts(runs) -> list[dict]:
    assert all(r.outcome == "ok" for r in runs), [(r.outcome, r.error) for r in runs]
    return [r.counts for r in runs]


def notices(member) -> list[tuple[str, str, str]]:
    return [
        (n.kind, n.title, n.body)
        for n in db.session.scalars(
            sa.select(Notification)
            .where(Notification.member_id == member.id)
            .order_by(Notification.id)
        )
    ]


@pytest.fixture
def world(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",), name="上坎网格长")
    alice = factories.create_member(d["building_a"], name="王秀英")
    bob = factories.create_member(d["building_a"], name="Bob Li")
    people.set_locale(bob, "en")
    db.session.commit()
    return {"d": d, "organizer": organizer, "alice": alice, "bob": bob}


# ---------------------------------------------------------------- close-checkouts


def test_close_checkouts_closes_at_the_window_end_once(world):
    activity = create_activity(world["d"]["a"], organizer=world["organizer"], hours=2)
    activities.manual_check_in(activity, world["alice"], actor=world["organizer"], now=T0)
    db.session.commit()
    assert counts(run("close-checkouts", T0 + timedelta(hours=1))) == [{"closed": 0}]
    assert counts(run("close-checkouts", T0 + timedelta(hours=3))) == [{"closed": 1}]
    assert counts(run("close-checkouts", T0 + timedelta(hours=4))) == [{"closed": 0}]
    attendance = db.session.scalar(sa.select(Attendance))
    assert attendance.checked_out_at == activity.ends_at and attendance.checkout_auto_closed


# ---------------------------------------------------------------- release-holds


def test_release_holds_releases_a_timed_out_hold_once(world):
    alice = world["alice"]
    earn(alice, world["d"]["a"], points=50, key="attendance:1")
    account = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id)
    sink = ledger.system_account(world["d"]["a"].id, "POINTS", "settlement")
    hold = ledger.place_hold(
        ledger="POINTS",
        debit_account_id=account.id,
        credit_account_id=sink.id,
        amount=30,
        code="redeem",
        idempotency_key="redeem:1",
        timeout=timedelta(minutes=10),
    )
    db.session.commit()
    now = utcnow()
    nothing = {"redemptions": 0, "released": 0}
    assert counts(run("release-holds", now)) == [nothing]
    later = now + timedelta(minutes=11)
    assert counts(run("release-holds", later)) == [{"redemptions": 0, "released": 1}]
    assert counts(run("release-holds", now + timedelta(minutes=12))) == [nothing]
    db.session.refresh(hold)
    assert hold.status == "expired"
    assert ledger.balances(alice.id)["POINTS"] == {"balance": 50, "held": 0, "available": 50}


def test_release_holds_expires_a_redemption_nobody_confirmed(world, app):
    from tests.merchants_factories import code_of, create_merchant, create_offer, fund
    from timebank.merchants import operations as merchants

    shop = create_merchant(world["d"]["a"], organizer=world["organizer"])
    offer = create_offer(shop, points_cost=10)
    fund(world["alice"], 30)
    held = merchants.redeem(
        code=code_of(world["alice"]), offer_id=offer.id, idempotency_key="k-1",
        staff=shop.owner,
    ).redemption  # fmt: skip
    db.session.commit()
    timeout = app.config["TIMEBANK_REDEMPTION_HOLD_SECONDS"]
    later = utcnow() + timedelta(seconds=timeout + 5)
    assert counts(run("release-holds", later)) == [{"redemptions": 1, "released": 1}]
    assert counts(run("release-holds", later)) == [{"redemptions": 0, "released": 0}]
    db.session.refresh(held)
    assert held.status == "expired"
    assert ledger.balances(world["alice"].id)["POINTS"]["available"] == 30


def test_merchant_statements_catch_up_each_missed_month_once_in_order(world):
    from tests.merchants_factories import create_merchant

    create_merchant(world["d"]["a"], organizer=world["organizer"])
    db.session.commit()
    first = datetime(2031, 1, 1, 3, 0, tzinfo=SHANGHAI)
    assert [r.period for r in run("merchant-statements", first)] == ["2031-01"]
    runs = run("merchant-statements", datetime(2031, 4, 2, 9, 0, tzinfo=SHANGHAI))
    # the shop redeemed nothing: each month is run once, in order, and builds no ¥0
    # statement (issue 21, finding 11)
    assert [(r.period, r.counts) for r in runs] == [
        (month, {"statements": 0, "points": 0}) for month in ("2031-02", "2031-03", "2031-04")
    ]
    assert run("merchant-statements", datetime(2031, 4, 2, 10, 0, tzinfo=SHANGHAI)) == []


# ---------------------------------------------------------------- expire-points


def _local(day, hh_mm: str) -> datetime:
    hour, minute = map(int, hh_mm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def test_expire_points_catches_up_three_missed_days_each_once_in_order(world, app):
    """The scheduler ran on D0 and was down until D3 08:00: the 00:30 runs of D1, D2 and D3
    run then, in that order, each as of its own day; lots expire on the day they are due."""
    app.config["TIMEBANK_POINTS_EXPIRY_DAYS"] = 365
    alice, bob, unit = world["alice"], world["bob"], world["d"]["a"]
    for n, points in enumerate((10, 20, 40), start=1):
        earn(alice, unit, points=points, key=f"attendance:{n}")
    earn(bob, unit, points=5, key="attendance:9")
    d0 = (utcnow() + timedelta(days=40)).astimezone(SHANGHAI).date()
    day = [d0 + timedelta(days=n) for n in range(4)]
    lots = db.session.execute(sa.select(LOTS.c.id, LOTS.c.amount).order_by(LOTS.c.id)).all()
    due = {10: _local(day[1], "12:00"), 20: _local(day[2], "12:00"), 40: _local(day[3], "00:10")}
    for lot_id, amount in lots:  # bob's 5 points stay valid
        when = due.get(amount, _local(day[3] + timedelta(days=30), "00:00"))
        db.session.execute(LOTS.update().where(LOTS.c.id == lot_id).values(expires_at=when))
    db.session.commit()

    assert counts(run("expire-points", _local(day[0], "01:00"))) == [{"transfers": 0, "points": 0}]
    runs = run("expire-points", _local(day[3], "08:00"))
    assert [(r.period, r.as_of, r.counts) for r in runs] == [
        (day[1].isoformat(), _local(day[1], "00:30"), {"transfers": 0, "points": 0}),
        (day[2].isoformat(), _local(day[2], "00:30"), {"transfers": 1, "points": 10}),
        (day[3].isoformat(), _local(day[3], "00:30"), {"transfers": 1, "points": 60}),
    ]
    expired = db.session.scalars(
        sa.select(Transfer).where(Transfer.code == "expire").order_by(Transfer.id)
    ).all()
    assert [(t.amount, day[2].isoformat() in t.idempotency_key) for t in expired] == [
        (10, True),
        (60, False),
    ]
    assert day[3].isoformat() in expired[1].idempotency_key
    # a rerun, a later firing the same morning, and "run now" change nothing
    assert run("expire-points", _local(day[3], "08:00")) == []
    assert run("expire-points", _local(day[3], "09:00"), trigger="manual") == []
    assert (
        db.session.scalar(sa.select(sa.func.count(Transfer.id)).where(Transfer.code == "expire"))
        == 2
    )
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 0
    assert ledger.balances(bob.id)["POINTS"]["balance"] == 5
    assert ledger.verify_ledger().ok


# ---------------------------------------------------------------- verify-ledger


def test_verify_ledger_checkpoints_a_sound_ledger_once_a_night(world):
    earn(world["alice"], world["d"]["a"], minutes=60, points=10, key="attendance:1")
    db.session.commit()
    night = utcnow() + timedelta(days=1)
    [first] = run("verify-ledger", night)
    assert first.outcome == "ok" and first.counts["checkpoints"] == 2
    assert run("verify-ledger", night + timedelta(minutes=5)) == []
    assert db.session.scalar(sa.select(sa.func.count(Checkpoint.id))) == 2
    assert scheduling.open_alerts() == []


def test_a_broken_ledger_raises_an_alert_and_gets_no_checkpoint(world, caplog):
    earn(world["alice"], world["d"]["a"], minutes=60, key="attendance:1")
    earn(world["alice"], world["d"]["a"], minutes=30, key="attendance:2")
    db.session.commit()
    entry = db.session.scalars(sa.select(Entry).order_by(Entry.id)).all()[1]
    _tamper(
        f"UPDATE entries SET amount = 600, balance_after = 600 WHERE id = {entry.id}", "entries"
    )
    # 03:00 tomorrow, local: both runs fall on one local day whatever the time now
    night = (utcnow() + timedelta(days=1)).astimezone(SHANGHAI).replace(hour=3, minute=0)
    with caplog.at_level(logging.ERROR, logger="timebank.alerts"):
        [found] = run("verify-ledger", night)
        [again] = run("verify-ledger", night + timedelta(hours=1), trigger="manual")
    assert (found.outcome, found.counts["problems"]) == ("alert", 1)
    assert again.outcome == "alert"  # still broken; the same day's alert is not raised twice
    [alert] = scheduling.open_alerts()
    assert alert.kind == "ledger_verify_failed" and f"entry {entry.id}" in alert.message
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and f"entry {entry.id}" in errors[0].getMessage()
    assert db.session.scalar(sa.select(sa.func.count(Checkpoint.id))) == 0


# ---------------------------------------------------------------- remind-activities


def test_members_signed_up_hear_the_day_and_the_hour_before_in_their_language(world):
    alice, bob = world["alice"], world["bob"]
    start = T0 + timedelta(hours=20)
    activity = create_activity(world["d"]["a"], organizer=world["organizer"], starts_at=start)
    for member in (alice, bob):
        activities.sign_up(activity, member, now=T0)
    db.session.commit()
    assert counts(run("remind-activities", T0 - timedelta(hours=5))) == [
        {"day_before": 0, "hour_before": 0, "cancelled": 0}
    ]
    assert counts(run("remind-activities", T0)) == [
        {"day_before": 2, "hour_before": 0, "cancelled": 0}
    ]
    assert counts(run("remind-activities", T0 + timedelta(minutes=5))) == [
        {"day_before": 0, "hour_before": 0, "cancelled": 0}
    ]
    soon = start - timedelta(minutes=50)
    assert counts(run("remind-activities", soon)) == [
        {"day_before": 0, "hour_before": 2, "cancelled": 0}
    ]
    assert counts(run("remind-activities", soon + timedelta(minutes=5)))[0]["hour_before"] == 0
    # 2026-03-15 05:00 UTC is 13:00 in Shanghai
    assert notices(alice) == [
        ("activity_tomorrow", "明天：周六环境整治",
         "周六环境整治 将于 2026-03-15 13:00 开始。您已报名；如不能参加，请取消报名。"),
        ("activity_soon", "一小时后：周六环境整治",
         "周六环境整治 将于 2026-03-15 13:00 开始。请扫描组织者屏幕上的二维码签到。"),
    ]  # fmt: skip
    assert notices(bob)[0][1:] == (
        "Tomorrow: 周六环境整治",
        "周六环境整治 starts at 2026-03-15 13:00. You signed up; if you cannot come, withdraw.",
    )


def test_cancelling_tells_everyone_signed_up_once(world):
    alice, bob = world["alice"], world["bob"]
    activity = create_activity(
        world["d"]["a"], organizer=world["organizer"], starts_at=T0 + timedelta(days=2)
    )
    for member in (alice, bob):
        activities.sign_up(activity, member, now=T0)
    activities.withdraw(activity, bob, now=T0 + timedelta(minutes=1))
    activities.cancel_activity(activity, actor=world["organizer"], reason="下雨", now=T0)
    activities.cancel_activity(activity, actor=world["organizer"], reason="下雨", now=T0)
    db.session.commit()
    assert notices(alice) == [
        ("activity_cancelled", "已取消：周六环境整治",
         "您报名的 周六环境整治（2026-03-16 17:00）已取消。原因：下雨"),
    ]  # fmt: skip
    assert notices(bob) == []  # withdrew before
    # the job's sweep finds everyone told already
    assert counts(run("remind-activities", T0 + timedelta(hours=1)))[0]["cancelled"] == 0


def test_the_job_tells_members_of_an_activity_cancelled_without_a_notice(world):
    activity = create_activity(
        world["d"]["a"], organizer=world["organizer"], starts_at=T0 + timedelta(days=2)
    )
    activities.sign_up(activity, world["bob"], now=T0)
    activity.status, activity.cancelled_at = "cancelled", T0  # as before the inbox existed
    db.session.commit()
    assert counts(run("remind-activities", T0 + timedelta(hours=1)))[0]["cancelled"] == 1
    assert counts(run("remind-activities", T0 + timedelta(hours=2)))[0]["cancelled"] == 0
    assert [n[1] for n in notices(world["bob"])] == ["Cancelled: 周六环境整治"]


# ---------------------------------------------------------------- remind-party


def test_party_members_who_have_not_served_are_reminded_once_a_quarter(world):
    d, organizer = world["d"], world["organizer"]
    idle = factories.create_member(d["building_a"], name="刘建国")
    served = factories.create_member(d["building_a"], name="陈海燕")
    for member in (idle, served):
        people.register_party(member, branch="兰州石化公司炼油厂第二党支部")
    activity = create_activity(d["a"], organizer=organizer, starts_at=T0 - timedelta(days=3))
    result = activities.manual_check_in(
        activity, served, actor=organizer, now=T0 - timedelta(days=3)
    )
    other = factories.create_member(d["a"], roles=("organizer",))
    activities.approve_attendance(activity, [result.attendance.id], actor=other)
    # a party member whose only service this quarter is a project has served too
    on_project = factories.create_member(d["building_a"], name="马秀英")
    people.register_party(on_project, branch="西固区第一小学党支部")
    log = _approved_project_hours(d["a"], organizer, on_project, approver=other)
    assert log.status == "approved"
    db.session.commit()
    early = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)  # two months before the quarter ends
    assert counts(run("remind-party", early)) == [{"reminded": 0}]
    late = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)  # 10:00 on 20 March in Shanghai
    assert counts(run("remind-party", late)) == [{"reminded": 1}]
    assert counts(run("remind-party", late + timedelta(days=1))) == [{"reminded": 0}]
    [(kind, title, body)] = notices(idle)
    assert (kind, title) == ("party_not_served", "您本季度尚未参加服务")
    assert "2026 Q1" in body and "12 天" in body
    # those who served hear only that their hours were credited, no reminder
    assert [n[0] for n in notices(served)] == ["hours_approved"]
    assert [n[0] for n in notices(on_project)] == ["hours_approved"]


def _approved_project_hours(unit, organizer, member, *, approver):
    from tests.projects_factories import T0 as PROJECT_T0
    from tests.projects_factories import running_project

    project = running_project(unit, organizer, members=[member])
    log = projects.log_hours(
        member=member, logged_by=member, served_on=PROJECT_T0.astimezone(SHANGHAI).date(),
        minutes=120, description="疏通下水管道", project=project,
        now=PROJECT_T0 + timedelta(hours=3),
    )  # fmt: skip
    projects.approve_hour_logs([log.id], actor=approver, now=PROJECT_T0 + timedelta(hours=4))
    return log


# ---------------------------------------------------------------- remind-approvals


def test_organizers_hear_of_approvals_waiting_more_than_two_days_once_a_day(world):
    d, organizer = world["d"], world["organizer"]
    factories.create_member(d["building_a"], status="pending", name="新居民")
    activity = create_activity(d["a"], organizer=organizer, starts_at=utcnow() - timedelta(hours=1))
    held = activities.manual_check_in(activity, world["alice"], actor=organizer).attendance
    held.status, held.review_reason = "review", "outside_radius"
    second = factories.create_member(d["a"], roles=("organizer",))
    ledger.request_manual_credit(
        ledger="HOURS", code="award", member_id=world["alice"].id,
        member_unit_id=world["alice"].home_unit_id, unit_id=d["a"].id, amount=60,
        memo="春节慰问", idempotency_key="award:1", requested_by_id=second.id,
    )  # fmt: skip
    factories.create_member(d["b"], roles=("organizer",), name="古浪路网格长")
    # hour logs on a project and a shop's application wait for the same organizers
    from tests.merchants_factories import create_merchant
    from tests.projects_factories import create_project

    start = utcnow() - timedelta(hours=2)
    project = create_project(d["a"], organizer=organizer, starts_at=start)
    projects.claim_place(project, world["alice"], now=start - timedelta(days=1))
    projects.change_project_status(project, "in_progress", actor=organizer, now=start)
    projects.log_hours(
        member=world["alice"], logged_by=world["alice"], minutes=90, description="清理楼道",
        served_on=start.astimezone(SHANGHAI).date(), project=project,
    )  # fmt: skip
    create_merchant(d["a"], approved=False)
    db.session.commit()
    assert counts(run("remind-approvals", utcnow() + timedelta(days=1))) == [{"reminded": 0}]
    day = (utcnow() + timedelta(days=3)).astimezone(SHANGHAI).date()
    # both organizers of A hear of it (the one who asked for the credit cannot approve it,
    # but the registration and the attendance are theirs too); B's organizer does not
    assert counts(run("remind-approvals", _local(day, "10:00"))) == [{"reminded": 2}]
    assert run("remind-approvals", _local(day, "10:05")) == []
    assert counts(run("remind-approvals", _local(day, "10:10"), trigger="manual")) == [
        {"reminded": 0}
    ]
    [(kind, title, body)] = notices(organizer)
    assert (kind, title) == ("approvals_waiting", "待审批事项")
    assert "待复核的签到 1 条。待第二位组织者审批的奖励 1 笔。待审批的工时记录 1 条。" in body
    assert "入会申请 1 个。商户申请 1 个。" in body
    # an empty queue is not announced
    assert "签退" not in body and "结算单" not in body
    next_day = day + timedelta(days=1)
    assert counts(run("remind-approvals", _local(next_day, "09:30"))) == [{"reminded": 2}]
