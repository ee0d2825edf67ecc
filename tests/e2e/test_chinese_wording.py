"""Finding 17 of issue 21 in Chromium, on a phone: a volunteer is greeted with a full-width
comma, reads the needs' heading once and is told of a sign-up once; an organizer reads the
reasons a check-in is held listed with 、 and an award's amount said once."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests import factories
from tests.activities_factories import create_activity
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.todo_factories import todo_scene
from timebank.activities.models import Attendance
from timebank.core.clock import utcnow
from timebank.extensions import db


def test_a_volunteer_reads_each_thing_once_in_chinese(app, district, live_server, browser):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() + timedelta(days=1)
    )
    db.session.commit()
    page = phone(browser, "zh")
    log_in(page, live_server, volunteer)
    expect(page.locator("main")).to_contain_text("您好，王秀英")
    page.goto(f"{live_server}/needs")
    expect(page.locator("h1")).to_have_text("需求清单")
    page.goto(f"{live_server}/activities/{activity.id}")
    page.click("main form button[type=submit] >> nth=0")
    expect(page.get_by_text("报名成功。")).to_have_count(1)
    expect(page.locator("#signed-up")).to_have_text("您已报名此活动。")
    assert_seen_clean(page)


def test_an_organizer_reads_held_reasons_as_a_list(app, live_server, browser):
    scene = todo_scene()
    held = db.session.query(Attendance).filter_by(status="review").one()
    held.review_reason = "outside_radius,late_upload"
    db.session.commit()
    page = phone(browser, "zh")
    log_in(page, live_server, scene["organizer"])
    page.goto(f"{live_server}/activities/{scene['ended'].id}")
    expect(page.locator("main")).to_contain_text("在活动范围以外扫码、扫码后过了一段时间才提交")
    page.goto(f"{live_server}/units/{scene['d']['a'].id}/pending-credits")
    expect(page.locator("main")).not_to_contain_text("(时长)")
    assert_seen_clean(page)
