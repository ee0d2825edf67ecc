"""Merchants' pages through the test client: the volunteer's offers and redeem code, the
counter (hold, confirm, void, refund), the dashboard, applying, and the organizers'
approval, oversight and settlement pages with their exports, in Chinese and English."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants


@pytest.fixture
def shop(district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    owner = factories.create_member(district["building_a"], name="王建国")
    merchant = create_merchant(
        district["a"], owner=owner, organizer=organizer, name="上坎老王肉菜店"
    )
    offer = create_offer(merchant, title="满30元减5元", points_cost=10)
    member = factories.create_member(district["building_a"], name="王秀英")
    fund(member, 25)
    db.session.commit()
    return {
        "merchant": merchant,
        "offer": offer,
        "owner": owner,
        "member": member,
        "organizer": organizer,
    }


def text(response) -> str:
    return response.get_data(as_text=True)


def test_volunteer_sees_offers_and_the_redeem_code(client, login, shop):
    login(shop["member"])
    offers = text(client.get("/offers"))
    assert "满30元减5元" in offers and "上坎老王肉菜店" in offers and "¥5.00" in offers
    assert 'data-affordable="yes"' in offers
    page = client.get("/me/redeem")
    body = text(page)
    assert page.status_code == 200 and "<svg" in body
    short = re.search(r'id="redeem-short">([\d-]+)<', body).group(1)
    assert short.startswith(f"{shop['member'].id}-")
    assert "只能使用一次" in body or "works once" in body
    state = client.get("/me/redeem/state.json").json["state"]
    assert state == "|-"
    client.post("/lang/en")
    assert "Show this code" in text(client.get("/me/redeem"))


def counter_form(client, merchant_id) -> dict:
    page = text(client.get(f"/merchants/{merchant_id}/counter"))
    key = re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page)
    key = key or re.search(
        r'id="idempotency_key" name="idempotency_key" type="hidden" value="(\w+)"', page
    )
    return {"idempotency_key": key.group(1)}


def test_the_counter_holds_confirms_and_refunds(client, login, shop):
    merchant, member = shop["merchant"], shop["member"]
    code = merchants.current_redeem_code(member.id).short_code
    login(shop["owner"])
    page = client.get(f"/merchants/{merchant.id}/counter")
    assert page.status_code == 200 and "满30元减5元" in text(page)
    data = {**counter_form(client, merchant.id), "code": code, "offer_id": shop["offer"].id}
    held = client.post(f"/merchants/{merchant.id}/counter", data=data, follow_redirects=True)
    body = text(held)
    # the counter sees the customer's name masked (core/privacy.py)
    assert "王**" in body and "王秀英" not in body and "confirm-" in body
    redemption = merchants.member_redemptions(member.id)[0]
    assert redemption.status == "held"
    # a double tap sends the same key: the same redemption, not a second one
    client.post(f"/merchants/{merchant.id}/counter", data=data)
    assert len(merchants.member_redemptions(member.id)) == 1
    confirmed = client.post(f"/redemptions/{redemption.id}/confirm", follow_redirects=True)
    assert "确认" in text(confirmed) or "Confirmed" in text(confirmed)
    assert ledger.balances(member.id)["POINTS"]["balance"] == 15
    assert 'id="merchant-balance">10<' in text(confirmed)
    refunded = client.post(
        f"/redemptions/{redemption.id}/refund", data={"reason": "顾客退货"}, follow_redirects=True
    )
    assert refunded.status_code == 200
    assert ledger.balances(member.id)["POINTS"]["balance"] == 25


def test_the_counter_says_why_a_code_is_refused(client, login, shop):
    merchant = shop["merchant"]
    login(shop["owner"])
    data = {**counter_form(client, merchant.id), "code": "1-000000", "offer_id": shop["offer"].id}
    page = client.post(f"/merchants/{merchant.id}/counter", data=data, follow_redirects=True)
    assert "不是有效的兑换码" in text(page)
    void_code = merchants.current_redeem_code(shop["member"].id).token
    data = {**counter_form(client, merchant.id), "code": void_code, "offer_id": shop["offer"].id}
    client.post(f"/merchants/{merchant.id}/counter", data=data)
    redemption = merchants.member_redemptions(shop["member"].id)[0]
    client.post(f"/redemptions/{redemption.id}/void")
    db.session.refresh(redemption)
    assert redemption.status == "voided"
    again = {**counter_form(client, merchant.id), "code": void_code, "offer_id": shop["offer"].id}
    page = client.post(f"/merchants/{merchant.id}/counter", data=again, follow_redirects=True)
    assert "已经使用过" in text(page)


def test_staff_of_another_shop_cannot_use_this_counter(client, login, district, shop):
    other = create_merchant(district["a"], name="红星理发店", category="barber")
    held = merchants.redeem(
        code=merchants.current_redeem_code(shop["member"].id).token,
        offer_id=shop["offer"].id,
        idempotency_key="page-1",
        staff=shop["owner"],
    ).redemption
    db.session.commit()
    login(other.owner)
    assert client.get(f"/merchants/{shop['merchant'].id}/counter").status_code == 403
    assert client.get(f"/merchants/{shop['merchant'].id}").status_code == 403
    assert client.post(f"/redemptions/{held.id}/confirm").status_code == 403
    assert client.post(f"/redemptions/{held.id}/refund").status_code == 403
    assert client.get(f"/merchants/{other.id}/counter").status_code == 200


def test_the_dashboard_publishes_offers_and_invites_staff(client, login, district, shop):
    merchant = shop["merchant"]
    login(shop["owner"])
    page = client.get(f"/merchants/{merchant.id}")
    assert page.status_code == 200 and "满30元减5元" in text(page)
    today = utcnow().astimezone(merchants.local_zone()).date()
    published = client.post(
        f"/merchants/{merchant.id}/offers",
        data={
            "title": "免费理发一次",
            "points_cost": 200,
            "benefit": "item",
            "item_name": "理发一次",
            "valid_from": today.isoformat(),
            "valid_until": (today + timedelta(days=30)).isoformat(),
            "min_service_hours": 5,
            "per_member_monthly": 1,
        },
        follow_redirects=True,
    )
    assert "免费理发一次" in text(published)
    offer = [o for o in merchants.merchant_offers(merchant.id) if o.title == "免费理发一次"][0]
    assert (offer.min_service_minutes, offer.per_member_monthly) == (300, 1)
    clerk = factories.create_member(district["building_a"], name="李娟")
    db.session.commit()
    invited = client.post(
        f"/merchants/{merchant.id}/staff", data={"phone": clerk.phone}, follow_redirects=True
    )
    assert "李娟" not in text(invited)  # a phone is not turned into a name
    assert f"{clerk.phone[:3]}****{clerk.phone[-4:]}" in text(invited)
    assert not merchants.list_staff(merchant)[1:]  # staff once they accept
    withdrawn = client.post(f"/offers/{offer.id}/withdraw", follow_redirects=True)
    assert withdrawn.status_code == 200
    db.session.refresh(offer)
    assert offer.status == "withdrawn"


def test_a_shop_applies_and_an_organizer_approves_it_on_pages(client, login, district, shop):
    applicant = factories.create_member(district["building_a"], name="赵大夫")
    db.session.commit()
    login(applicant)
    assert client.get("/merchants/apply").status_code == 200
    applied = client.post(
        "/merchants/apply",
        data={
            "unit_id": district["a"].id,
            "name": "康宁大药房",
            "category": "pharmacy",
            "address": "上坎路8号",
            "opening_hours": "8:00-21:00",
            "contact_name": "赵大夫",
            "contact_phone": "0931-7500001",
        },
        follow_redirects=True,
    )
    assert "康宁大药房" in text(applied) and "待审核" in text(applied)
    client.post("/logout")
    login(shop["organizer"])
    listing = text(client.get(f"/units/{district['a'].id}/merchants"))
    assert "康宁大药房" in listing and "上坎老王肉菜店" in listing
    pharmacy = [m for m in merchants.merchants_in_unit(district["a"].id) if m.name == "康宁大药房"]
    client.post(f"/merchants/{pharmacy[0].id}/approve")
    db.session.refresh(pharmacy[0])
    assert pharmacy[0].status == "approved"
    assert "满30元减5元" in text(client.get(f"/units/{district['a'].id}/offers"))


def test_settlement_pages_build_pay_and_export(client, login, district, shop):
    redemption = merchants.redeem(
        code=merchants.current_redeem_code(shop["member"].id).token,
        offer_id=shop["offer"].id,
        idempotency_key="page-2",
        staff=shop["owner"],
    ).redemption
    merchants.confirm_redemption(redemption.id, staff=shop["owner"])
    db.session.commit()
    login(shop["organizer"])
    month = f"{merchants.current_month(utcnow()):%Y-%m}"
    unit = district["a"].id
    empty = text(client.get(f"/units/{unit}/settlement?month={month}"))
    assert "从账本生成" in empty
    client.post(f"/units/{unit}/settlement?month={month}")
    page = text(client.get(f"/units/{unit}/settlement?month={month}"))
    assert "上坎老王肉菜店" in page and "¥1.00" in page
    statement = merchants.unit_statements(unit, merchants.parse_month(month))[0]
    detail = text(client.get(f"/statements/{statement.id}"))
    assert "王秀英" in detail
    csv = client.get(f"/statements/{statement.id}.csv")
    assert csv.mimetype == "text/csv" and "王秀英" in csv.get_data().decode("utf-8-sig")
    xlsx = client.get(f"/units/{unit}/settlement.xlsx?month={month}")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.cell(row=2, column=2).value == "上坎老王肉菜店"
    # the month has not ended: it cannot be paid yet
    refused = client.post(f"/statements/{statement.id}/pay", follow_redirects=True)
    assert "尚未结束" in text(refused)
    client.post("/logout")
    login(shop["owner"])  # the owner reads the shop's statements, but does not settle
    assert client.get(f"/statements/{statement.id}").status_code == 200
    assert client.post(f"/statements/{statement.id}/pay").status_code == 403
    assert client.get(f"/units/{unit}/settlement").status_code == 403


def test_a_guardian_shows_the_ward_s_code_on_the_page(client, login, district, shop):
    from timebank.people import operations as people

    ward = factories.create_member(district["building_a"], name="独居老人", password=None)
    guardian = factories.create_member(district["building_a"], name="邻居小张")
    people.add_guardian(ward, guardian, relation="邻居", actor=None)
    fund(ward, 12)
    db.session.commit()
    login(guardian)
    page = text(client.get(f"/me/redeem?for={ward.id}"))
    assert "独居老人" in page and f'id="redeem-short">{ward.id}-' in page
    assert f"/me/redeem/state.json?for={ward.id}" in page
    offers = text(client.get(f"/offers?for={ward.id}"))
    assert 'id="points-available">12<' in offers
    stranger = factories.create_member(district["building_a"])
    db.session.commit()
    client.post("/logout")
    login(stranger)
    assert client.get(f"/me/redeem?for={ward.id}").status_code == 403


def test_the_owner_edits_the_shop_s_details(client, login, district, shop):
    merchant = shop["merchant"]
    login(shop["owner"])
    form = client.get(f"/merchants/{merchant.id}/edit")
    assert form.status_code == 200 and "上坎老王肉菜店" in text(form)
    saved = client.post(
        f"/merchants/{merchant.id}/edit",
        data={
            "name": "上坎老王肉菜店",
            "category": "grocery",
            "address": "上坎路菜市场12号摊位",
            "opening_hours": "每天 6:30-20:00",
            "contact_name": "王建国",
            "contact_phone": "13912345678",
            "lat": "36.0931",
            "lng": "103.6322",
        },
        follow_redirects=True,
    )
    assert "6:30-20:00" in text(saved)
    db.session.refresh(merchant)
    assert (merchant.lat, merchant.contact_phone) == (36.0931, "13912345678")
    bad = client.post(
        f"/merchants/{merchant.id}/edit",
        data={
            "name": "",
            "category": "grocery",
            "address": "x",
            "contact_name": "王",
            "contact_phone": "1",
        },
    )
    assert bad.status_code == 200 and 'id="edit-form"' in text(bad)
    client.post("/logout")
    login(shop["member"])
    assert client.get(f"/merchants/{merchant.id}/edit").status_code == 403


def test_the_home_page_links_a_guardian_to_the_ward_s_code(client, login, district):
    from timebank.people import operations as people

    ward = factories.create_member(district["building_a"], name="独居老人", password=None)
    guardian = factories.create_member(district["building_a"])
    people.add_guardian(ward, guardian, relation="女儿", actor=None)
    db.session.commit()
    login(guardian)
    home = text(client.get("/"))
    assert f"/me/redeem?for={ward.id}" in home and 'id="redeem-link"' in home
