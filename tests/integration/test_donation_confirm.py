"""Giving hours asks first (issue 21, finding 5): the first tap shows the recipient's name
and phone, masked as the house masks them, so a mistyped phone is caught before anything
moves; the second gives the hours. The donor's note is on both sides' statement lines."""

import re

from tests.merchants_factories import fund
from timebank.extensions import db
from timebank.ledger import operations as ledger


def text(response) -> str:
    return response.get_data(as_text=True)


def key_of(page: str) -> str:
    return re.search(r'id="key" name="key" type="hidden" value="(\w+)"', page).group(1)


def test_the_first_tap_shows_the_masked_recipient_and_gives_nothing(
    client, district, make_member, login
):
    alice = make_member(district["building_a"], name="李美华")
    mother = make_member(district["building_b"], name="张桂兰", phone="13811112222")
    fund(alice, 0, minutes=180)
    db.session.commit()
    login(alice)
    key = key_of(text(client.get("/me/donate")))
    asked = {"to": "member", "phone": mother.phone, "hours": "1", "minutes": "30", "key": key,
             "memo": "给妈妈买菜"}  # fmt: skip
    shown = text(client.post("/me/donate", data=asked))
    assert "捐赠前请核对" in shown
    assert "把 1小时30分钟 捐给 张**（138****2222）？" in shown
    assert "张桂兰" not in shown and "13811112222" not in shown.split('name="phone"')[0]
    assert "您的留言：给妈妈买菜" in shown
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 0
    # "change" brings back the filled form, still nothing given
    back = text(client.post("/me/donate", data={**asked, "change": "yes"}))
    assert 'id="donate-form"' in back and 'value="13811112222"' in back
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 0
    given = client.post("/me/donate", data={**asked, "confirmed": "yes"})
    assert given.status_code == 302
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 90
    # a double tap on "yes" replays the same key: given once
    client.post("/me/donate", data={**asked, "confirmed": "yes"})
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 90
    # the note on both sides
    mine = text(client.get("/me/statement"))
    assert "捐给 张桂兰（留言：给妈妈买菜）" in mine
    client.post("/logout")
    login(mother)
    theirs = text(client.get("/me/statement"))
    assert "（留言：给妈妈买菜）" in theirs and "李美华" in theirs
    client.post("/lang/en")
    assert "(note: 给妈妈买菜)" in text(client.get("/me/statement"))


def test_the_first_tap_says_what_is_wrong_before_asking(client, district, make_member, login):
    alice = make_member(district["building_a"])
    fund(alice, 0, minutes=60)
    db.session.commit()
    login(alice)
    nobody = text(
        client.post("/me/donate", data={"to": "member", "phone": "13900000000", "hours": "1"})
    )
    assert "donate-confirm" not in nobody and "没有" in nobody
    too_much = text(
        client.post("/me/donate", data={"to": "member", "phone": alice.phone, "hours": "5"})
    )
    assert "donate-confirm" not in too_much
    more = make_member(district["building_a"], name="赵六")
    db.session.commit()
    too_much = client.post("/me/donate", data={"to": "member", "phone": more.phone, "hours": "5"})
    assert too_much.status_code in (200, 409) and "donate-confirm" not in text(too_much)
    assert "您没有这么多时长可以捐赠。" in text(too_much)


def test_a_pool_is_named_before_giving(client, district, make_member, login):
    alice = make_member(district["building_a"])
    fund(alice, 0, minutes=60)
    db.session.commit()
    login(alice)
    asked = {"to": "pool", "pool_unit_id": str(district["a"].id), "minutes": "30"}
    shown = text(client.post("/me/donate", data=asked))
    assert "把 30分钟 捐入 上坎社区 互助池？" in shown
    client.post("/lang/en")
    shown = text(client.post("/me/donate", data=asked))
    assert "Give 30 min to the community pool of 上坎社区?" in shown
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 60


def test_the_api_previews_the_same_way_and_gives_nothing(district, make_member, client, token_for):
    alice = make_member(district["building_a"])
    mother = make_member(district["building_b"], name="张桂兰", phone="13811112222")
    fund(alice, 0, minutes=60)
    db.session.commit()
    headers = token_for(alice)
    url = "/api/v1/me/donations/preview"
    by_phone = client.post(
        url, json={"amount": 30, "recipient_phone": "13811112222"}, headers=headers
    )
    assert by_phone.status_code == 200, by_phone.json
    assert by_phone.json["recipient_name"] == "张**"
    assert by_phone.json["recipient_phone"] == "138****2222"
    assert by_phone.json["recipient_id"] == mother.id and by_phone.json["minutes"] == 30
    by_id = client.post(url, json={"amount": 30, "recipient_id": mother.id}, headers=headers)
    assert by_id.json["recipient_name"] == "张**"
    pool = client.post(url, json={"amount": 30, "pool_unit_id": district["a"].id}, headers=headers)
    assert pool.json["pool_name"] == "上坎社区"
    nobody = client.post(
        url, json={"amount": 30, "recipient_phone": "13900000000"}, headers=headers
    )
    assert nobody.status_code == 422 and "phone" in nobody.json["errors"]
    too_much = client.post(url, json={"amount": 90, "recipient_id": mother.id}, headers=headers)
    assert too_much.status_code == 409 and too_much.json["code"] == "insufficient_balance"
    both = client.post(
        url, json={"amount": 1, "recipient_id": mother.id, "pool_unit_id": district["a"].id},
        headers=headers,
    )  # fmt: skip
    assert both.status_code == 422
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 0
