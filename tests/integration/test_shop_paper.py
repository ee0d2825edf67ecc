"""For shops (issue 21): the printable 本店接受积分 sticker, the day's close-out (page and
CSV through core/exports.py) that counts as the statement will, and who may see them."""

from __future__ import annotations

import pytest

from tests import factories
from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants import operations as merchants


@pytest.fixture
def shop(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    merchant = create_merchant(district["a"], organizer=organizer, name="老王肉菜店")
    offer = create_offer(merchant, title="满30元减5元", points_cost=10)
    customer = factories.create_member(district["building_a"], name="王秀英")
    fund(customer, 50)
    taken = []
    for n in range(3):
        held = merchants.redeem(
            code=merchants.current_redeem_code(customer.id, now=utcnow()).token
            if n == 0 else merchants.current_redeem_code(customer.id, now=_later(n)).token,
            offer_id=offer.id, idempotency_key=f"paper-{n}", staff=merchant.owner,
            now=_later(n),
        ).redemption  # fmt: skip
        if n < 2:
            taken.append(merchants.confirm_redemption(held.id, staff=merchant.owner))
        else:
            merchants.void_redemption(held.id, staff=merchant.owner)
    merchants.refund_redemption(taken[1].id, staff=merchant.owner, reason="退货")
    other = create_merchant(district["b"], name="古浪路药店")
    db.session.commit()
    return {"merchant": merchant, "owner": merchant.owner, "customer": customer,
            "organizer": organizer, "other_owner": other.owner}  # fmt: skip


def _later(n):
    from datetime import timedelta

    return utcnow() + timedelta(seconds=40 * n)


def test_the_close_out_counts_the_day_as_the_statement_will(shop, client, login):
    merchant = shop["merchant"]
    today = utcnow().astimezone(merchants.local_zone()).date()
    close = merchants.close_out(merchant.id, today)
    month = merchants.statement_figures(merchant.id, merchants.current_month(utcnow()))
    assert (close.figures.redemptions, close.figures.refunds, close.figures.points_net) == (
        2, 1, 10
    ) == (month.redemptions, month.refunds, month.points_net)  # fmt: skip
    assert close.by_offer == [("满30元减5元", 2, 10)] and close.not_taken == 1
    login(shop["owner"])
    page = client.get(f"/merchants/{merchant.id}/close-out").get_data(as_text=True)
    assert 'id="close-points">10<' in page and 'id="close-not-taken">1<' in page
    assert "王*" in page and "王秀英" not in page  # the shop sees its customers masked
    csv = client.get(f"/merchants/{merchant.id}/close-out.csv")
    assert csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert lines[0] == "时间,兑换,成员,优惠,积分,已退还" and len(lines) == 5
    assert lines[-2:] == ["合计,2,,,20,10", "应结积分,,,,10,"]
    # another day: nothing, said so; a day in the future is today
    empty = client.get(f"/merchants/{merchant.id}/close-out?day=2026-01-01").get_data(as_text=True)
    assert "当天没有兑换。" in empty
    assert f'data-day="{today.isoformat()}"' in client.get(
        f"/merchants/{merchant.id}/close-out?day=2999-01-01"
    ).get_data(as_text=True)


def test_the_sticker_names_the_shop_and_its_code_opens_the_offers(shop, client, login):
    merchant = shop["merchant"]
    login(shop["owner"])
    page = client.get(f"/merchants/{merchant.id}/sticker").get_data(as_text=True)
    assert "本店接受积分" in page and 'id="sticker-shop">老王肉菜店<' in page
    qr = page.split('id="sticker-qr"', 1)[1][:400]
    assert "<svg" in qr and f"/merchants/{merchant.id}/profile</code>" in page
    assert "满30元减5元" in page
    dashboard = client.get(f"/merchants/{merchant.id}").get_data(as_text=True)
    assert 'id="sticker-link"' in dashboard and 'id="close-out-link"' in dashboard


@pytest.mark.parametrize("who", ["other_owner", "customer"])
def test_only_the_shops_staff_see_its_close_out_and_sticker(shop, client, login, who):
    login(shop[who])
    merchant = shop["merchant"].id
    for path in ("close-out", "close-out.csv", "sticker"):
        assert client.get(f"/merchants/{merchant}/{path}").status_code == 403, path
