"""Reports in Chromium on a phone, on the hand-counted quarter (tests/reports_factories.py),
with the app's clock at 2 April 2026: an organizer opens the street's report (Chinese),
sees the charts drawn and their tables, and downloads the XLSX; a party member sees their
quarter and what is still due; a volunteer asks for a certificate, an organizer issues
it, and a stranger's phone opens its /verify page from the certificate's QR link."""

from __future__ import annotations

import openpyxl
from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.reports_factories import at, quarter_world
from timebank.extensions import db
from timebank.reports import operations as reports
from timebank.reports.models import Certificate


def world(clock):
    found = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    return found


def test_an_organizer_reads_the_street_report_and_downloads_it(
    app, clock, live_server, browser, tmp_path
):
    w = world(clock)
    head = factories.create_member(w["street"], roles=("organizer",), name="街道主任")
    db.session.commit()
    page = phone(browser, "zh", accept_downloads=True)
    log_in(page, live_server, head)
    page.click("[data-report-link]")
    page.goto(f"{live_server}/units/{w['street'].id}/reports?period=quarter&at=2026Q1")
    expect(page.locator("#chart-hours_by_month .chart-box")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#table-hours_by_month tbody tr")).to_have_count(3)
    expect(page.locator("#table-volunteers_by_part tfoot")).to_contain_text("5.0")
    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = tmp_path / "report.xlsx"
    download.value.save_as(path)
    rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "网格/社区" and rows[-1][0] == "合计"
    assert sum(row[1] for row in rows[1:-1]) == rows[-1][1] == 5.0
    assert_seen_clean(page)


def test_a_party_member_sees_their_quarter(app, clock, live_server, browser):
    w = world(clock)
    page = phone(browser, "zh")
    log_in(page, live_server, w["alice"])
    page.click("#party-link")
    expect(page.locator("h1")).to_contain_text("我的双报到")
    page.goto(f"{live_server}/me/party?at=2026Q1")
    expect(page.locator("#my-lines tbody tr")).to_have_count(2)
    expect(page.locator("#still-due")).to_contain_text("双报到")
    page.select_option("select[name=p-reported_unit_id]", str(w["a"].id))
    page.fill("input[name=p-reported_on]", "2026-01-05")
    page.click("#dual-report-form button[type=submit]")
    expect(page.locator("#my-report")).to_contain_text("上坎社区")
    assert_seen_clean(page)


def test_a_volunteer_asks_for_a_certificate_and_a_stranger_verifies_it(
    app, clock, live_server, browser
):
    w = world(clock)
    page = phone(browser, "zh")
    log_in(page, live_server, w["alice"])
    page.click("#record-link")
    page.fill("input[name=c-first]", "2026-01-01")
    page.fill("input[name=c-last]", "2026-03-31")
    page.fill("input[name=c-purpose]", "学校社会实践")
    page.click("#request-certificate button[type=submit]")
    expect(page.locator("#certificates")).to_contain_text("已申请")
    db.session.rollback()
    cert = db.session.query(Certificate).one()
    reports.approve_certificate(
        cert.id, actor=w["organizer_a"],
        details=reports.IssueDetails("上坎社区居民委员会", "周主任", "0931-7550000"),
    )  # fmt: skip
    db.session.commit()
    page.reload()
    page.click(f"#certificates a:has-text('{cert.serial}')")
    expect(page.locator("#cert-hours")).to_contain_text("3")
    link = page.locator(".certificate .qr").count()
    assert link == 1
    verify_url = f"{live_server}/verify/{cert.serial}?d={reports.content_digest(cert)}"
    stranger = phone(browser, "zh")
    stranger.goto(verify_url)
    expect(stranger.locator("#verdict")).to_have_attribute("data-verdict", "genuine")
    expect(stranger.locator("#verify-name")).to_have_text("王**")
    expect(stranger.locator("#verify-issuer")).to_have_text("上坎社区居民委员会")
    assert_seen_clean(page)
