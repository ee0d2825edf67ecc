"""Offers (issue 21, finding 10): what is left of an offer, sold out for everyone alike;
changing an offer (what it gives and costs only until someone redeemed it)."""

import itertools
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.merchants_factories import create_merchant, create_offer, fund
from tests.unit.test_merchants import code_error
from tests.unit.test_merchants import redeem as redeem_now
from timebank.core.audit import AuditEvent
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants import operations as merchants

_minutes = itertools.count(1)


def redeem(shop, **kwargs):
    """A hold, each a minute later than the one before (a code is used once)."""
    return redeem_now(shop, now=utcnow() + timedelta(minutes=next(_minutes)), **kwargs)


@pytest.fixture
def shop(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    merchant = create_merchant(d["a"], organizer=organizer)
    member = factories.create_member(d["building_a"], name="王秀英")
    fund(member, 100)
    return {
        "d": d, "merchant": merchant, "owner": merchant.owner, "member": member,
        "organizer": organizer, "offer": create_offer(merchant, stock=2, title="满30元减5元"),
    }  # fmt: skip


def test_what_is_left_counts_held_and_confirmed_redemptions_but_not_voided_ones(shop):
    offer = shop["offer"]
    assert merchants.offers_left([offer])[offer.id].stock_left == 2
    held = redeem(shop)
    merchants.void_redemption(held.id, staff=shop["owner"])
    assert merchants.offers_left([offer])[offer.id].stock_left == 2
    redeem(shop)
    left = merchants.offers_left([offer])[offer.id]
    assert (left.stock_left, left.sold_out) == (1, False)
    merchants.confirm_redemption(redeem(shop).id, staff=shop["owner"])
    left = merchants.offers_left([offer])[offer.id]
    assert (left.used, left.stock_left, left.sold_out) == (2, 0, True)
    # a budget that cannot pay one more is sold out too
    budget = create_offer(shop["merchant"], points_cost=10, budget_points=15, title="理发券")
    redeem(shop, offer=budget)
    assert merchants.offers_left([budget])[budget.id].sold_out
    # a member sees the sold-out ones last, said so
    listed = merchants.offers_for_member(shop["member"], available_points=100)
    assert [(o.offer.title, o.sold_out) for o in listed][-2:] == [
        ("满30元减5元", True),
        ("理发券", True),
    ]


def test_an_offer_changes_its_stock_limits_and_end_at_any_time(shop):
    offer, owner = shop["offer"], shop["owner"]
    redeem(shop)
    until = offer.valid_until + timedelta(days=10)
    merchants.update_offer(
        offer.id, actor=owner, stock=5, per_member_daily=1, valid_until=until,
        description="每人每天一次",
    )  # fmt: skip
    assert (offer.stock, offer.per_member_daily, offer.valid_until) == (5, 1, until)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "offer.update"))
    assert event.target == f"offer:{offer.id}" and json.loads(event.after)["stock"] == 5
    # never below what is taken already
    assert code_error(merchants.update_offer, offer.id, actor=owner, stock=0) == "invalid_offer"


def test_what_an_offer_gives_and_costs_is_fixed_once_redeemed(shop):
    offer, owner = shop["offer"], shop["owner"]
    merchants.update_offer(offer.id, actor=owner, title="满30元减6元", discount_fen=600)
    assert (offer.title, offer.discount_fen) == ("满30元减6元", 600)
    # a new kind of benefit drops the old one's fields
    merchants.update_offer(offer.id, actor=owner, benefit="item", item_name="一把青菜")
    assert (offer.benefit, offer.item_name, offer.discount_fen) == ("item", "一把青菜", None)
    redeem(shop)
    assert code_error(merchants.update_offer, offer.id, actor=owner, points_cost=5) == (
        "offer_redeemed"
    )
    assert offer.points_cost == 10
    merchants.withdraw_offer(offer)
    assert code_error(merchants.update_offer, offer.id, actor=owner, stock=9) == "offer_withdrawn"


def test_a_percentage_offer_needs_its_cap_when_changed(shop):
    offer = create_offer(shop["merchant"], title="九折", benefit="percent", percent_off=10,
                         cap_fen=1000, discount_fen=None)  # fmt: skip
    assert (
        code_error(merchants.update_offer, offer.id, actor=shop["owner"], cap_fen=None)
        == "invalid_offer"
    )
    start = utcnow() + timedelta(days=1)
    assert code_error(
        merchants.update_offer, offer.id, actor=shop["owner"], valid_from=start,
        valid_until=start - timedelta(hours=1),
    ) == "invalid_offer"  # fmt: skip
