"""Finding 10 of issue 21 in Chromium: an offer's last one is redeemed; the counter greys
it out as 已兑完, the member reads 已兑完, the organizer sees it; the owner changes the offer
from its own page (more stock), and the counter offers it again with what is left. The
last valid day reads as entered, and taking an offer down is 下架, not 取消报名."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants import operations as merchants
from timebank.merchants.operations.limits import local_midnight


def test_a_sold_out_offer_is_greyed_out_and_a_change_brings_it_back(
    app, district, live_server, browser
):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    owner = factories.create_member(district["building_a"], name="王建国")
    merchant = create_merchant(district["a"], owner=owner, organizer=organizer, name="老王肉菜店")
    until = local_midnight((utcnow() + timedelta(days=40)).date())
    offer = create_offer(merchant, title="满30元减5元", stock=1, valid_until=until)
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    fund(volunteer, 50)
    redemption = merchants.redeem(
        code=merchants.current_redeem_code(volunteer.id).token, offer_id=offer.id,
        idempotency_key="e2e-sold-out", staff=owner,
    ).redemption  # fmt: skip
    merchants.confirm_redemption(redemption.id, staff=owner)
    db.session.commit()
    last_day = (until - timedelta(days=1)).astimezone(merchants.local_zone()).date().isoformat()

    till = phone(browser, "zh")
    log_in(till, live_server, owner)
    till.goto(f"{live_server}/merchants/{merchant.id}/counter")
    button = till.locator(f"#offer-{offer.id}")
    expect(button).to_be_disabled()
    expect(till.locator(f"#left-{offer.id}")).to_have_text("已兑完")

    member = phone(browser, "zh")
    log_in(member, live_server, volunteer)
    member.goto(f"{live_server}/offers")
    row = member.locator(f"li[data-offer-id='{offer.id}']")
    expect(row.locator(".sold-out")).to_have_text("已兑完")
    expect(row).to_contain_text(f"有效期至 {last_day}")

    boss = phone(browser, "zh")
    log_in(boss, live_server, organizer)
    boss.goto(f"{live_server}/units/{district['a'].id}/offers")
    expect(boss.locator(f"tr[data-offer-id='{offer.id}'] .sold-out")).to_have_text("已兑完")
    expect(boss.locator(f"tr[data-offer-id='{offer.id}']")).to_contain_text(last_day)

    # the owner changes the offer: what it gives is fixed now, the stock is not
    till.goto(f"{live_server}/merchants/{merchant.id}")
    expect(till.locator(f"li[data-offer-id='{offer.id}'] button")).to_have_text("下架")
    till.click(f"#edit-offer-{offer.id}")
    expect(till.locator("#offer-fixed")).to_be_visible()
    expect(till.locator("#offer-edit-form [name=title]")).to_be_disabled()
    till.fill("#offer-edit-form [name=stock]", "3")
    till.click("#offer-edit-form button[type=submit]")
    expect(till.locator(".flash.success")).to_contain_text("满30元减5元 已修改")
    till.goto(f"{live_server}/merchants/{merchant.id}/counter")
    expect(till.locator(f"#offer-{offer.id}")).to_be_enabled()
    expect(till.locator(f"#left-{offer.id}")).to_have_text("剩 2 份")
    assert_seen_clean(till, member, boss)

    english = phone(browser, "en")
    log_in(english, live_server, owner)
    english.goto(f"{live_server}/merchants/{merchant.id}/counter")
    expect(english.locator(f"#left-{offer.id}")).to_have_text("2 left")
