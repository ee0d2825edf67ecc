"""The holes an attacker found (issue 12), each with the test that now guards it."""

from __future__ import annotations

from timebank.extensions import db
from timebank.people import operations as people


def _award(client, headers, member_id, key):
    body = {
        "kind": "award",
        "member_id": member_id,
        "amount": 60,
        "idempotency_key": key,
        "memo": "防汛值守",
    }
    response = client.post("/api/v1/transfers", json=body, headers=headers)
    assert response.status_code == 202, response.json
    return response.json["pending_credit"]["id"]


def test_nobody_approves_a_credit_that_pays_them_or_their_ward(
    client, district, make_member, token_for
):
    asker = make_member(district["a"], roles=("organizer",))
    beneficiary = make_member(district["a"], roles=("organizer",))
    guardian = make_member(district["a"], roles=("organizer",))
    ward = make_member(district["building_a"], password=None)
    people.add_guardian(ward, guardian, relation="女儿", actor=None)
    third = make_member(district["a"], roles=("organizer",))
    db.session.commit()

    to_beneficiary = _award(client, token_for(asker), beneficiary.id, "b-1")
    own = client.post(
        f"/api/v1/pending-credits/{to_beneficiary}/approve", headers=token_for(beneficiary)
    )
    assert own.status_code == 403 and own.json["code"] == "four_eyes"
    to_ward = _award(client, token_for(asker), ward.id, "w-1")
    by_guardian = client.post(
        f"/api/v1/pending-credits/{to_ward}/approve", headers=token_for(guardian)
    )
    assert by_guardian.status_code == 403 and by_guardian.json["code"] == "four_eyes"
    balance = client.get("/api/v1/me/balances", headers=token_for(beneficiary)).json
    assert balance["HOURS"] == 0
    for pending in (to_beneficiary, to_ward):
        done = client.post(f"/api/v1/pending-credits/{pending}/approve", headers=token_for(third))
        assert done.status_code == 200 and done.json["status"] == "approved"
    assert client.get("/api/v1/me/balances", headers=token_for(beneficiary)).json["HOURS"] == 60
