"""Phones and names are masked in lists for people who do not need them: merchant staff
at the counter, a shop's staff list, fellow volunteers on a project's roster; organizers
and admins who manage the member (and the member themself) see them whole."""

from __future__ import annotations

import pytest

from tests import factories
from tests.merchants_factories import code_of, create_merchant, create_offer, fund, key, make_staff
from tests.projects_factories import create_project
from timebank.core.privacy import mask_name, mask_phone
from timebank.extensions import db
from timebank.projects import operations as projects


@pytest.mark.parametrize(
    "phone, masked",
    [("13900000001", "139****0001"), ("+8613900000001", "+86****0001"), ("0931", "**31"), ("", "")],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    "name, masked",
    [("张三", "张*"), ("王秀英", "王**"), ("李", "李*"), (" Alice ", "A****"), ("", "")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.fixture
def shop(district, make_member):
    organizer = make_member(district["a"], roles=("organizer",))
    owner = make_member(district["building_a"], name="王建国")
    customer = make_member(district["building_a"], name="张三丰", phone="13900000001")
    merchant = create_merchant(district["a"], owner=owner, organizer=organizer)
    offer = create_offer(merchant)
    fund(customer, 50)
    db.session.commit()
    return {
        "organizer": organizer,
        "owner": owner,
        "customer": customer,
        "merchant": merchant,
        "offer": offer,
    }


def test_counter_sees_a_masked_customer(client, shop, token_for, login):
    body = {
        "code": code_of(shop["customer"]),
        "offer_id": shop["offer"].id,
        "idempotency_key": key(),
    }
    held = client.post("/api/v1/redemptions", json=body, headers=token_for(shop["owner"]))
    assert held.status_code == 201, held.get_data(as_text=True)
    assert held.get_json()["member_name"] == "张**"
    listed = client.get(
        f"/api/v1/merchants/{shop['merchant'].id}/redemptions", headers=token_for(shop["owner"])
    )
    if listed.status_code == 200:
        assert {r["member_name"] for r in listed.get_json()} == {"张**"}
    mine = client.get("/api/v1/me/redemptions", headers=token_for(shop["customer"])).get_json()
    assert mine[0]["member_name"] == "张三丰"  # one's own name, whole

    login(shop["owner"])
    counter = client.get(f"/merchants/{shop['merchant'].id}/counter").get_data(as_text=True)
    assert "张**" in counter and "张三丰" not in counter


def test_a_shops_staff_list_masks_phones_for_the_owner(client, shop, token_for, make_member):
    clerk = make_member(shop["customer"].home_unit, name="店员", phone="13900000099")
    make_staff(shop["merchant"], clerk)
    db.session.commit()
    url = f"/api/v1/merchants/{shop['merchant'].id}/staff"
    by_owner = client.get(url, headers=token_for(shop["owner"])).get_json()
    assert "139****0099" in {s["phone"] for s in by_owner}
    assert "13900000099" not in {s["phone"] for s in by_owner}
    by_organizer = client.get(url, headers=token_for(shop["organizer"])).get_json()
    assert "13900000099" in {s["phone"] for s in by_organizer}


def test_fellow_volunteers_see_masked_names_on_a_project(
    client, district, make_member, token_for, login
):
    organizer = make_member(district["a"], roles=("organizer",))
    first = make_member(district["building_a"], name="张三丰")
    second = make_member(district["building_a"], name="李四")
    project = create_project(district["a"], organizer=organizer)
    projects.claim_place(
        project, first, now=project.starts_at.replace(day=project.starts_at.day - 1)
    )
    db.session.commit()
    url = f"/api/v1/projects/{project.id}/claims"
    assert [c["member_name"] for c in client.get(url, headers=token_for(second)).get_json()] == [
        "张**"
    ]
    assert [c["member_name"] for c in client.get(url, headers=token_for(organizer)).get_json()] == [
        "张三丰"
    ]
    assert [c["member_name"] for c in client.get(url, headers=token_for(first)).get_json()] == [
        "张三丰"
    ]

    login(second)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "张**" in page and "张三丰" not in page
    client.post("/logout")
    login(organizer)
    assert "张三丰" in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_organizers_see_whole_phones_in_their_members_list(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    make_member(district["building_a"], name="张三丰", phone="13900000001")
    login(organizer)
    page = client.get(f"/units/{district['a'].id}/members").get_data(as_text=True)
    assert "13900000001" in page
    assert factories.PASSWORD not in page
