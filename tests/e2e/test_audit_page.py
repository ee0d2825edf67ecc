"""An admin on a 390×844 phone opens the audit log from the home page, filters it and
sees the row; no Content-Security-Policy violation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.test_usability_journeys import log_in, phone
from timebank.core.audit import record_audit
from timebank.extensions import db


def test_admin_filters_the_audit_log_on_a_phone(browser, app, live_server):
    district = factories.create_district()
    admin = factories.create_member(district["street"], roles=("admin",), name="管理员甲")
    organizer = factories.create_member(district["a"], roles=("organizer",), name="组织者乙")
    resident = factories.create_member(district["building_a"], name="居民丙")
    record_audit("member.approve", actor=organizer, subject=resident, target="unit:1")
    record_audit("member.suspend", actor=organizer, subject=resident, detail="搬走了")
    db.session.commit()

    page = phone(browser, "zh-CN")
    log_in(page, live_server, admin)
    page.click("#audit-link")
    expect(page.locator("h1")).to_have_text("审计日志")
    page.select_option("#audit-action", "member.suspend")
    page.fill("input[name=member_id]", str(resident.id))
    page.click("#audit-search")
    rows = page.locator("#audit-table tbody tr[data-event-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("组织者乙")
    expect(rows.first).to_contain_text("居民丙")
    expect(rows.first).to_contain_text("成员已暂停")
    expect(rows.first).to_contain_text("搬走了")
    assert "action=member.suspend" in page.locator("#audit-csv").get_attribute("href")
    # the table stacks on a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.csp_violations == []
