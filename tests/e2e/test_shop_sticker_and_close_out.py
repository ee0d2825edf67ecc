"""For shops (issue 21) in Chromium: the owner prints the 本店接受积分 sticker with the
shop's name and a code to its offers, reads what is left at the counter, and closes the
day: what was redeemed and is owed, as the statement will count it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.extensions import db
from timebank.merchants import operations as merchants


def test_the_owner_prints_the_sticker_and_closes_the_day(app, district, live_server, browser):
    owner = factories.create_member(district["building_a"], name="王建国")
    merchant = create_merchant(district["a"], owner=owner, name="上坎老王肉菜店")
    offer = create_offer(merchant, title="满30元减5元", points_cost=10, stock=5)
    customer = factories.create_member(district["building_a"], name="王秀英")
    fund(customer, 30)
    held = merchants.redeem(
        code=merchants.current_redeem_code(customer.id).token, offer_id=offer.id,
        idempotency_key="e2e-close", staff=owner,
    ).redemption  # fmt: skip
    merchants.confirm_redemption(held.id, staff=owner)
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, owner)
    page.goto(f"{live_server}/merchants/{merchant.id}")
    page.click("#sticker-link")
    expect(page.locator("#sticker h1")).to_have_text("本店接受积分")
    expect(page.locator("#sticker-shop")).to_have_text("上坎老王肉菜店")
    expect(page.locator("#sticker-qr svg")).to_be_visible()
    expect(page.locator("#sticker-url")).to_contain_text(f"/merchants/{merchant.id}/profile")
    page.goto(f"{live_server}/merchants/{merchant.id}/counter")
    expect(page.locator(f"#left-{offer.id}")).to_have_text("剩 4 份")
    page.click("#close-out-link")
    expect(page.locator("#close-count")).to_have_text("1")
    expect(page.locator("#close-points")).to_have_text("10")
    expect(page.locator("#close-lines")).to_contain_text("王*")
    with page.expect_download() as download:
        page.click("#close-csv")
    assert download.value.suggested_filename.endswith(".csv")
    assert_seen_clean(page)

    english = phone(browser, "en")
    log_in(english, live_server, owner)
    english.goto(f"{live_server}/merchants/{merchant.id}/sticker")
    expect(english.locator("#sticker h1")).to_have_text("Points accepted here")
