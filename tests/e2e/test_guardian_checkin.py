"""Issue 21, finding 3 on a phone, in Chinese and in English: a guardian checks in their
ward from their own phone (the page says whom it checks in), and the ward's badge shows a
code the organizer types on the badge page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.activities_factories import create_activity
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people

SAY = {
    "zh": {
        "check them in": "替 TA 签到",
        "acting": "您正在替 张奶奶 签到，不是为自己签到。",
        "checked in": "签到成功。",
        "who": "签到的是 张奶奶，不是您本人。",
        "badge code": "没有摄像头？组织者可输入这串数字",
        "manual": "张奶奶 已签到。",
    },
    "en": {
        "check them in": "Check them in",
        "acting": "You are checking in 张奶奶, not yourself.",
        "checked in": "You are checked in.",
        "who": "张奶奶 is the one checked in, not you.",
        "badge code": "No camera? The organizer types this code",
        "manual": "张奶奶 is checked in.",
    },
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_guardian_checks_in_a_ward_and_the_badge_code_is_typed(
    app, district, make_member, live_server, browser, language
):
    say = SAY[language]
    organizer = make_member(district["a"], roles=("organizer",))
    ward = make_member(district["building_a"], name="张奶奶", password=None)
    guardian = make_member(district["building_a"], name="张女儿")
    people.add_guardian(ward, guardian, relation="女儿", actor=None)
    kiosk_activity = create_activity(
        district["a"], organizer=organizer, title="周六环境整治",
        starts_at=utcnow() - timedelta(minutes=5),
    )  # fmt: skip
    badge_activity = create_activity(
        district["a"], organizer=organizer, title="敬老院探访",
        starts_at=utcnow() - timedelta(minutes=5), checkin_mode="badge",
    )  # fmt: skip
    db.session.commit()
    ward_id, badge_id = ward.id, badge_activity.id

    daughter = phone(browser, language)
    log_in(daughter, live_server, guardian)
    link = daughter.locator(f"#ward-scan-{ward.id}")
    expect(link).to_have_text(say["check them in"])
    link.click()
    expect(daughter.locator("#acting-for")).to_have_text(say["acting"])
    code = activities.kiosk_short_code(kiosk_activity.id, activities.step_of(utcnow()))
    daughter.fill("#code", code)
    daughter.click("#type-code button[type=submit]")
    result = daughter.locator("#checkin-result")
    expect(result.locator("h1")).to_have_text(say["checked in"])
    expect(result.locator("#acting-for")).to_have_text(say["who"])
    db.session.rollback()
    assert [a.member_id for a in activities.my_attendance(ward)] == [ward.id]
    assert activities.my_attendance(guardian) == []
    db.session.rollback()

    daughter.goto(f"{live_server}/")
    daughter.click(f"#ward-badge-{ward_id}")
    expect(daughter.locator("main")).to_contain_text(say["badge code"])
    typed = daughter.locator("#badge-code").inner_text()
    assert typed.startswith(f"{ward_id}-")
    desk = phone(browser, language)
    log_in(desk, live_server, organizer)
    desk.goto(f"{live_server}/activities/{badge_id}/badges")
    desk.fill("#code", typed)
    desk.click("#badge-form button[type=submit]")
    expect(desk.locator(".flash.success")).to_have_text(say["manual"])
    assert_seen_clean(daughter, desk)
