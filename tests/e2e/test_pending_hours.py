"""Issue 21, finding 2 on a phone, in Chinese and in English: after check-out the volunteer
reads how long they served; their home, /me/activities and the statement say what waits
for approval, for how long, and why a check-in is held, in a volunteer's words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.activities_factories import create_activity
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db

SAY = {
    "zh": {
        "checked in": "签到成功。",
        "checked out": "签退成功。",
        "served": "本次服务时长：1小时",
        "held": "暂缓：组织者需先核实，因为您是手动输入签到码，而不是扫码。",
        "total": "共 1小时，组织者审批通过后记入。",
        "title": "等待审批的服务时长",
        "status": "暂缓：组织者需先核实",
        "1 h": "1小时",
    },
    "en": {
        "checked in": "You are checked in.",
        "checked out": "You are checked out.",
        "served": "Time served: 1 h",
        "held": (
            "Held: the organizer checks it first, because you typed the code instead of "
            "scanning it."
        ),
        "total": "1 h in all: credited once an organizer approves.",
        "title": "Hours waiting for approval",
        "status": "Held: the organizer checks it first",
        "1 h": "1 h",
    },
}


def type_code(page, base, activity_id):
    page.goto(f"{base}/scan")
    code = activities.kiosk_short_code(activity_id, activities.step_of(utcnow()))
    page.fill("#code", code)
    page.click("#type-code button[type=submit]")
    return page.locator("#checkin-result")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_volunteer_sees_the_hours_that_wait_and_why(
    app, district, make_member, live_server, browser, clock, language
):
    say = SAY[language]
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"], organizer=organizer, title="周六环境整治",
        starts_at=utcnow() - timedelta(minutes=10), hours=2,
    )  # fmt: skip
    db.session.commit()
    me = phone(browser, language)
    log_in(me, live_server, volunteer)
    expect(type_code(me, live_server, activity.id).locator("h1")).to_have_text(say["checked in"])
    clock.advance(timedelta(minutes=65))
    result = type_code(me, live_server, activity.id)
    expect(result.locator("h1")).to_have_text(say["checked out"])
    expect(result.locator("#served-time")).to_have_text(say["served"])
    expect(result.locator("#held")).to_contain_text(say["held"])

    me.goto(f"{live_server}/")
    expect(me.locator("#pending-hours h2")).to_have_text(say["title"])
    expect(me.locator("#pending-total")).to_have_text(say["total"])
    me.click("#pending-link")
    row = me.locator("#my-attendance tbody tr[data-status=review]")
    expect(row.locator("td").nth(2)).to_have_text(say["status"])
    expect(row.locator("td.time")).to_have_text(say["1 h"])
    expect(me.locator("#pending-hours li")).to_contain_text(say["held"])
    me.goto(f"{live_server}/me/statement")
    expect(me.locator("#pending-hours li")).to_contain_text("周六环境整治")
    expect(me.locator("#pending-hours .pending-time")).to_have_text(say["1 h"])
    assert_seen_clean(me)
