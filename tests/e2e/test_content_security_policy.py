"""Every page keeps to the Content-Security-Policy (scripts from this site only, no inline
script) and still works: the browser reports no violation, and the scripted parts run."""

from datetime import timedelta

from playwright.sync_api import expect

from tests import factories
from tests.activities_factories import create_activity
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people


def test_pages_work_under_the_content_security_policy(
    app, district, make_member, live_server, browser
):
    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() - timedelta(minutes=5)
    )
    people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    page = browser.new_context(locale="en-US").new_page()
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server}/login")
    page.fill("input[name=phone]", organizer.phone)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    response = page.goto(f"{live_server}/activities/{activity.id}/kiosk")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    first = page.locator("#kiosk-countdown").inner_text()
    expect(page.locator("#kiosk-countdown")).not_to_have_text(first, timeout=5_000)

    page.goto(f"{live_server}/activities")
    page.select_option("select[name=category]", "cleanup")  # submits on change (app.js)
    page.wait_for_url("**category=cleanup")

    page.goto(f"{live_server}/scan")
    expect(page.locator("#scan-status")).not_to_have_text("", timeout=5_000)
    page.goto(f"{live_server}/activities/{activity.id}/badges")
    page.goto(f"{live_server}/units/{district['a'].id}/poster")
    page.goto(f"{live_server}/inbox")
    page.goto(f"{live_server}/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=10_000)
    assert violations == []
