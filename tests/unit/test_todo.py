"""The organizer's to-do list (reminders/todo.py): every queue counted where the organizer
may decide it, and the daily reminder built from the very same counts."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests import factories
from tests.merchants_factories import create_merchant
from tests.todo_factories import todo_scene
from timebank.extensions import db
from timebank.inbox.models import Notification
from timebank.merchants import operations as merchants
from timebank.reminders import operations as reminders
from timebank.reminders.todo import QUEUES, TODO_LINK, organizer_todo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def scene(app):
    return todo_scene()


def test_every_queue_counts_what_waits_for_this_organizer(scene):
    organizer, now = scene["organizer"], scene["now"]
    todo = organizer_todo(organizer, now=now)
    assert [name for name, _ in QUEUES] == list(todo.counts)
    assert todo.counts == {
        "checkouts": 1, "held": 1, "credits": 1, "hour_logs": 1, "registrations": 1,
        "shops": 1, "statements_to_build": 0, "statements_to_pay": 0,
    }  # fmt: skip
    # by activity: only the one that ended, with both of its counts
    [waiting] = todo.activities
    assert (waiting.activity.id, waiting.to_approve, waiting.held) == (scene["ended"].id, 1, 1)
    assert [(u.unit_name, u.count) for u in todo.units["shops"]] == [(scene["d"]["a"].name, 1)]
    # the award the second organizer asked for waits for the organizer, and vice versa
    assert organizer_todo(scene["second"], now=now).counts["credits"] == 1
    # community B's organizer has nothing waiting
    assert organizer_todo(scene["other"], now=now).total == 0


def test_statements_wait_to_be_built_then_paid_and_a_zero_one_never_does(scene):
    merchant, organizer = scene["merchant"], scene["organizer"]
    next_month = merchants.month_bounds(merchants.current_month(scene["now"]))[1]
    later = next_month + timedelta(days=3)
    assert organizer_todo(organizer, now=later).counts["statements_to_build"] == 1
    statement = merchants.build_statement(merchant, merchants.current_month(scene["now"]))
    # a shop approved today with nothing redeemed: its ¥0 statement waits for nobody
    quiet = create_merchant(scene["d"]["a"], organizer=organizer, name="上坎理发店")
    merchants.build_statement(quiet, merchants.current_month(scene["now"]))
    todo = organizer_todo(organizer, now=later)
    assert (todo.counts["statements_to_build"], todo.counts["statements_to_pay"]) == (0, 1)
    assert todo.units["statements_to_pay"][0].month == statement.period_start
    merchants.mark_statement_paid(statement.id, actor=organizer, now=later)
    assert organizer_todo(organizer, now=later).counts["statements_to_pay"] == 0


def _reminders_of(member):
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.member_id == member.id, Notification.kind == "approvals_waiting"
            )
        )
    )


def test_the_reminder_sends_the_home_pages_counts_and_links_to_the_list(scene, app):
    organizer = scene["organizer"]
    days = app.config["TIMEBANK_APPROVAL_REMINDER_DAYS"]
    # nothing has waited long enough yet: no reminder
    assert reminders.remind_organizers(scene["now"] + timedelta(hours=1)) == {"reminded": 0}
    later = scene["now"] + timedelta(days=days, hours=1)
    # the reminder fires; the registration, the award and the hour log of three days ago
    # sit beside ones of today: it lists everything the home shows
    factories.create_member(scene["d"]["building_a"], status="pending", name="今天的新居民")
    result = reminders.remind_organizers(later)
    assert result["reminded"] == 2  # the organizer and the second one; not B's organizer
    [notice] = _reminders_of(organizer)
    home = organizer_todo(organizer, now=later)
    # by now the running activity has ended too: its check-out is ready as well
    assert (home.counts["registrations"], home.counts["checkouts"]) == (2, 2)
    assert notice.link == TODO_LINK == "/#todo"
    assert notice.body == (
        f"有事项已等候超过 {days} 天。您的待办："
        "待审批的签退 2 条。待复核的签到 1 条。待第二位组织者审批的奖励 1 笔。"
        "待审批的工时记录 1 条。入会申请 2 个。商户申请 1 个。"
    )
    assert _reminders_of(scene["other"]) == []


def test_an_empty_queue_is_not_announced_in_either_language(scene, app):
    from timebank.inbox.operations import render

    counts = dict.fromkeys((name for name, _ in QUEUES), 0)
    counts.update(shops=2)
    title, body = render("approvals_waiting", {"days": 2, **counts}, "en")
    assert body == (
        "Some of this has waited more than 2 days. Your to-do list: Shop applications: 2."
    )
    _title, body = render("approvals_waiting", {"days": 2, **counts}, "zh_Hans_CN")
    assert body == "有事项已等候超过 2 天。您的待办：商户申请 2 个。"
