"""Details of two journeys on a 390×844 phone in Chromium (issue 11; the journeys of every
role are in test_role_journeys.py): a volunteer reads the statement in words and local
times; an organizer fills the activity form's place with "use my location" and reads the
errors next to the fields. No page may break the Content-Security-Policy, and no Chinese
page may show English from the catalog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.activities_factories import earn
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.activities import operations as activities
from timebank.extensions import db

FORM_SAYS = {
    "zh": ("已填入您的位置。", "结束时间必须晚于开始时间。"),
    "en": ("Your location was filled in.", "The end must be after the start."),
}


def test_a_volunteer_reads_the_statement_in_words_and_local_time(
    app, district, make_member, live_server, browser
):
    volunteer = make_member(district["building_a"], name="王秀英")
    organizer = make_member(district["a"], roles=("organizer",))
    # 18:30 UTC on 30 November is 02:30 on 1 December in Shanghai
    earn(volunteer, district["a"], organizer, title="四点半课堂", minutes=90, points=15,
         at=datetime(2026, 11, 30, 18, 30, tzinfo=UTC))  # fmt: skip
    db.session.commit()
    page = phone(browser, "zh")
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
    assert_seen_clean(page)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_activity_form_locates_and_says_errors_by_the_fields(
    app, district, make_member, live_server, browser, language
):
    located, ends_error = FORM_SAYS[language]
    organizer = make_member(district["a"], roles=("organizer",))
    db.session.commit()
    page = phone(
        browser, language, geolocation={"latitude": 36.0611, "longitude": 103.8343},
        permissions=["geolocation"],
    )  # fmt: skip
    log_in(page, live_server, organizer)
    page.goto(f"{live_server}/activities/new")
    page.fill("#title", "周六义诊")
    page.fill("#starts_at", "2030-12-01T18:00")
    page.fill("#ends_at", "2030-12-01T16:00")
    page.click("button[data-locate]")
    expect(page.locator("[data-locate-status]")).to_have_text(located)
    expect(page.locator("#lat")).to_have_value("36.061100")
    expect(page.locator("#radius_m")).to_have_value("200")
    page.click("main button[type=submit].wide")
    expect(page.locator("#ends_at-error")).to_have_text(ends_error)
    expect(page.locator("#ends_at")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lat")).to_have_value("36.061100")  # kept as typed
    assert_seen_clean(page)
