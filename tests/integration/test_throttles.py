"""Throttles on what can be guessed or scripted: check-in submissions per member, redeem
codes shown per member, and wrong redeem codes tried per member of a shop's staff. Each
refusal is a 429 problem+json with Retry-After, and counts one person only."""

from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.extensions import db


def test_check_in_submissions_are_limited_per_member(client, district, make_member, token_for):
    scripted = token_for(make_member(district["building_a"], name="刷签到"))
    bystander = token_for(make_member(district["building_a"], name="李桂兰"))
    # a garbled code is refused (400) but still counts: a script guessing kiosk codes
    answers = [
        client.post("/api/v1/checkins", headers=scripted, json={"token": "1.2.abc"}).status_code
        for _ in range(21)
    ]
    assert answers == [400] * 20 + [429]
    refused = client.post("/api/v1/checkins", headers=scripted, json={"token": "1.2.abc"})
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert refused.json["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    other = client.post("/api/v1/checkins", headers=bystander, json={"token": "1.2.abc"})
    assert other.status_code == 400 and other.json["code"] == "token_invalid"


def test_wrong_redeem_codes_at_a_counter_are_limited(client, district, make_member, token_for):
    owner = make_member(district["building_a"], name="王建国")
    member = make_member(district["building_a"], name="王秀英")
    fund(member, 25)
    shop = create_merchant(district["a"], owner=owner)
    offer = create_offer(shop, points_cost=10)
    db.session.commit()
    staff, phone = token_for(owner), token_for(member)

    def hold(code: str, key: str):
        body = {"code": code, "offer_id": offer.id, "idempotency_key": key}
        return client.post("/api/v1/redemptions", headers=staff, json=body)

    wrong = [hold(f"{member.id}-{n:06d}", f"guess-{n}") for n in range(10)]
    assert [r.json["code"] for r in wrong] == ["redeem_code_invalid"] * 10
    right = client.get("/api/v1/me/redeem-code", headers=phone).json["short_code"]
    blocked = hold(right, "real-1")
    assert blocked.status_code == 429 and blocked.json["code"] == "rate_limited"
    assert int(blocked.headers["Retry-After"]) > 60
    # nothing was held while the counter was blocked
    assert client.get("/api/v1/me/balances", headers=phone).json["available"]["POINTS"] == 25


def test_a_valid_code_is_not_a_guess(client, district, make_member, token_for):
    owner = make_member(district["building_a"], name="王建国")
    shop = create_merchant(district["a"], owner=owner)
    offer = create_offer(shop, points_cost=1)
    members = [make_member(district["building_a"], name=f"顾客{n}") for n in range(12)]
    for member in members:
        fund(member, 5)
    db.session.commit()
    staff = token_for(owner)
    for n, member in enumerate(members):
        code = client.get("/api/v1/me/redeem-code", headers=token_for(member)).json
        body = {"code": code["short_code"], "offer_id": offer.id, "idempotency_key": f"k{n}"}
        held = client.post("/api/v1/redemptions", headers=staff, json=body)
        assert held.status_code == 201, held.json


def test_redeem_codes_shown_are_limited_per_member(client, district, make_member, token_for):
    phone = token_for(make_member(district["building_a"], name="王秀英"))
    other = token_for(make_member(district["building_a"], name="李桂兰"))
    answers = [client.get("/api/v1/me/redeem-code", headers=phone).status_code for _ in range(21)]
    assert answers == [200] * 20 + [429]
    assert client.get("/api/v1/me/redeem-code", headers=other).status_code == 200
