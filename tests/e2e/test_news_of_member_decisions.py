"""Issue 21, news of every decision about a person, on a phone in Chinese and in English:
the organizer approves a registration and an attendance on their pages; the resident and
the volunteer read the news in their inbox (the same words go by their channel)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.activities_factories import check_in, create_activity
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people

SAY = {
    "zh": {
        "welcome": "欢迎加入时间银行",
        "welcome body": "王秀英，您在上坎社区的注册申请已通过，您现在是志愿者了。",
        "credited": "时长已入账：周六环境整治",
        "credited body": "1小时30分钟 服务已审批通过，已记入您的时间银行。获得积分：15 积分。",
    },
    "en": {
        "welcome": "Welcome to the time bank",
        "welcome body": "王秀英, your registration with 上坎社区 is approved",
        "credited": "Hours credited: 周六环境整治",
        "credited body": "1 h 30 min for 周六环境整治",
    },
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_resident_and_the_volunteer_read_the_decisions_in_their_inbox(
    app, district, make_member, live_server, browser, language
):
    say = SAY[language]
    organizer = make_member(district["a"], roles=("organizer",), name="上坎网格长")
    resident = make_member(district["building_a"], status="pending", name="王秀英")
    volunteer = make_member(district["building_a"], name="李建华")
    for member in (resident, volunteer):
        people.set_locale(member, language)
    starts = utcnow() - timedelta(hours=3)
    activity = create_activity(
        district["a"], organizer=organizer, title="周六环境整治", starts_at=starts,
        hours=2, points_per_hour=10,
    )  # fmt: skip
    attendance = check_in(volunteer, activity, at=starts)
    attendance.checked_out_at = starts + timedelta(minutes=95)
    db.session.commit()
    activity_id, attendance_id = activity.id, attendance.id

    desk = phone(browser, language)
    log_in(desk, live_server, organizer)
    desk.goto(f"{live_server}/units/{district['a'].id}/members")
    desk.locator("#pending li", has_text="王秀英").locator(
        "form.inline button[type=submit]"
    ).click()
    desk.goto(f"{live_server}/activities/{activity_id}")
    desk.locator(f"#attendance input[name=ids][value='{attendance_id}']").check()
    desk.click("#approve")

    me = phone(browser, language)
    log_in(me, live_server, resident)
    me.click("#inbox-link")
    item = me.locator("#notifications li[data-kind=membership_approved]")
    expect(item.locator(".notice-title")).to_have_text(say["welcome"])
    expect(item.locator(".notice-body")).to_contain_text(say["welcome body"])

    worker = phone(browser, language)
    log_in(worker, live_server, volunteer)
    expect(worker.locator("#inbox-unread")).to_have_text("1")
    worker.click("#inbox-link")
    item = worker.locator("#notifications li[data-kind=hours_approved]")
    expect(item.locator(".notice-title")).to_have_text(say["credited"])
    expect(item.locator(".notice-body")).to_contain_text(say["credited body"])
    assert_seen_clean(desk, me, worker)
