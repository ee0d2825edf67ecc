"""A redemption's ending on the member's phone (issue 21, finding 6): once the shop decides,
the redeem page says "兑换成功" with the shop, the offer and the new balance (or that the
points are back); the statement line names the shop and the offer; the receipt labels
both its times; the counter's placeholder looks like a real code."""

import re
from datetime import timedelta

from tests import factories
from tests.integration.test_merchant_pages import counter_form, shop, text  # noqa: F401
from tests.merchants_factories import create_offer
from timebank.extensions import db
from timebank.merchants import operations as merchants


def hold_at_the_counter(client, login, shop, offer=None):  # noqa: F811
    merchant, member = shop["merchant"], shop["member"]
    offer = offer or shop["offer"]
    code = merchants.current_redeem_code(member.id).short_code
    login(shop["owner"])
    data = {**counter_form(client, merchant.id), "code": code, "offer_id": offer.id}
    client.post(f"/merchants/{merchant.id}/counter", data=data)
    return merchants.member_redemptions(member.id)[0]


def test_the_phone_says_redeemed_with_the_shop_offer_and_new_balance(client, login, shop):  # noqa: F811
    redemption = hold_at_the_counter(client, login, shop)
    assert 'placeholder="5-347892"' in text(client.get(f"/merchants/{shop['merchant'].id}/counter"))
    login(shop["member"])
    waiting = text(client.get("/me/redeem"))
    assert f'data-redemption-id="{redemption.id}"' in waiting and "outcome-card" not in waiting
    # while it waits, ?done= names nothing decided: no ending yet
    assert "outcome-card" not in text(client.get(f"/me/redeem?done={redemption.id}"))

    login(shop["owner"])
    client.post(f"/redemptions/{redemption.id}/confirm")
    login(shop["member"])
    page = text(client.get(f"/me/redeem?done={redemption.id}"))
    card = re.search(r'<section class="card outcome-card".*?</section>', page, re.S).group(0)
    assert "兑换成功" in card and "上坎老王肉菜店" in card and "满30元减5元" in card
    assert 'class="outcome-balance">15<' in card
    assert "waiting" not in page.split("outcome-card")[0]
    # without ?done= (a fresh visit) the page shows no ending
    assert "outcome-card" not in text(client.get("/me/redeem"))
    client.post("/lang/en")
    assert "Redeemed</h2>" in text(client.get(f"/me/redeem?done={redemption.id}"))


def test_a_cancelled_redemption_says_the_points_are_back(client, login, shop):  # noqa: F811
    redemption = hold_at_the_counter(client, login, shop)
    client.post(f"/redemptions/{redemption.id}/void")
    login(shop["member"])
    page = text(client.get(f"/me/redeem?done={redemption.id}"))
    assert "没有兑换" in page and "商户取消了这次兑换，10 积分已退回。" in page
    assert "兑换成功" not in page
    receipt = text(client.get(f"/me/redemptions/{redemption.id}"))
    assert "商户取消时间：" in receipt and "柜台扫码时间：" in receipt


def test_another_member_s_redemption_and_garbage_show_no_ending(client, login, shop):  # noqa: F811
    redemption = hold_at_the_counter(client, login, shop)
    client.post(f"/redemptions/{redemption.id}/confirm")
    other = factories.create_member(shop["member"].home_unit, name="李四")
    db.session.commit()
    login(other)
    assert "outcome-card" not in text(client.get(f"/me/redeem?done={redemption.id}"))
    for done in ("abc", "99999999999999999999", "²", ",,,", "1," * 50):
        response = client.get("/me/redeem", query_string={"done": done})
        assert response.status_code == 200 and "outcome-card" not in text(response)


def test_the_statement_names_the_shop_and_the_offer(client, login, shop):  # noqa: F811
    redemption = hold_at_the_counter(client, login, shop)
    client.post(f"/redemptions/{redemption.id}/confirm")
    client.post(f"/redemptions/{redemption.id}/refund", data={"reason": "顾客退货"})
    login(shop["member"])
    receipt = text(client.get(f"/me/redemptions/{redemption.id}"))
    assert "商户确认时间：" in receipt and "柜台扫码时间：" in receipt
    statement = text(client.get("/me/statement"))
    assert "在上坎老王肉菜店兑换“满30元减5元”" in statement
    assert "上坎老王肉菜店退回“满30元减5元”的积分" in statement
    assert "在商户消费" not in statement
    client.post("/lang/en")
    statement = text(client.get("/me/statement"))
    assert "Redeemed “满30元减5元” at 上坎老王肉菜店" in statement
    assert "Refund from 上坎老王肉菜店 for “满30元减5元”" in statement


def test_two_offers_each_line_names_its_own(client, login, shop, clock):  # noqa: F811
    second = create_offer(shop["merchant"], title="买一送一", points_cost=5)
    db.session.commit()
    first = hold_at_the_counter(client, login, shop)
    client.post(f"/redemptions/{first.id}/confirm")
    clock.advance(timedelta(minutes=1))  # a code step redeems once
    other = hold_at_the_counter(client, login, shop, offer=second)
    client.post(f"/redemptions/{other.id}/confirm")
    login(shop["member"])
    statement = text(client.get("/me/statement"))
    assert "在上坎老王肉菜店兑换“满30元减5元”" in statement
    assert "在上坎老王肉菜店兑换“买一送一”" in statement
