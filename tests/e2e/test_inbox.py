"""The inbox in Chromium: the reminders job writes a reminder; it shows in the top bar's
count and in the inbox, in the reader's language, and is marked read."""

from datetime import timedelta

from playwright.sync_api import expect

from tests import factories
from tests.activities_factories import create_activity
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.jobs import JOBS
from timebank.people import operations as people
from timebank.scheduling import operations as scheduling


def log_in(page, base, member):
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", member.phone)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_reminder_shows_in_the_count_and_the_inbox_and_is_marked_read(
    app, district, make_member, live_server, browser
):
    organizer = make_member(district["a"], roles=("organizer",), name="上坎网格长")
    reader_zh = make_member(district["building_a"], name="王秀英")
    reader_en = make_member(district["building_a"], name="Bob Li")
    people.set_locale(reader_en, "en")
    activity = create_activity(
        district["a"],
        organizer=organizer,
        title="周六环境整治",
        starts_at=utcnow() + timedelta(hours=20),
    )
    for member in (reader_zh, reader_en):
        activities.sign_up(activity, member)
    db.session.commit()
    [run] = scheduling.run_job(
        scheduling.find_job(JOBS, "remind-activities"),
        now=utcnow(),
        trigger="schedule",
        runner="test",
    )
    assert run.counts["day_before"] == 2
    db.session.commit()

    page = browser.new_context(locale="zh-CN").new_page()
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    log_in(page, live_server, reader_zh)
    expect(page.locator("#inbox-unread")).to_have_text("1")
    page.click("#inbox-link")
    item = page.locator("#notifications li[data-kind=activity_tomorrow]")
    expect(item.locator(".notice-title")).to_have_text("明天：周六环境整治")
    expect(item.locator(".notice-body")).to_contain_text("您已报名")
    expect(page.locator("#inbox-summary")).to_have_text("1 条未读")
    item.locator("button.mark-read").click()
    expect(page.locator("#inbox-summary")).to_have_text("0 条未读")
    expect(page.locator("#inbox-unread")).to_have_count(0)
    expect(item).to_have_attribute("data-read", "yes")
    assert violations == []

    english = browser.new_context(locale="en-US").new_page()
    log_in(english, live_server, reader_en)
    expect(english.locator("#inbox-unread")).to_have_text("1")
    english.click("#inbox-link")
    expect(english.locator("h1")).to_have_text("Inbox")
    item = english.locator("#notifications li[data-kind=activity_tomorrow]")
    expect(item.locator(".notice-title")).to_have_text("Tomorrow: 周六环境整治")
    english.click("main #mark-all-read")
    expect(english.locator("#inbox-summary")).to_have_text("0 unread")
    expect(english.locator("#inbox-unread")).to_have_count(0)
