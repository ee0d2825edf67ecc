"""Statements (issue 21, finding 11): no ¥0 statement to "pay"; an open statement shows
the ledger as of now; the dashboard counts as the statement does; the shop's own
decisions are audited; several statements paid at once; a layout to print and sign."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests import factories
from tests.merchants_factories import create_merchant, create_offer, fund, redeemed_last_month
from timebank.core.audit import AuditEvent
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.merchants import operations as merchants


@pytest.fixture
def shops(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    customer = factories.create_member(district["building_a"], name="王秀英")
    fund(customer, 100)
    made = []
    for name in ("老王肉菜店", "红星理发店"):
        merchant = create_merchant(district["a"], organizer=organizer, name=name)
        redeemed_last_month(merchant, customer)
        made.append(merchant)
    quiet = create_merchant(district["a"], organizer=organizer, name="今天才批准的店")
    statements = merchants.build_unit_statements(
        district["a"].id, merchants.previous_month(utcnow())
    )
    db.session.commit()
    return {"organizer": organizer, "customer": customer, "shops": made, "quiet": quiet,
            "statements": statements, "unit": district["a"].id}  # fmt: skip


def test_a_shop_that_redeemed_nothing_gets_no_statement_and_zero_is_never_paid(shops):
    assert sorted(s.merchant.name for s in shops["statements"]) == ["红星理发店", "老王肉菜店"]
    # a statement built by hand for the quiet shop owes nothing and records no payment
    empty = merchants.build_statement(shops["quiet"], merchants.previous_month(utcnow()))
    with pytest.raises(DomainError) as error, db.session.begin_nested():
        merchants.mark_statement_paid(empty.id, actor=shops["organizer"], reference="凭证 001")
    assert error.value.code == "statement_nothing_owed"
    assert empty.status == "open"


def test_an_open_statement_shows_the_ledger_as_of_now(app, shops, client, login):
    statement = shops["statements"][0]
    redeemed_last_month(statement.merchant, shops["customer"], day=9)
    db.session.commit()
    assert statement.points_net == 10  # stored when built
    login(shops["organizer"])
    page = client.get(f"/statements/{statement.id}").get_data(as_text=True)
    assert 'id="points-owed">20<' in page and "按账本截至" in page
    settlement = client.get(f"/units/{shops['unit']}/settlement").get_data(as_text=True)
    assert 'id="as-of"' in settlement and "¥" in settlement
    csv = client.get(f"/statements/{statement.id}.csv").get_data(as_text=True)
    assert ",20," in csv


def test_the_dashboard_counts_as_the_month_s_statement_does(shops):
    merchant = shops["shops"][0]
    customer = shops["customer"]
    offer = create_offer(merchant, title="理发券")
    held = merchants.redeem(
        code=merchants.current_redeem_code(customer.id).token, offer_id=offer.id,
        idempotency_key="dash", staff=merchant.owner,
    ).redemption  # fmt: skip
    merchants.confirm_redemption(held.id, staff=merchant.owner)
    merchants.refund_redemption(held.id, staff=merchant.owner, reason="顾客退货")
    month = merchants.merchant_summary(merchant.id).month
    figures = merchants.statement_figures(merchant.id, merchants.current_month(utcnow()))
    assert (month.count, month.refunds, month.points) == (
        figures.redemptions, figures.refunds, figures.points_net
    ) == (1, 1, 0)  # fmt: skip
    # the shop's own decisions are on the audit trail
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.target == f"redemption:{held.id}")
    ).all()
    assert sorted(actions) == ["redemption.confirm", "redemption.refund"]
    refund = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "redemption.refund")
    )
    assert refund.actor_id == merchant.owner_id and refund.detail == "顾客退货"
    assert json.loads(refund.after)["points"] == offer.points_cost


def test_several_statements_are_paid_at_once_or_none_is(app, shops, client, login, district):
    ids = [s.id for s in shops["statements"]]
    login(shops["organizer"])
    month = f"{merchants.previous_month(utcnow()):%Y-%m}"
    # one of B's among them: nothing is paid
    b_shop = create_merchant(district["b"], name="古浪路药店")
    redeemed_last_month(b_shop, shops["customer"])
    other = merchants.build_statement(b_shop, merchants.previous_month(utcnow()))
    db.session.commit()
    refused = client.post(
        f"/units/{shops['unit']}/settlement/pay?month={month}",
        data={"statement_ids": [*map(str, ids), str(other.id)], "reference": "转账 0042"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "不存在" in refused
    db.session.expire_all()
    assert [s.status for s in shops["statements"]] == ["open", "open"]
    done = client.post(
        f"/units/{shops['unit']}/settlement/pay?month={month}",
        data={"statement_ids": [str(i) for i in ids], "reference": "转账 0042"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "2 张结算单已支付：¥" in done
    db.session.expire_all()
    assert {(s.status, s.payment_reference) for s in shops["statements"]} == {("paid", "转账 0042")}


def test_a_statement_prints_with_lines_to_sign(shops, client, login):
    statement = shops["statements"][0]
    login(statement.merchant.owner)
    page = client.get(f"/statements/{statement.id}/print").get_data(as_text=True)
    assert 'id="signatures"' in page and "商户（签字盖章）" in page and "社区（签字盖章）" in page
    assert statement.merchant.name in page and 'id="print-points">10<' in page
