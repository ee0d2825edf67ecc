"""Kiosk check-in end to end in Chromium: the organizer's kiosk shows a rotating code, a
volunteer's phone opens it, checks in and later out, the organizer approves, and the
volunteer's balance shows the hours.

An hour cannot pass in a test, so the app's clock (``timebank.core.clock``, which the
live server in this process reads too) is moved forward 65 minutes between check-in and
check-out; every code is still read from the kiosk page.
"""

from datetime import timedelta

from playwright.sync_api import expect

from tests.activities_factories import create_activity
from tests.e2e.pages import log_in
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db


def test_kiosk_check_in_approval_and_balance(
    app, district, make_member, live_server, browser, clock
):
    organizer = make_member(district["a"], roles=("organizer",), name="上坎网格长")
    volunteer = make_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"],
        organizer=organizer,
        title="周六环境整治",
        starts_at=utcnow() - timedelta(minutes=10),
        hours=2,
        points_per_hour=10,
    )
    db.session.commit()

    kiosk = browser.new_context(locale="zh-CN").new_page()
    log_in(kiosk, live_server, organizer)
    kiosk.goto(f"{live_server}/activities/{activity.id}/kiosk")
    kiosk.wait_for_selector("#kiosk-qr svg")
    assert int(kiosk.locator("#kiosk-countdown").inner_text()) <= 30
    token = kiosk.locator("#kiosk-qr").get_attribute("data-token")

    phone = browser.new_context(
        locale="zh-CN",
        permissions=["geolocation"],
        geolocation={"latitude": 36.0611, "longitude": 103.8343},
    ).new_page()
    log_in(phone, live_server, volunteer)
    phone.goto(f"{live_server}/checkin/{token}")
    phone.wait_for_selector("#checkin-result[data-code=checked_in]")
    expect(kiosk.locator("#kiosk-in")).to_have_text("1", timeout=10_000)

    clock.advance(timedelta(minutes=65))
    kiosk.reload()
    kiosk.wait_for_selector("#kiosk-qr svg")
    later_token = kiosk.locator("#kiosk-qr").get_attribute("data-token")
    assert later_token != token
    phone.goto(f"{live_server}/checkin/{later_token}")
    phone.wait_for_selector("#checkin-result[data-code=checked_out]")
    # a screenshot of the first code, forwarded later, is refused
    phone.goto(f"{live_server}/checkin/{token}")
    phone.wait_for_selector("#checkin-result[data-code=token_expired]")

    detail = kiosk
    detail.goto(f"{live_server}/activities/{activity.id}")
    row = detail.locator("tr[data-status=pending]")
    assert "王秀英" in row.inner_text()
    row.locator("input[name=ids]").check()
    detail.click("#approve")
    detail.wait_for_selector("tr[data-status=approved]")

    phone.goto(f"{live_server}/me/activities")
    assert phone.locator("#balance-hours").inner_text() == "1小时"
    assert phone.locator("#balance-points").inner_text() == "10 积分"
    assert phone.locator("#my-attendance tr[data-status=approved]").count() == 1


def test_scan_page_without_camera_falls_back_to_the_typed_code(
    app, district, make_member, live_server, browser
):
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"])
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() - timedelta(minutes=5)
    )
    db.session.commit()
    with app.test_request_context():
        short_code = activities.current_code(activity)["short_code"]
    page = browser.new_context(locale="en-US").new_page()
    failed = []
    # a load the browser gave up because the page moved on (the icon, often) is not a failure
    page.on(
        "requestfailed",
        lambda request: (
            failed.append(request.url) if request.failure != "net::ERR_ABORTED" else None
        ),
    )
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    log_in(page, live_server, volunteer)
    page.goto(f"{live_server}/scan")
    if page.locator("#lang-switch").inner_text() == "English":
        page.click("#lang-switch")
    # headless Chromium has no camera: the vendored qr-scanner loads and says so
    expect(page.locator("#scan-status")).to_contain_text("not available")
    assert not [url for url in failed if "/static/" in url], failed
    page.fill("#code", short_code)
    page.click("#type-code button[type=submit]")
    page.wait_for_selector("#checkin-result[data-code=checked_in]")
