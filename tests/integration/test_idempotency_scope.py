"""Idempotency keys belong to their caller (issue 12, smaller holes): another member's first
use of a key is their own new request, never a 409; a key does one thing for its caller."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from tests.merchants_factories import code_of, create_merchant, create_offer, fund
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import PendingCredit, Transfer
from timebank.merchants.models import Redemption


def _earn_hours(member, unit, minutes=120, n=1):
    ledger.credit_from_evidence(
        member_id=member.id, member_unit_id=member.home_unit_id, unit_id=unit.id,
        minutes=minutes, points=0, code="earn_checkin", reference_type="attendance",
        reference_id=str(n), idempotency_key=f"attendance:{n}", actor_id=None,
    )  # fmt: skip
    db.session.commit()


def _donate(client, headers, key, amount=5, **target):
    body = {"kind": "donate", "amount": amount, "idempotency_key": key, **target}
    return client.post("/api/v1/transfers", json=body, headers=headers)


def test_two_members_may_use_the_same_key_each_for_their_own_transfer(
    client, district, make_member, token_for
):
    alice = make_member(district["building_a"])
    bob = make_member(district["building_a"])
    _earn_hours(alice, district["a"], n=1)
    _earn_hours(bob, district["a"], n=2)
    pool = {"pool_unit_id": district["a"].id}
    first = _donate(client, token_for(alice), "gift-1", **pool)
    assert first.status_code == 201, first.json
    # bob's first use of the same key is bob's own donation (409 before keys were scoped)
    other = _donate(client, token_for(bob), "gift-1", amount=7, **pool)
    assert other.status_code == 201, other.json
    assert other.json["transfers"][0]["id"] != first.json["transfers"][0]["id"]
    # each caller's replay answers their own original; a changed body is a conflict
    again = _donate(client, token_for(alice), "gift-1", **pool)
    assert again.status_code == 200
    assert again.json["transfers"][0]["id"] == first.json["transfers"][0]["id"]
    bob_again = _donate(client, token_for(bob), "gift-1", amount=7, **pool)
    assert bob_again.json["transfers"][0]["id"] == other.json["transfers"][0]["id"]
    changed = _donate(client, token_for(alice), "gift-1", amount=6, **pool)
    assert changed.status_code == 409 and changed.json["code"] == "idempotency_conflict"
    keys = db.session.scalars(
        sa.select(Transfer.idempotency_key).where(Transfer.code == "donate").order_by(Transfer.id)
    ).all()
    assert keys == [f"api:{alice.id}:gift-1", f"api:{bob.id}:gift-1"]
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 115
    assert ledger.balances(bob.id)["HOURS"]["balance"] == 113


def test_two_organizers_may_award_under_the_same_key(client, district, make_member, token_for):
    alice = make_member(district["building_a"])
    first = make_member(district["a"], roles=("organizer",))
    second = make_member(district["a"], roles=("organizer",))
    body = {
        "kind": "award", "ledger": "POINTS", "amount": 20, "member_id": alice.id,
        "memo": "防汛值守", "idempotency_key": "award-1",
    }  # fmt: skip
    asked = [
        client.post("/api/v1/transfers", json=body, headers=token_for(o)) for o in (first, second)
    ]
    assert [a.status_code for a in asked] == [202, 202], [a.json for a in asked]
    ids = {a.json["pending_credit"]["id"] for a in asked}
    assert len(ids) == 2
    replay = client.post("/api/v1/transfers", json=body, headers=token_for(second))
    assert replay.status_code == 200
    assert replay.json["pending_credit"]["id"] == asked[1].json["pending_credit"]["id"]
    stored = db.session.scalars(sa.select(PendingCredit.idempotency_key)).all()
    assert sorted(stored) == sorted([f"api:{first.id}:award-1", f"api:{second.id}:award-1"])


def test_a_key_does_one_kind_of_transfer(client, district, make_member, token_for):
    """A donation's key sent again for an award or a correction is a conflict, not a
    second act (the two were kept in separate tables, so the key was not seen)."""
    organizer = make_member(district["a"], roles=("organizer",))
    alice = make_member(district["building_a"])
    _earn_hours(organizer, district["a"], n=1)
    headers = token_for(organizer)
    donated = _donate(client, headers, "k-1", pool_unit_id=district["a"].id)
    assert donated.status_code == 201
    award = {
        "kind": "award", "ledger": "POINTS", "amount": 20, "member_id": alice.id,
        "memo": "防汛值守", "idempotency_key": "k-1",
    }  # fmt: skip
    refused = client.post("/api/v1/transfers", json=award, headers=headers)
    assert refused.status_code == 409 and refused.json["code"] == "idempotency_conflict"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingCredit)) == 0
    # and the other way round: an award's key is not a donation's
    assert (
        client.post(
            "/api/v1/transfers", json={**award, "idempotency_key": "k-2"}, headers=headers
        ).status_code
        == 202
    )
    again = _donate(client, headers, "k-2", pool_unit_id=district["a"].id)
    assert again.status_code == 409 and again.json["code"] == "idempotency_conflict"
    assert ledger.balances(organizer.id)["HOURS"]["balance"] == 115


def test_two_counters_may_use_the_same_redemption_key(client, district, token_for):
    shops = []
    for name in ("老王肉菜店", "红星理发店"):
        merchant = create_merchant(district["a"], name=name)
        shops.append((merchant, create_offer(merchant, points_cost=10)))
    members = [factories.create_member(district["building_a"]) for _ in shops]
    for member in members:
        fund(member, 30)
    db.session.commit()
    answers = []
    for (merchant, offer), member in zip(shops, members, strict=True):
        body = {"code": code_of(member), "offer_id": offer.id, "idempotency_key": "till-1"}
        headers = token_for(merchant.owner)
        answers.append(client.post("/api/v1/redemptions", json=body, headers=headers))
        assert answers[-1].status_code == 201, answers[-1].json
        replay = client.post("/api/v1/redemptions", json=body, headers=headers)
        assert replay.status_code == 200 and replay.json["id"] == answers[-1].json["id"]
    other_offer = create_offer(shops[0][0], points_cost=5, title="理发")
    db.session.commit()
    body = {"code": code_of(members[0]), "offer_id": other_offer.id, "idempotency_key": "till-1"}
    changed = client.post("/api/v1/redemptions", json=body, headers=token_for(shops[0][0].owner))
    assert changed.status_code == 409 and changed.json["code"] == "idempotency_conflict"
    stored = db.session.scalars(sa.select(Redemption.idempotency_key)).all()
    assert sorted(stored) == sorted(f"api:{m.owner_id}:till-1" for m, _ in shops)


def test_a_long_key_is_kept_apart_by_its_hash(client, district, make_member, token_for):
    alice = make_member(district["building_a"])
    _earn_hours(alice, district["a"])
    pool = {"pool_unit_id": district["a"].id}
    long_key = "x" * 100
    made = _donate(client, token_for(alice), long_key, **pool)
    assert made.status_code == 201, made.json
    assert _donate(client, token_for(alice), long_key, **pool).status_code == 200
    assert _donate(client, token_for(alice), long_key[:-1] + "y", **pool).status_code == 201
    donated = sa.select(Transfer.idempotency_key).where(Transfer.code == "donate")
    stored = db.session.scalars(donated)
    assert all(len(key) <= 100 and key.startswith(f"api:{alice.id}:sha256:") for key in stored)
