"""A certificate sealed in the transparency log, checked on a stranger's phone: /verify
says it is sealed in checkpoint N and verified in this browser (WebCrypto: the checkpoint's
signature with the published key, the certificate's signature, and each entry's inclusion
proof); with an entry rewritten behind the triggers' back, the same page says it does not."""

from __future__ import annotations

import json
from datetime import date

from playwright.sync_api import expect

from tests.e2e.pages import assert_seen_clean, phone
from tests.reports_factories import at, quarter_world
from tests.transparency_factories import rewrite_entry
from timebank.extensions import db
from timebank.reports import operations as reports
from timebank.transparency import operations as transparency


def test_a_strangers_phone_sees_the_certificate_sealed_and_verified(
    app, clock, live_server, browser
):
    w = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    signed = transparency.sign_checkpoints(clock.now())
    size = next(c.tree_size for c in signed if c.ledger == "HOURS")
    cert = reports.issue_certificate(
        w["alice"], actor=w["organizer_a"], first=date(2026, 1, 1), last=date(2026, 3, 31),
        details=reports.IssueDetails("上坎社区居民委员会", "周主任", "0931-7550000"),
    )  # fmt: skip
    db.session.commit()
    url = f"{live_server}/verify/{cert.serial}?d={reports.content_digest(cert)}"

    stranger = phone(browser, "zh")
    stranger.goto(url)
    expect(stranger.locator("#verdict")).to_have_attribute("data-verdict", "genuine")
    check = stranger.locator("#seal-check")
    expect(check).to_have_attribute("data-result", "ok")
    expect(check).to_contain_text(f"已封存于检查点 {size}，已在本浏览器中验证")
    expect(stranger.locator("#seal .check-steps li")).to_have_count(3)

    visitor = phone(browser, "en")
    visitor.goto(url)
    expect(visitor.locator("#seal-check")).to_contain_text(
        f"Sealed in checkpoint {size}, verified in this browser"
    )

    # someone with the database's password rewrites one of its entries
    rewrite_entry(json.loads(cert.entry_ids)[0])
    stranger.goto(f"{live_server}/verify")  # typing the serial printed on the paper
    stranger.fill("input[name=serial]", cert.serial)
    stranger.click("form.card button[type=submit]")
    expect(stranger.locator("#verdict")).to_have_attribute("data-verdict", "mismatch")
    expect(stranger.locator("#seal-check")).to_have_attribute("data-result", "mismatch")
    expect(stranger.locator("#seal-check")).to_contain_text("封存验证未通过")
    assert_seen_clean(stranger)
