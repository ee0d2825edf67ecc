"""Finding 15 of issue 21 in Chromium: the organizer is told past activities have
attendance waiting, opens the past list, sees which activity has how many check-outs to
approve and check-ins held, and taps through to its attendance."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.todo_factories import todo_scene


def test_the_organizer_sees_which_past_activity_waits(app, live_server, browser):
    scene = todo_scene()
    ended = scene["ended"].id
    page = phone(browser, "zh")
    log_in(page, live_server, scene["organizer"])
    page.goto(f"{live_server}/activities")
    page.click("#past-waiting a")
    row = page.locator(f"li[data-activity-id='{ended}']")
    expect(row.locator("[data-to-approve]")).to_have_text("1 条签退待审批")
    expect(row.locator("[data-held]")).to_have_text("1 条待复核")
    row.locator("[data-to-approve]").click()
    page.wait_for_url(f"{live_server}/activities/{ended}#attendance")
    assert_seen_clean(page)
