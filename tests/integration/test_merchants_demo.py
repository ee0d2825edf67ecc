"""The demo's merchants: every merchant page shows something on the first visit, the
history adds up in the ledger, and loading twice changes nothing."""

import re

import pytest
import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.demo import DEMO_PASSWORD
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.merchants.demo import STAFF_PHONES
from timebank.merchants.models import Merchant, Redemption, Statement
from timebank.people import operations as people

pytestmark = pytest.mark.demo  # the demo `make run` loads on SQLite


def test_demo_merchants_show_on_every_page(app, client):
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["demo", "--members", "40"])
    assert loaded.exit_code == 0, loaded.output
    assert "Demo merchants: 9 shops" in loaded.output and STAFF_PHONES[0] in loaded.output
    shops = db.session.scalars(sa.select(Merchant).order_by(Merchant.id)).all()
    assert [s.status for s in shops].count("approved") == 9
    # 幸福便利超市, and 上坎早点铺 on the organizer's to-do list
    assert [s.status for s in shops].count("pending") == 2
    assert {s.category for s in shops} >= {"grocery", "barber", "pharmacy"}
    paid = db.session.scalars(sa.select(Statement).where(Statement.status == "paid")).all()
    # two of 上坎社区's last month wait for the organizer: one to pay, one to build
    assert len(paid) == 7 and sum(s.points_net for s in paid) > 0
    assert ledger.verify_ledger().ok
    # the statements agree with the ledger; what was not settled is the shops' balance
    for shop in shops[:9]:
        for statement in merchants.merchant_statements(shop.id):
            figures = merchants.statement_figures(shop.id, statement.period_start)
            assert figures.points_net == statement.points_net
        open_ = sum(
            s.points_net for s in merchants.merchant_statements(shop.id) if s.status == "open"
        )
        last = merchants.previous_month(utcnow())
        unbuilt = 0
        if last not in {s.period_start for s in merchants.merchant_statements(shop.id)}:
            unbuilt = merchants.statement_figures(shop.id, last).points_net
        assert merchants.merchant_balance(shop.id) == open_ + unbuilt
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption)) > 20

    shop = shops[0]
    owner = people.find_member_by_phone(STAFF_PHONES[0])
    assert owner.id == shop.owner_id
    client.post("/login", data={"phone": owner.phone, "password": DEMO_PASSWORD})
    counter = client.get(f"/merchants/{shop.id}/counter").get_data(as_text=True)
    assert len(re.findall(r"data-redemption-id", counter)) >= 3
    dashboard = client.get(f"/merchants/{shop.id}").get_data(as_text=True)
    assert 'data-status="paid"' in dashboard and 'data-status="open"' in dashboard
    client.post("/logout")
    client.post("/login", data={"phone": "13800000001", "password": DEMO_PASSWORD})
    unit = shop.unit_id
    for url in (f"/units/{unit}/merchants", f"/units/{unit}/offers", f"/units/{unit}/settlement"):
        page = client.get(url).get_data(as_text=True)
        assert shop.name in page, url
    client.post("/logout")
    client.post("/login", data={"phone": "13900000000", "password": DEMO_PASSWORD})
    offers = client.get("/offers").get_data(as_text=True)
    assert 'data-affordable="yes"' in offers
    redeem = client.get("/me/redeem").get_data(as_text=True)
    assert 'data-status="confirmed"' in redeem or 'data-status="refunded"' in redeem

    again = runner.invoke(args=["demo", "--members", "40"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Merchant)) == len(shops)
