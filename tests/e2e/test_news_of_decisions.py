"""News of decisions in Chromium (issue 21): the shop's owner reads in the inbox that the
shop was approved and then paid; a member reads that a shop refunded a redemption and
that someone gave them hours with a note; in Chinese, and in English for an English
reader."""

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, inbox_notice
from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.people import operations as people


def test_the_inbox_tells_of_the_shop_the_refund_and_the_gift(app, district, live_server, browser):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    owner = factories.create_member(district["building_a"], name="王建国")
    shop = create_merchant(district["a"], owner=owner, organizer=organizer, name="上坎老王肉菜店")
    offer = create_offer(shop, title="满30元减5元", points_cost=10)
    member = factories.create_member(district["building_a"], name="王秀英")
    son = factories.create_member(district["building_b"], name="Sam Zhang")
    people.set_locale(son, "en")
    fund(member, 25, minutes=120)
    held = merchants.redeem(
        code=merchants.current_redeem_code(member.id).token, offer_id=offer.id,
        idempotency_key="e2e-news", staff=owner,
    ).redemption  # fmt: skip
    merchants.confirm_redemption(held.id, staff=owner)
    merchants.refund_redemption(held.id, staff=owner, reason="顾客退货")
    ledger.donate(
        donor=member, actor=member, minutes=90, idempotency_key="e2e-gift",
        recipient_phone=son.phone, memo="for the bus",
    )  # fmt: skip
    db.session.commit()

    shop_phone, approved = inbox_notice(browser, live_server, owner, "zh", "shop_approved")
    expect(approved.locator(".notice-title")).to_have_text("上坎老王肉菜店 已通过审核")
    expect(approved.locator(".notice-body")).to_contain_text("请在商户页面发布优惠")

    mine, refunded = inbox_notice(browser, live_server, member, "zh", "redemption_refunded")
    expect(refunded.locator(".notice-title")).to_have_text("积分已退回：满30元减5元")
    expect(refunded.locator(".notice-body")).to_contain_text(
        "上坎老王肉菜店 退回了您兑换“满30元减5元”所用的 10 积分。原因：顾客退货"
    )
    refunded.locator("button[name=open]").click()
    expect(mine.locator("#receipt")).to_contain_text("顾客退货")

    theirs, gift = inbox_notice(browser, live_server, son, "en", "donation_received")
    expect(gift.locator(".notice-title")).to_have_text("王秀英 gave you hours")
    expect(gift.locator(".notice-body")).to_have_text(
        "王秀英 gave you 1 h 30 min of time-bank hours; they are on your statement. "
        "Their note: for the bus"
    )
    assert_seen_clean(shop_phone, mine, theirs)
