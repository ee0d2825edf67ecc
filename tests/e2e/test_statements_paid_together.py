"""Finding 11 of issue 21 in Chromium, on a phone: the organizer ticks two shops'
statements of last month, pays them with one bank transfer, and opens one statement's
layout to print and sign; a shop that redeemed nothing has no ¥0 statement there."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.merchants_factories import create_merchant, fund, redeemed_last_month
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants import operations as merchants


def test_two_statements_are_paid_with_one_transfer_and_one_is_printed(
    app, district, live_server, browser
):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    customer = factories.create_member(district["building_a"], name="王秀英")
    fund(customer, 100)
    shops = []
    for name in ("老王肉菜店", "红星理发店"):
        shop = create_merchant(district["a"], organizer=organizer, name=name)
        redeemed_last_month(shop, customer)
        shops.append(shop)
    create_merchant(district["a"], organizer=organizer, name="今天才批准的店")
    last = merchants.previous_month(utcnow())
    statements = merchants.build_unit_statements(district["a"].id, last)
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, organizer)
    page.goto(f"{live_server}/units/{district['a'].id}/settlement?month={last:%Y-%m}")
    # the shop approved today has no ¥0 statement to "pay"
    expect(page.locator("#statements")).not_to_contain_text("今天才批准的店")
    expect(page.locator("#as-of")).to_contain_text("按账本截至")
    for statement in statements:
        page.check(f"#choose-{statement.id}")
    page.fill("#reference-several", "西柳沟街道财政所转账 0042")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#pay-chosen")
    expect(page.locator(".flash.success")).to_contain_text("2 张结算单已支付")
    for statement in statements:
        expect(page.locator(f"li[data-statement-id='{statement.id}']")).to_have_attribute(
            "data-status", "paid"
        )
    page.click(f"li[data-statement-id='{statements[0].id}'] a")
    page.click("#print-link")
    expect(page.locator("#signatures")).to_contain_text("商户（签字盖章）")
    expect(page.locator("#print-yuan")).to_contain_text("¥")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    assert_seen_clean(page)
