"""Finding 18 of issue 21 in Chromium, on a 390×844 phone with the demo's data: no page is
wider than the phone; a name in the attendance, party, import and organizer-offer tables
keeps to one line; activity cards have no bullets; the kiosk code keeps to one line; the
English shop dashboard fits; the party table says hours as 小时/分钟; the site has an icon."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.pages import evaluate_steady, log_in, phone
from timebank.activities.models import Activity, Attendance
from timebank.core.clock import utcnow
from timebank.demo import DEMO_PASSWORD
from timebank.extensions import db
from timebank.merchants.demo import STAFF_PHONES
from timebank.merchants.models import Merchant
from timebank.people import operations as people

WIDTH = "document.scrollingElement.scrollWidth"
#: how many lines the text of each element takes (a name down a column takes one a character)
LINES = """(elements) => elements.map((el) => {
  const range = document.createRange();
  range.selectNodeContents(el.firstChild && el.firstChild.nodeType === 3 ? el.firstChild : el);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
})"""


def fits_the_phone(page) -> None:
    width = evaluate_steady(page, WIDTH)  # the kiosk reloads itself as its code rotates
    assert width <= 390, (page.url, width)


def one_line_each(page, selector: str, at_least: int = 1) -> None:
    # after a form's submit the new page's elements exist before its stylesheet applies
    page.wait_for_load_state("load")
    lines = page.locator(selector).evaluate_all(LINES)
    assert len(lines) >= at_least, (page.url, selector)
    assert set(lines) == {1}, (page.url, selector, lines)


def test_the_organizers_tables_and_the_volunteers_cards_fit_a_phone(app, live_server, browser):
    assert app.test_cli_runner().invoke(args=["demo", "--members", "40"]).exit_code == 0
    organizer = people.find_member_by_phone("13800000001")
    community = organizer.home_unit_id
    now = utcnow()
    past = db.session.scalar(
        db.select(Activity.id).join(Attendance).where(Activity.ends_at < now).limit(1)
    )
    live = db.session.scalar(
        db.select(Activity.id).where(Activity.starts_at <= now, Activity.ends_at > now,
                                     Activity.status == "published").limit(1)
    )  # fmt: skip
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, organizer, DEMO_PASSWORD)
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", re.compile("favicon"))
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server + icon).ok
    page.goto(f"{live_server}/activities/{past}")
    one_line_each(page, "td.name")
    fits_the_phone(page)
    page.goto(f"{live_server}/units/{community}/party-attendance")
    one_line_each(page, "#party-attendance td.name", at_least=3)
    hours = page.locator("#party-attendance tbody td.num:nth-child(5)").all_inner_texts()
    assert hours and not [h for h in hours if re.search(r"\d\.\d", h)], hours
    assert any("小时" in h or "分钟" in h for h in hours), hours
    fits_the_phone(page)
    page.goto(f"{live_server}/units/{community}/party")
    one_line_each(page, "td.name", at_least=2)
    fits_the_phone(page)
    page.goto(f"{live_server}/units/{community}/offers")
    one_line_each(page, "#unit-offers td.name", at_least=3)
    fits_the_phone(page)
    page.goto(f"{live_server}/units/{community}/members")
    page.set_input_files(
        "#i-file",
        files=[{"name": "roster.csv", "mimeType": "text/csv",
                "buffer": "姓名,手机号\n欧阳娜娜,12\n司马相如,not-a-phone\n".encode()}],
    )  # fmt: skip
    page.locator("#i-file").locator("xpath=..").locator("button[type=submit]").click()
    one_line_each(page, "td.name", at_least=2)
    fits_the_phone(page)
    page.goto(f"{live_server}/activities")
    styles = page.locator("#activity-list > li").evaluate_all(
        "(items) => items.map((li) => getComputedStyle(li).listStyleType)"
    )
    assert styles and set(styles) == {"none"}, styles
    fits_the_phone(page)
    page.goto(f"{live_server}/activities/{live}/kiosk")
    one_line_each(page, "#kiosk-short")
    fits_the_phone(page)


def test_the_english_shop_dashboard_fits_a_phone(app, live_server, browser):
    assert app.test_cli_runner().invoke(args=["demo", "--members", "30"]).exit_code == 0
    owner = people.find_member_by_phone(STAFF_PHONES[0])
    people.set_locale(owner, "en")
    shop = db.session.scalar(
        db.select(Merchant.id).where(Merchant.owner_id == owner.id).order_by(Merchant.id)
    )  # ids go on across tests on PostgreSQL: the first shop is not number 1
    db.session.commit()
    page = phone(browser, "en")
    log_in(page, live_server, owner, DEMO_PASSWORD)
    page.goto(f"{live_server}/merchants/{shop}")
    expect(page.locator("#statements")).to_contain_text("Points owed")
    fits_the_phone(page)
    cells = page.locator("#statements-table tbody tr").first.locator("td")
    for index in range(cells.count()):
        box = cells.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (index, box)
