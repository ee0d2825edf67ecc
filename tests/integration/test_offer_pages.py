"""Offers on the pages (issue 21, finding 10): sold out said alike to members, at the
counter and to organizers; the last valid day as entered; each withdrawal named for what
it takes back; an offer changed from its own page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests import factories
from tests.activities_factories import create_activity
from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants import operations as merchants
from timebank.projects import operations as projects
from timebank.reports import periods

CATALOG = (
    Path(__file__).resolve().parents[2] / "timebank/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
)


@pytest.fixture
def shop(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    merchant = create_merchant(district["a"], organizer=organizer, name="上坎老王肉菜店")
    member = factories.create_member(district["building_a"], name="王秀英")
    fund(member, 100)
    offer = create_offer(merchant, title="满30元减5元", stock=1)
    db.session.commit()
    return {"organizer": organizer, "owner": merchant.owner, "member": member,
            "merchant": merchant, "offer": offer, "unit": district["a"].id}  # fmt: skip


def _page(app, member, path) -> str:
    client = app.test_client()
    login = {"phone": member.phone, "password": factories.PASSWORD}
    assert client.post("/login", data=login).status_code == 302
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_sold_out_offer_is_said_so_everywhere(app, shop):
    offer, merchant = shop["offer"], shop["merchant"]
    counter = _page(app, shop["owner"], f"/merchants/{merchant.id}/counter")
    assert f'id="left-{offer.id}">剩 1 份<' in counter
    merchants.confirm_redemption(
        merchants.redeem(
            code=merchants.current_redeem_code(shop["member"].id).token, offer_id=offer.id,
            idempotency_key="sold-out", staff=shop["owner"],
        ).redemption.id,
        staff=shop["owner"],
    )  # fmt: skip
    db.session.commit()
    counter = _page(app, shop["owner"], f"/merchants/{merchant.id}/counter")
    assert f'id="offer-{offer.id}" disabled data-sold-out="yes"' in counter
    assert f'id="left-{offer.id}">已兑完<' in counter
    mine = _page(app, shop["member"], "/offers")
    assert 'data-sold-out="yes"' in mine and "已兑完" in mine
    assert f'data-offer-id="{offer.id}" data-affordable="no"' in mine
    for who, path in (("owner", f"/merchants/{merchant.id}"), ("organizer",
                      f"/units/{shop['unit']}/offers")):  # fmt: skip
        assert 'data-sold-out="yes"' in _page(app, shop[who], path), path


def test_the_last_valid_day_shows_as_entered(app, shop, client, login):
    login(shop["owner"])
    # dates around the deployment's today, well apart from the fixture's own offer
    today = periods.local_date(utcnow())
    first, last = (today - timedelta(days=6)).isoformat(), today + timedelta(days=75)
    response = client.post(
        f"/merchants/{shop['merchant'].id}/offers",
        data={"title": "理发立减10元", "points_cost": "20", "benefit": "discount",
              "discount_yuan": "10", "valid_from": first, "valid_until": last.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    dashboard = client.get(f"/merchants/{shop['merchant'].id}").get_data(as_text=True)
    assert f"{first} – {last.isoformat()}" in dashboard
    assert (last + timedelta(days=1)).isoformat() not in dashboard
    assert last.isoformat() in _page(app, shop["organizer"], f"/units/{shop['unit']}/offers")
    assert f"有效期至 {last.isoformat()}" in _page(app, shop["member"], "/offers")


def test_each_withdrawal_is_named_for_what_it_takes_back(app, shop, district):
    activity = create_activity(district["a"], organizer=shop["organizer"],
                               starts_at=utcnow() + timedelta(days=1))  # fmt: skip
    activities.sign_up(activity, shop["member"])
    projects.offer_resource(actor=shop["member"], title="闲置轮椅", category="medical")
    db.session.commit()
    assert ">取消报名<" in _page(app, shop["member"], f"/activities/{activity.id}")
    assert ">撤下资源<" in _page(app, shop["member"], "/resources")
    assert ">下架<" in _page(app, shop["owner"], f"/merchants/{shop['merchant'].id}")
    assert ">下架<" in _page(app, shop["organizer"], f"/units/{shop['unit']}/offers")


def test_取消报名_is_only_ever_a_sign_up():
    """The class of the finding: one Chinese word for a sign-up, never for an offer or a
    resource (a msgid shared by several kinds of thing)."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    places = [
        (message.id, path)
        for message in catalog
        if message.id and "取消报名" in (message.string or "")
        for path, _line in message.locations
    ]
    assert places
    assert all(
        "activit" in path or "reminder" in path or "inbox" in path for _id, path in places
    ), places


def test_an_offer_is_changed_from_its_page_and_what_it_gives_is_kept_once_redeemed(
    app, shop, client, login
):
    offer = shop["offer"]
    login(shop["owner"])
    page = client.get(f"/offers/{offer.id}/edit").get_data(as_text=True)
    assert 'value="满30元减5元"' in page and 'id="offer-fixed"' not in page
    form = {"title": "满30元减6元", "points_cost": "10", "benefit": "discount",
            "discount_yuan": "6", "valid_from": "", "valid_until": "", "stock": "3"}  # fmt: skip
    dates = {
        "valid_from": offer.valid_from.astimezone(merchants.local_zone()).date().isoformat(),
        "valid_until": (offer.valid_until - timedelta(seconds=1))
        .astimezone(merchants.local_zone())
        .date()
        .isoformat(),
    }
    response = client.post(f"/offers/{offer.id}/edit", data={**form, **dates})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert (offer.title, offer.discount_fen, offer.stock) == ("满30元减6元", 600, 3)
    # its start moment did not move: an untouched day is not a change
    merchants.redeem(
        code=merchants.current_redeem_code(shop["member"].id).token, offer_id=offer.id,
        idempotency_key="edit", staff=shop["owner"],
    )  # fmt: skip
    db.session.commit()
    page = client.get(f"/offers/{offer.id}/edit").get_data(as_text=True)
    assert 'id="offer-fixed"' in page and 'disabled id="title"' in page.replace(
        'id="title" disabled', 'disabled id="title"'
    )
    # what it gives stays; the stock still changes
    response = client.post(f"/offers/{offer.id}/edit",
                           data={**form, **dates, "title": "改名", "stock": "8"})  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert (offer.title, offer.stock) == ("满30元减6元", 8)


def test_the_api_changes_an_offer_and_says_why_not(app, shop, client, token_for):
    offer, headers = shop["offer"], token_for(shop["owner"])
    response = client.patch(f"/api/v1/offers/{offer.id}", json={"stock": 5}, headers=headers)
    assert response.status_code == 200 and response.json["stock"] == 5
    assert response.json["discount_fen"] == 500  # what was not sent stays
    merchants.redeem(
        code=merchants.current_redeem_code(shop["member"].id).token, offer_id=offer.id,
        idempotency_key="api", staff=shop["owner"],
    )  # fmt: skip
    db.session.commit()
    response = client.patch(f"/api/v1/offers/{offer.id}", json={"points_cost": 3}, headers=headers)
    assert response.status_code == 409 and response.json["code"] == "offer_redeemed"
    assert response.json["errors"] == {"points_cost": ["Fixed once redeemed."]}
