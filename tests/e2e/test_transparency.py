"""The notice board on a phone, without a login: the browser checks the checkpoint's
signature and a consistency proof from the one before with its own WebCrypto, and says
so; after someone rewrites a signed entry behind the triggers' back (and recomputes the
log so ``ledger verify`` would not notice), the same page says plainly that it does not
match. And a street office makes its witness key and cosigns in its browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.transparency_factories import ledger_entry_ids, post_entries, rebuild_log, rewrite_entry
from timebank.extensions import db
from timebank.transparency import operations as transparency
from timebank.transparency.models import Cosignature

CHECKED = "() => [...document.querySelectorAll('[data-log-check]')].every(e => e.dataset.result)"


def _signed_history(district) -> None:
    """Two checkpoints of each ledger, and entries since."""
    members = post_entries(25, unit=district["street"])
    transparency.sign_checkpoints()
    post_entries(9, unit=district["street"], members=members)
    transparency.sign_checkpoints()
    post_entries(2, unit=district["street"], members=members)
    transparency.append_entries()
    db.session.commit()


def _results(page) -> dict:
    page.wait_for_function(CHECKED, timeout=20_000)
    return {
        el.get_attribute("data-ledger"): el.get_attribute("data-result")
        for el in page.query_selector_all("[data-log-check]")
    }


def test_a_phone_checks_the_notice_board_and_sees_a_rewrite(browser, app, live_server):
    district = factories.create_district()
    _signed_history(district)
    notice = f"{live_server}/notice/{district['a'].id}"

    board = phone(browser, "zh")  # the organizer prints the notice board ...
    board.goto(notice)
    expect(board.locator("#notice-qr svg")).to_be_visible()
    printed = board.locator("#notice-qr .url code").inner_text()
    board.goto(f"{live_server}/notice")
    assert printed.startswith(notice + "?h=68.") and "&p=68." in printed and "&k=" in printed

    resident = phone(browser, "zh")  # ... and a resident's phone opens its QR code
    resident.goto(printed)
    assert _results(resident) == {"HOURS": "ok", "POINTS": "ok"}
    hours = resident.locator("#log-hours")
    expect(hours.locator("[data-log-check]")).to_have_text("一致：账本没有被改写。")
    expect(hours.locator(".check-steps")).to_contain_text("与上一个检查点（50 条记录）一致")
    expect(hours.locator(".check-steps")).to_contain_text("与公示栏上打印的检查点（68 条记录）一致")
    expect(resident.locator("#totals")).to_contain_text("发放服务时长")
    resident.goto(f"{live_server}/notice")
    assert _results(resident) == {"HOURS": "ok", "POINTS": "ok"}

    # Someone with the database's password rewrites a signed entry and recomputes the log.
    rewrite_entry(ledger_entry_ids("HOURS")[30])
    rebuild_log("HOURS")
    resident.goto(printed)
    assert _results(resident) == {"HOURS": "mismatch", "POINTS": "ok"}
    expect(resident.locator("#log-hours [data-log-check]")).to_contain_text(
        "不一致：账本的历史在签名之后被改动过。"
    )
    assert_seen_clean(board, resident)


def test_a_street_office_makes_its_key_and_cosigns_in_its_browser(browser, app, live_server):
    district = factories.create_district()
    admin = factories.create_member(district["street"], roles=("admin",), name="街道管理员")
    db.session.commit()
    _signed_history(district)

    page = phone(browser, "en")
    log_in(page, live_server, admin)
    page.goto(f"{live_server}/units/{district['street'].id}/witness")
    page.click("#make-key")
    expect(page.locator(".flash.success")).to_contain_text("This browser now holds")
    expect(page.locator("#witness-state")).to_contain_text(
        "This browser holds the street office key"
    )
    [key_id] = [k.key_id for k in transparency.witness_keys(district["street"].id)]
    latest = transparency.latest_checkpoint("HOURS").id
    db.session.rollback()  # SQLite: the test's reads must not keep the server from writing
    page.locator(f"#checkpoint-{latest} [data-cosign-button]").click()
    # the browser checks the checkpoint, then signs: give a busy machine time
    expect(page.locator(".flash.success")).to_contain_text(
        "cosigned by the street office", timeout=20_000
    )
    expect(page.locator(f"#checkpoint-{latest} .badge")).to_have_text("Cosigned")
    assert db.session.query(Cosignature).filter_by(checkpoint_id=latest).count() == 1
    assert transparency.verify_logs()["HOURS"].cosignatures == 1
    db.session.rollback()

    page.goto(f"{live_server}/notice/{district['a'].id}")
    assert _results(page)["HOURS"] == "ok"
    expect(page.locator("#log-hours .check-steps")).to_contain_text(
        f"Cosigned by {district['street'].name}."
    )
    assert key_id in page.locator("#log-hours .cosigned").inner_text()
    assert page.csp_violations == []
