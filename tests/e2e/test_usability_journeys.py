"""Journeys on a 390×844 phone in Chromium (issue 11): an organizer asks for an award and a
second organizer approves it in the queue; a volunteer reads the statement in words and
local times; a guardian shows a ward's badge from the home page; an organizer fills the
activity form's place with "use my location" and reads the errors next to the fields.
No page may break the Content-Security-Policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.activities_factories import create_activity
from timebank.activities import operations as activities
from timebank.activities.models import Attendance
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


def phone(browser, locale: str, **extra):
    """A phone-sized page that records any Content-Security-Policy violation."""
    page = browser.new_context(locale=locale, **PHONE, **extra).new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda m: (
            page.csp_violations.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    return page


def log_in(page, base, member):
    number = member.phone
    db.session.rollback()  # SQLite: reading it must not keep the write lock from the server
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", number)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def earn(member, unit, organizer, *, title, minutes, points, at):
    """An approved attendance at ``at`` (UTC), credited through the ledger."""
    activity = create_activity(unit, organizer=organizer, title=title, starts_at=at)
    db.session.flush()
    attendance = Attendance(
        activity_id=activity.id, member_id=member.id, checked_in_at=at, checked_out_at=at,
        status="approved", minutes=minutes, points=points, decided_by_id=organizer.id,
    )  # fmt: skip
    db.session.add(attendance)
    db.session.flush()
    ledger.credit_from_evidence(
        member_id=member.id, member_unit_id=member.home_unit_id, unit_id=unit.id,
        minutes=minutes, points=points, code="earn_checkin", reference_type="attendance",
        reference_id=str(attendance.id), idempotency_key=f"attendance:{attendance.id}",
        actor_id=organizer.id,
    )  # fmt: skip


def test_an_award_asked_by_one_organizer_is_approved_by_another(
    app, district, make_member, live_server, browser
):
    volunteer = make_member(district["building_a"], name="王秀英")
    first = make_member(district["a"], roles=("organizer",), name="李建华")
    second = make_member(district["a"], roles=("organizer",), name="马桂芳")
    db.session.commit()

    asker = phone(browser, "zh-CN")
    log_in(asker, live_server, first)
    asker.goto(f"{live_server}/units/{district['a'].id}/members")
    asker.click(f"#members li[data-member-id='{volunteer.id}'] a")
    asker.click("#award-link")
    expect(asker.locator("h1")).to_have_text("为 王秀英 申请奖励")
    asker.check("input[name=ledger][value=POINTS]")
    asker.fill("#points", "30")
    asker.fill("#memo", "网格模范志愿者")
    asker.click("main button[type=submit]")
    expect(asker.locator(".flash.success")).to_have_text(
        "给 王秀英 的奖励已提交，等待另一位组织者批准。"
    )
    waiting = asker.locator("#waiting li").first
    expect(waiting).to_contain_text("30 积分")
    expect(waiting).to_contain_text("这是您提交的申请，需由另一位组织者批准。")
    expect(waiting.locator("button")).to_have_count(0)

    approver = phone(browser, "en-US")
    log_in(approver, live_server, second)
    approver.goto(f"{live_server}/units/{district['a'].id}/pending-credits")
    item = approver.locator("#waiting li").first
    expect(item).to_contain_text("Award · 30 points (Points) for 王秀英")
    expect(item).to_contain_text("Asked by 李建华")
    item.locator("button", has_text="Approve").click()
    expect(approver.locator(".flash.success")).to_have_text("The credit was approved and posted.")
    assert approver.url.endswith(f"/units/{district['a'].id}/pending-credits")
    expect(approver.locator("#decided")).to_contain_text("Approved and posted · by 马桂芳")
    assert ledger.balances(volunteer.id)["POINTS"]["balance"] == 30
    db.session.rollback()  # SQLite: the test's read must not hold the write lock

    reader = phone(browser, "zh-CN")
    log_in(reader, live_server, volunteer)
    expect(reader.locator("#home-points")).to_have_text("30 积分")
    reader.click("#statement-link")
    expect(reader.locator("#history li").first.locator(".what")).to_have_text(
        "社区奖励：网格模范志愿者"
    )
    for page in (asker, approver, reader):
        assert page.csp_violations == []


def test_a_volunteer_reads_the_statement_in_words_and_local_time(
    app, district, make_member, live_server, browser
):
    volunteer = make_member(district["building_a"], name="王秀英")
    organizer = make_member(district["a"], roles=("organizer",))
    # 18:30 UTC on 30 November is 02:30 on 1 December in Shanghai
    earn(volunteer, district["a"], organizer, title="四点半课堂", minutes=90, points=15,
         at=datetime(2026, 11, 30, 18, 30, tzinfo=UTC))  # fmt: skip
    db.session.commit()
    page = phone(browser, "zh-CN")
    log_in(page, live_server, volunteer)
    expect(page.locator("#home-hours")).to_have_text("1小时30分钟")
    expect(page.locator("#scan-button")).to_be_visible()
    page.click("#statement-link")
    hours = page.locator("#history li[data-ledger=HOURS]")
    expect(hours.locator(".what")).to_have_text("参加活动「四点半课堂」")
    expect(hours.locator(".change")).to_have_text("+1小时30分钟")
    expect(hours.locator(".after")).to_contain_text("余额：1小时30分钟")
    points = page.locator("#history li[data-ledger=POINTS]")
    expect(points.locator(".change")).to_have_text("+15 积分")
    when = page.locator("#history li .when").first.inner_text()
    assert when.startswith(datetime.now(UTC).astimezone(activities.local_zone()).strftime("%Y-"))
    page.click("#lang-switch")
    expect(hours.locator(".what")).to_have_text("Served at “四点半课堂”")
    expect(hours.locator(".change")).to_have_text("+1 h 30 min")
    assert page.csp_violations == []


def test_a_guardian_shows_the_wards_badge_from_home(
    app, district, make_member, live_server, browser
):
    grandma = make_member(district["building_a"], name="张奶奶", has_smartphone=False)
    daughter = make_member(district["building_b"], name="张丽")
    people.add_guardian(grandma, daughter, relation="女儿", actor=None)
    db.session.commit()
    page = phone(browser, "zh-CN")
    log_in(page, live_server, daughter)
    ward = page.locator(f"#wards [data-ward-id='{grandma.id}']")
    expect(ward.locator("h3")).to_have_text("张奶奶")
    ward.locator(f"#ward-badge-{grandma.id}").click()
    expect(page.locator("#badge-name")).to_have_text("张奶奶")
    expect(page.locator("main")).to_contain_text("您正在出示 张奶奶 的签到码。")
    expect(page.locator("#badge-qr svg")).to_be_visible()
    assert page.csp_violations == []


@pytest.mark.parametrize("locale", ["zh-CN"])
def test_the_activity_form_locates_and_says_errors_by_the_fields(
    app, district, make_member, live_server, browser, locale
):
    organizer = make_member(district["a"], roles=("organizer",))
    db.session.commit()
    page = phone(
        browser, locale, geolocation={"latitude": 36.0611, "longitude": 103.8343},
        permissions=["geolocation"],
    )  # fmt: skip
    log_in(page, live_server, organizer)
    page.goto(f"{live_server}/activities/new")
    page.fill("#title", "周六义诊")
    page.fill("#starts_at", "2030-12-01T18:00")
    page.fill("#ends_at", "2030-12-01T16:00")
    page.click("button[data-locate]")
    expect(page.locator("[data-locate-status]")).to_have_text("已填入您的位置。")
    expect(page.locator("#lat")).to_have_value("36.061100")
    expect(page.locator("#radius_m")).to_have_value("200")
    page.click("main button[type=submit].wide")
    expect(page.locator("#ends_at-error")).to_have_text("结束时间必须晚于开始时间。")
    expect(page.locator("#ends_at")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lat")).to_have_value("36.061100")  # kept as typed
    assert page.csp_violations == []
