"""An organizer of 上坎社区, on a phone in Chinese, opens the community's report for the
hand-counted first quarter, downloads the roster XLSX from it, and finds each member's
hours, points and balances as numbers whose SUM is the totals row; then opens an
activity's attendance sheet from the activity's page."""

from __future__ import annotations

import openpyxl
from playwright.sync_api import expect

from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.reports_factories import at, quarter_world


def test_an_organizer_downloads_the_roster_from_the_report_page(
    app, clock, live_server, browser, tmp_path
):
    w = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    page = phone(browser, "zh", accept_downloads=True)
    log_in(page, live_server, w["organizer_a"])
    page.goto(f"{live_server}/units/{w['a'].id}/reports?period=quarter&at=2026Q1")
    with page.expect_download() as download:
        page.click("#roster-xlsx")
    path = tmp_path / "roster.xlsx"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"roster-{w['a'].id}-2026Q1.xlsx"
    rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:4] == ("姓名", "手机号", "居住地", "已核验时长（小时）")
    body, totals = rows[1:-1], rows[-1]
    assert totals[0] == "合计" and sum(row[3] for row in body) == totals[3] == 4.5
    assert {row[0]: row[4] for row in body}["王秀英"] == 30

    page.click("#roster-link")
    expect(page.locator("h1")).to_contain_text("花名册")
    expect(page.locator("#roster-table tfoot")).to_contain_text("4.5")
    assert_seen_clean(page)
