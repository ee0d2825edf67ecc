"""axe-core (vendored under static/vendor/axe-core, never a CDN) on the main pages, in
Chinese, on a phone: no "serious" or "critical" violation. axe is evaluated into each page
by the test (as the developer tools would), so the pages' own Content-Security-Policy
stays as strict as it is, and no page loads axe by itself."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests.activities_factories import check_in, create_activity, earn
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people
from timebank.transparency import operations as transparency

AXE = Path(__file__).resolve().parents[2] / "static/vendor/axe-core/axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


def serious_violations(page, path: str) -> list[dict]:
    assert page.goto(path).status == 200, path
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return [dict(v, page=path) for v in page.evaluate(RUN_AXE)]


def test_the_main_pages_have_no_serious_accessibility_violations(
    app, district, make_member, live_server, browser
):
    organizer = make_member(district["a"], roles=("organizer",), name="李建华")
    volunteer = make_member(district["building_a"], name="王秀英")
    make_member(district["building_a"], name="刘新人", status="pending")
    admin = make_member(district["street"], roles=("admin",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    earn(volunteer, district["a"], organizer, title="四点半课堂", minutes=90, points=15,
         at=utcnow() - timedelta(days=2))  # fmt: skip
    coming = create_activity(
        district["a"], organizer=organizer, title="周六环境整治",
        starts_at=utcnow() + timedelta(days=1), points_per_hour=10,
    )  # fmt: skip
    check_in(volunteer, coming, at=utcnow())  # the organizer's page lists it to approve
    transparency.sign_checkpoints()  # the notice boards show a checkpoint
    db.session.commit()
    base = live_server
    found = []

    visitor = phone(browser, "zh")
    found += serious_violations(visitor, f"{base}/login")
    found += serious_violations(visitor, f"{base}/login/code")
    found += serious_violations(visitor, f"{base}/join/{link.code}")
    found += serious_violations(visitor, f"{base}/notice")
    found += serious_violations(visitor, f"{base}/notice/{district['a'].id}")
    expect(visitor.locator("html")).to_have_attribute("lang", "zh-CN")

    me = phone(browser, "zh")
    log_in(me, base, volunteer)
    for path in ("/", "/activities", f"/activities/{coming.id}", "/me/statement",
                 "/me/activities"):  # fmt: skip
        found += serious_violations(me, f"{base}{path}")

    desk = phone(browser, "zh")
    log_in(desk, base, organizer)
    unit = district["a"].id
    for path in (f"/units/{unit}/members", "/activities/new", f"/activities/{coming.id}",
                 f"/members/{volunteer.id}", f"/members/{volunteer.id}/award",
                 f"/units/{unit}/pending-credits"):  # fmt: skip
        found += serious_violations(desk, f"{base}{path}")

    office = phone(browser, "zh")
    log_in(office, base, admin)
    found += serious_violations(office, f"{base}/ledger/integrity?verify=1")
    found += serious_violations(office, f"{base}/notice/sign")
    found += serious_violations(office, f"{base}/units/{district['street'].id}/witness")
    assert found == [], "\n".join(map(str, found))
    visitor.goto(f"{base}/login")
    visitor.click("#lang-switch")  # the lang attribute follows the language of the page
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.locator("h1")).to_have_text("Log in")
    assert_seen_clean(visitor, me, desk, office)


def test_the_axe_run_catches_an_unlabelled_input(app, live_server, browser):
    """The harness itself: axe loads into a page under its CSP and reports what it should."""
    page = phone(browser, "zh")
    assert serious_violations(page, f"{live_server}/login") == []
    page.evaluate("document.querySelector('main form').append(document.createElement('input'))")
    found = page.evaluate(RUN_AXE)
    assert [v["id"] for v in found] == ["label"] and found[0]["impact"] == "critical"
