"""The organizer's to-do home in Chromium, on a phone: what waits for them, with counts;
the daily reminder in the inbox says the same counts and its link opens that list."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.todo_factories import todo_scene
from timebank.extensions import db
from timebank.people import operations as people
from timebank.reminders import operations as reminders


def test_the_organizer_sees_what_waits_and_the_reminder_opens_the_same_list(
    app, live_server, browser
):
    scene = todo_scene()
    organizer = scene["organizer"]
    app.config["TIMEBANK_APPROVAL_REMINDER_DAYS"] = 0  # everything counts as overdue now
    try:
        assert reminders.remind_organizers() == {"reminded": 2}
    finally:
        app.config["TIMEBANK_APPROVAL_REMINDER_DAYS"] = 2
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, organizer)
    todo = page.locator("#todo")
    expect(todo.locator("h2")).to_contain_text("待办事项")
    expect(page.locator("#todo-total")).to_have_text("6")
    expect(todo.locator("[data-count=checkouts]")).to_have_text("1")
    expect(todo.locator("[data-count=held]")).to_have_text("1")
    expect(todo.locator("[data-queue=credits]")).to_contain_text("待第二位组织者审批的奖励")
    expect(todo.locator("[data-queue=registrations]")).to_contain_text("入会申请")
    expect(todo.locator("[data-queue=shops]")).to_contain_text("商户申请")
    expect(todo.locator("[data-queue=statements_to_pay]")).to_have_count(0)
    row = todo.locator(f"[data-activity-id='{scene['ended'].id}']")
    expect(row).to_contain_text("1 条待审批")
    expect(row).to_contain_text("1 条待复核")

    # the reminder: the same counts, only the queues that are not empty
    page.click("#inbox-link")
    notice = page.locator("#notifications li[data-kind=approvals_waiting]")
    expect(notice).to_contain_text(
        "待审批的签退 1 条。待复核的签到 1 条。待第二位组织者审批的奖励 1 笔。"
        "待审批的工时记录 1 条。入会申请 1 个。商户申请 1 个。"
    )
    expect(notice).not_to_contain_text("结算单")
    notice.locator("button[name=open]").click()
    page.wait_for_url(f"{live_server}/#todo")
    expect(page.locator("#todo-total")).to_have_text("6")
    # the activity's link opens its attendance to approve
    row.locator("a").click()
    page.wait_for_url(f"{live_server}/activities/{scene['ended'].id}#attendance")
    assert_seen_clean(page)

    # in English, the same list in English words
    people.set_locale(organizer, "en")
    db.session.commit()
    english = phone(browser, "en")
    log_in(english, live_server, organizer)
    expect(english.locator("#todo h2")).to_contain_text("Waiting for you")
    expect(english.locator("#todo [data-queue=shops]")).to_contain_text("Shop applications")
    expect(english.locator(f"[data-activity-id='{scene['ended'].id}']")).to_contain_text(
        "1 to approve"
    )
    # the other organizer of community B has nothing waiting and is told so
    other = phone(browser, "zh")
    log_in(other, live_server, scene["other"])
    expect(other.locator("#todo-empty")).to_have_text("没有待办事项。")
    assert_seen_clean(english, other)
