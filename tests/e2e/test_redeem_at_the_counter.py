"""Redemption end to end in Chromium: the volunteer's phone shows the redeem code, the shop's
counter types its digits (headless Chromium has no camera), taps the offer and confirms,
and both balances change on their pages, as the person sees them in Chinese and English;
no page breaks the Content-Security-Policy."""

from datetime import timedelta

from playwright.sync_api import expect

from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.merchants_factories import code_of, create_merchant, create_offer, fund, key
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants import operations as merchants


def test_the_counter_redeems_the_phone_s_code_and_both_balances_change(
    app, district, make_member, live_server, browser
):
    owner = make_member(district["building_a"], name="王建国")
    merchant = create_merchant(district["a"], owner=owner, name="上坎老王肉菜店")
    offer = create_offer(merchant, title="满30元减5元", points_cost=10)
    volunteer = make_member(district["building_a"], name="王秀英")
    fund(volunteer, 25)
    db.session.commit()

    mine = phone(browser, "zh")
    log_in(mine, live_server, volunteer)
    mine.goto(f"{live_server}/me/redeem")
    expect(mine.locator("#redeem-qr svg")).to_be_visible()
    expect(mine.locator("#points-available")).to_have_text("25")
    expect(mine.locator("main h1")).to_have_text("我的兑换码")
    digits = mine.locator("#redeem-short").inner_text()
    assert digits.startswith(f"{volunteer.id}-")

    till = phone(browser, "zh")
    log_in(till, live_server, owner)
    till.goto(f"{live_server}/merchants/{merchant.id}/counter")
    expect(till.locator("#merchant-balance")).to_have_text("0")
    # headless Chromium has no camera: the vendored scanner says so, staff type the digits
    expect(till.locator("#scan-status")).to_have_text("无法使用摄像头；请输入数字。")
    # the placeholder looks like the phone's digits
    expect(till.locator("#code")).to_have_attribute("placeholder", "5-347892")
    till.fill("#code", digits)
    till.click(f"main #offer-{offer.id}")  # tap 1: the offer
    pending = till.locator(".pending-card")
    expect(pending.locator("h2")).to_contain_text("王**")  # staff see the name masked
    # the phone shows the redemption waiting for the shop
    expect(mine.locator("#waiting")).to_contain_text("上坎老王肉菜店", timeout=10_000)
    expect(mine.locator("#points-available")).to_have_text("15")
    pending.locator("button.confirm").click()  # tap 2: confirm
    expect(till.locator("#merchant-balance")).to_have_text("10")
    expect(till.locator("#recent li[data-status=confirmed] .status")).to_have_text("已确认")

    # the phone reloads by itself: a receipt, and the balance taken
    expect(mine.locator("#receipts li[data-status=confirmed]")).to_have_count(1, timeout=10_000)
    expect(mine.locator("#points-balance")).to_have_text("15")
    expect(mine.locator("#waiting")).to_have_count(0)
    # the waiting card turned into the ending: the shop, the offer and the new balance
    ending = mine.locator(".outcome-card")
    expect(ending.locator("h2")).to_have_text("兑换成功")
    expect(ending).to_contain_text("上坎老王肉菜店 · 满30元减5元 · 10 积分")
    expect(ending.locator(".outcome-balance")).to_have_text("15")
    mine.goto(f"{live_server}/me/statement")
    expect(mine.locator("main")).to_contain_text("在上坎老王肉菜店兑换“满30元减5元”")
    mine.go_back()
    # and in English
    mine.click("#lang-switch")
    expect(mine.locator("main h1")).to_have_text("My redeem code")
    expect(mine.locator(".outcome-card h2")).to_have_text("Redeemed")
    expect(mine.locator("#receipts li[data-status=confirmed] .status")).to_have_text("Confirmed")
    mine.goto(f"{live_server}/me/statement")
    expect(mine.locator("[data-balance=POINTS]")).to_have_text("15 points")
    expect(mine.locator("main")).to_contain_text("Redeemed “满30元减5元” at 上坎老王肉菜店")
    till.click("#lang-switch")
    expect(till.locator("#recent li[data-status=confirmed] .status")).to_have_text("Confirmed")
    assert_seen_clean(mine, till)


def test_a_code_that_rotates_as_the_shop_confirms_still_shows_how_it_ended(
    app, district, make_member, live_server, browser, clock
):
    """The phone reloads when its code rotates. If the shop confirms in the moment before
    that reload, and before the phone's next look at the state, the new page still names
    the redemption it waited on and shows the ending. The look at the state is cut off
    here, and the clock stands a second before the code rotates."""
    step = merchants.REDEEM.step_seconds
    now = utcnow()
    clock.freeze(now + timedelta(seconds=step - 1 - now.timestamp() % step))
    owner = make_member(district["building_a"], name="王建国")
    merchant = create_merchant(district["a"], owner=owner, name="上坎老王肉菜店")
    offer = create_offer(merchant, title="满30元减5元", points_cost=10)
    volunteer = make_member(district["building_a"], name="王秀英")
    fund(volunteer, 25)
    held = merchants.redeem(
        code=code_of(volunteer), offer_id=offer.id, idempotency_key=key(), staff=owner
    ).redemption
    db.session.commit()

    mine = phone(browser, "zh")
    log_in(mine, live_server, volunteer)
    mine.route("**/redeem/state.json*", lambda route: route.abort())
    mine.goto(f"{live_server}/me/redeem")
    expect(mine.locator(f".pending-card[data-redemption-id='{held.id}']")).to_be_visible()
    merchants.confirm_redemption(held.id, staff=owner)
    db.session.commit()
    expect(mine.locator(".outcome-card h2")).to_have_text("兑换成功", timeout=10_000)
    expect(mine.locator("#points-balance")).to_have_text("15")
