"""The merchants API end to end: a shop added and approved, an offer, the member's code,
hold and confirm at the counter, replays and refusals with their own codes, a refund, a
guardian showing a ward's code, statements; the CLI; and what the database refuses."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.merchants_factories import create_merchant, create_offer, fund
from timebank.core import codes
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.people import operations as people

SHOP = {
    "name": "上坎老王肉菜店",
    "address": "西固区上坎路12号",
    "category": "grocery",
    "opening_hours": "每天 7:00-19:30",
    "contact_name": "王建国",
    "contact_phone": "0931-7512345",
}


@pytest.fixture
def cast(district, make_member, token_for):
    organizer = make_member(district["a"], roles=("organizer",), name="上坎网格长")
    owner = make_member(district["building_a"], name="王建国")
    member = make_member(district["building_a"], name="王秀英")
    fund(member, 25, minutes=360)
    db.session.commit()
    return {
        "organizer": token_for(organizer),
        "owner": token_for(owner),
        "member": token_for(member),
        "owner_member": owner,
        "member_id": member.id,
    }


def test_a_shop_from_application_to_a_confirmed_redemption(client, district, cast):
    body = {**SHOP, "unit_id": district["a"].id, "owner_phone": cast["owner_member"].phone}
    # a volunteer may apply for their own shop, not name someone else's
    refused = client.post("/api/v1/merchants", json=body, headers=cast["member"])
    assert refused.status_code == 403
    added = client.post("/api/v1/merchants", json=body, headers=cast["organizer"])
    assert added.status_code == 201, added.json
    shop = added.json
    assert (shop["status"], shop["owner_id"]) == ("pending", cast["owner_member"].id)
    offer_body = {
        "title": "满30元减5元",
        "points_cost": 10,
        "benefit": "discount",
        "discount_fen": 500,
        "valid_from": "2026-01-01T00:00:00+08:00",
        "valid_until": "2036-01-01T00:00:00+08:00",
    }
    early = client.post(
        f"/api/v1/merchants/{shop['id']}/offers", json=offer_body, headers=cast["owner"]
    )
    assert early.status_code == 409 and early.json["code"] == "merchant_not_approved"
    approved = client.post(f"/api/v1/merchants/{shop['id']}/approve", headers=cast["organizer"])
    assert approved.json["status"] == "approved"
    offer = client.post(
        f"/api/v1/merchants/{shop['id']}/offers", json=offer_body, headers=cast["owner"]
    ).json
    listed = client.get("/api/v1/offers", headers=cast["member"]).json
    assert [(o["offer"]["title"], o["affordable"], o["ineligible"]) for o in listed] == [
        ("满30元减5元", True, None)
    ]
    code = client.get("/api/v1/me/redeem-code", headers=cast["member"]).json
    assert code["short_code"].startswith(f"{cast['member_id']}-") and "<svg" in code["svg"]
    hold = {"code": code["short_code"], "offer_id": offer["id"], "idempotency_key": "till-1"}
    held = client.post("/api/v1/redemptions", json=hold, headers=cast["owner"])
    assert held.status_code == 201 and held.json["status"] == "held"
    replay = client.post("/api/v1/redemptions", json=hold, headers=cast["owner"])
    assert replay.status_code == 200 and replay.json["id"] == held.json["id"]
    mine = client.get("/api/v1/me/redemptions", headers=cast["member"]).json
    assert [(r["id"], r["status"]) for r in mine] == [(held.json["id"], "held")]
    balances = client.get("/api/v1/me/balances", headers=cast["member"]).json
    assert balances["available"]["POINTS"] == 15
    rid = held.json["id"]
    done = client.post(f"/api/v1/redemptions/{rid}/confirm", headers=cast["owner"])
    assert done.status_code == 200 and done.json["status"] == "confirmed"
    again = client.post(f"/api/v1/redemptions/{rid}/confirm", headers=cast["owner"])
    assert again.status_code == 409 and again.json["code"] == "redemption_not_held"
    summary = client.get(f"/api/v1/merchants/{shop['id']}/summary", headers=cast["owner"]).json
    assert summary["today"] == {"count": 1, "points": 10} and summary["balance"] == 10
    assert client.get("/api/v1/me/balances", headers=cast["member"]).json["POINTS"] == 15


@pytest.fixture
def counter(district, cast):
    merchant = create_merchant(district["a"], owner=cast["owner_member"])
    offer = create_offer(merchant, points_cost=10)
    db.session.commit()
    return merchant, offer


def redeem(client, cast, offer, code, key):
    body = {"code": code, "offer_id": offer.id, "idempotency_key": key}
    return client.post("/api/v1/redemptions", json=body, headers=cast["owner"])


def test_confirm_and_void_ask_of_the_locked_redemption_404_then_403(
    client, district, cast, counter, token_for
):
    """The shop's staff are checked by the operation on the row it locks (the API reads
    no target of its own): a missing redemption is 404, another shop's staff get 403 and
    change nothing."""
    merchant, offer = counter
    code = merchants.current_redeem_code(cast["member_id"]).token
    held = redeem(client, cast, offer, code, "locked-403").json
    other = create_merchant(district["b"])
    db.session.commit()
    for decision in ("confirm", "void"):
        missing = client.post(f"/api/v1/redemptions/999999/{decision}", headers=cast["owner"])
        assert missing.status_code == 404, missing.json
        assert missing.json["code"] == "redemption_not_found"
        for stranger in (token_for(other.owner), cast["member"]):
            refused = client.post(f"/api/v1/redemptions/{held['id']}/{decision}", headers=stranger)
            assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    assert merchants.get_redemption(held["id"]).status == "held"
    assert ledger.balances(cast["member_id"])["POINTS"] == {
        "balance": 25, "held": 10, "available": 15,
    }  # fmt: skip
    assert client.post(f"/api/v1/redemptions/{held['id']}/confirm",
                       headers=cast["owner"]).json["status"] == "confirmed"  # fmt: skip


def test_a_replay_is_answered_as_the_first_time_after_the_offer_is_withdrawn(client, cast, counter):
    """A request's key is looked up only when something refuses it (or its INSERT meets a
    twin): a replay is still the first answer, a used code still redeem_code_used and
    another body idempotency_conflict, whatever else would refuse them now."""
    merchant, offer = counter
    code = merchants.current_redeem_code(cast["member_id"]).token
    first = redeem(client, cast, offer, code, "withdrawn-1")
    assert first.status_code == 201, first.json
    merchants.withdraw_offer(offer)
    db.session.commit()
    again = redeem(client, cast, offer, code, "withdrawn-1")
    assert (again.status_code, again.json["id"]) == (200, first.json["id"])
    used = redeem(client, cast, offer, code, "withdrawn-2")
    assert used.json["code"] == "redeem_code_used", used.json
    other = create_offer(merchant, points_cost=5)
    db.session.commit()
    conflict = redeem(client, cast, other, code, "withdrawn-1")
    assert conflict.json["code"] == "idempotency_conflict", conflict.json
    assert ledger.balances(cast["member_id"])["POINTS"]["held"] == 10


def test_used_expired_forged_and_conflicting_codes_each_say_so(client, cast, counter):
    _merchant, offer = counter
    member_id = cast["member_id"]
    token = merchants.current_redeem_code(member_id).token
    assert redeem(client, cast, offer, token, "k1").status_code == 201
    used = redeem(client, cast, offer, token, "k2")
    assert (used.status_code, used.json["code"]) == (409, "redeem_code_used")
    assert used.mimetype == "application/problem+json"
    old = codes.make_token(merchants.REDEEM, member_id, codes.step_of(utcnow()) - 3)
    expired = redeem(client, cast, offer, old, "k3")
    assert (expired.status_code, expired.json["code"]) == (409, "redeem_code_expired")
    forged = redeem(client, cast, offer, token[:-3] + "xyz", "k4")
    assert (forged.status_code, forged.json["code"]) == (400, "redeem_code_invalid")
    conflict = redeem(client, cast, offer, "anything", "k1")  # k1's body was another
    assert (conflict.status_code, conflict.json["code"]) == (409, "idempotency_conflict")
    missing = client.post("/api/v1/redemptions", json={"code": token}, headers=cast["owner"])
    assert missing.status_code == 422


def test_void_and_refund_over_the_api(client, cast, counter):
    _merchant, offer = counter
    member_id = cast["member_id"]
    now = utcnow()
    first = redeem(
        client, cast, offer, merchants.current_redeem_code(member_id, now=now).token, "v1"
    ).json
    voided = client.post(f"/api/v1/redemptions/{first['id']}/void", headers=cast["owner"])
    assert voided.json["status"] == "voided"
    later = merchants.current_redeem_code(member_id, now=now - timedelta(seconds=30)).token
    second = redeem(client, cast, offer, later, "v2").json
    client.post(f"/api/v1/redemptions/{second['id']}/confirm", headers=cast["owner"])
    refund = client.post(
        f"/api/v1/redemptions/{second['id']}/refund",
        json={"reason": "顾客退货"},
        headers=cast["owner"],
    )
    assert refund.status_code == 200 and refund.json["status"] == "refunded"
    assert ledger.balances(member_id)["POINTS"] == {"balance": 25, "held": 0, "available": 25}
    correction = ledger.get_transfer(refund.json["refund_transfer_id"])
    assert correction.corrects_id == refund.json["transfer_id"]


def test_a_guardian_shows_the_ward_s_code(client, district, cast, counter, make_member, token_for):
    _merchant, offer = counter
    ward = make_member(district["building_a"], name="独居老人", password=None)
    guardian = make_member(district["building_a"], name="邻居")
    people.add_guardian(ward, guardian, relation="邻居", actor=None)
    fund(ward, 30)
    db.session.commit()
    headers = {**token_for(guardian), "X-On-Behalf-Of": str(ward.id)}
    code = client.get("/api/v1/me/redeem-code", headers=headers).json
    assert code["member_id"] == ward.id
    assert redeem(client, cast, offer, code["token"], "w1").status_code == 201
    assert (
        client.get("/api/v1/me/redemptions", headers=headers).json[0]["member_name"] == "独居老人"
    )
    stranger = {**cast["member"], "X-On-Behalf-Of": str(ward.id)}
    assert client.get("/api/v1/me/redeem-code", headers=stranger).status_code == 403


def test_statements_over_the_api(client, district, cast, counter):
    merchant, offer = counter
    held = redeem(
        client, cast, offer, merchants.current_redeem_code(cast["member_id"]).token, "s1"
    ).json
    client.post(f"/api/v1/redemptions/{held['id']}/confirm", headers=cast["owner"])
    month = f"{merchants.current_month(utcnow()):%Y-%m}"
    built = client.post(
        f"/api/v1/merchants/{merchant.id}/statements",
        json={"month": month},
        headers=cast["organizer"],
    )
    assert built.status_code == 200, built.json
    assert (built.json["points_net"], built.json["amount_yuan"]) == (10, "1.00")
    owner_view = client.get(f"/api/v1/statements/{built.json['id']}", headers=cast["owner"])
    assert owner_view.status_code == 200
    unit = client.get(
        f"/api/v1/units/{district['a'].id}/statements?month={month}", headers=cast["organizer"]
    ).json
    assert [s["id"] for s in unit] == [built.json["id"]]
    pay = client.post(
        f"/api/v1/statements/{built.json['id']}/pay", json={}, headers=cast["organizer"]
    )
    assert (pay.status_code, pay.json["code"]) == (409, "statement_period_open")
    bad = client.post(
        f"/api/v1/merchants/{merchant.id}/statements",
        json={"month": "2026-13"},
        headers=cast["organizer"],
    )
    assert bad.status_code == 422


def test_pages_and_the_api_give_the_same_answer(app, district, cast, counter, make_member):
    """As in test_edge_contract, for the merchants' pages and their API twins."""
    merchant, offer = counter
    other = create_merchant(district["a"], name="红星理发店", category="barber")
    held = merchants.redeem(
        code=merchants.current_redeem_code(cast["member_id"]).token,
        offer_id=offer.id,
        idempotency_key="pair",
        staff=merchant.owner,
    ).redemption
    db.session.commit()
    pairs = [
        (f"/merchants/{merchant.id}/profile", f"/api/v1/merchants/{merchant.id}"),
        (f"/merchants/{merchant.id}", f"/api/v1/merchants/{merchant.id}/summary"),
        (f"/merchants/{merchant.id}/counter", f"/api/v1/merchants/{merchant.id}/redemptions"),
        (f"/units/{district['a'].id}/merchants", f"/api/v1/units/{district['a'].id}/merchants"),
        (f"/units/{district['a'].id}/offers", f"/api/v1/units/{district['a'].id}/offers"),
        (f"/units/{district['a'].id}/settlement", f"/api/v1/units/{district['a'].id}/statements"),
        ("/offers", "/api/v1/offers"),
        ("/me/redeem", "/api/v1/me/redeem-code"),
        ("/merchants/2147483647/counter", "/api/v1/merchants/2147483647/redemptions"),
    ]
    callers = {
        "anonymous": None,
        "volunteer": db.session.get(type(merchant.owner), cast["member_id"]),
        "owner": merchant.owner,
        "other_owner": other.owner,
        "organizer": make_member(district["a"], roles=("organizer",)),
        "organizer_other": make_member(district["b"], roles=("organizer",)),
    }
    differences = []
    for name, member in callers.items():
        browser, program = app.test_client(), app.test_client()
        headers = {}
        if member is not None:
            sent = browser.post(
                "/login", data={"phone": member.phone, "password": factories.PASSWORD}
            )
            assert sent.status_code == 302
            token, _row = people.issue_token(member)
            db.session.commit()
            headers = {"Authorization": f"Bearer {token}"}
        for page_url, api_url in pairs:
            page = browser.get(page_url)
            api = program.get(api_url, headers=headers)
            page_answer = 401 if page.status_code == 302 else page.status_code
            if page_answer != api.status_code:
                differences.append(f"{name}: {page_url} {page_answer}, {api_url} {api.status_code}")
    assert not differences, "\n".join(differences)
    assert held.status == "held"


def test_cli_expires_holds_and_builds_statements(app, cast, counter, clock):
    merchant, offer = counter
    held = merchants.redeem(
        code=merchants.current_redeem_code(cast["member_id"]).token,
        offer_id=offer.id,
        idempotency_key="cli",
        staff=merchant.owner,
    ).redemption
    db.session.commit()
    runner = app.test_cli_runner()
    clock.advance(held.expires_at + timedelta(seconds=1) - utcnow())
    # an alias of `jobs run release-holds`: recorded like every run
    result = runner.invoke(args=["merchants", "expire-redemptions"])
    assert result.exit_code == 0 and "'redemptions': 1" in result.output, result.output
    assert ledger.balances(cast["member_id"])["POINTS"]["held"] == 0
    month = f"{merchants.current_month(utcnow()):%Y-%m}"
    # nothing was redeemed: no ¥0 statement (issue 21, finding 11)
    empty = runner.invoke(args=["merchants", "statements", "--month", month])
    assert empty.exit_code == 0 and "0 statements" in empty.output, empty.output
    again = merchants.redeem(
        code=merchants.current_redeem_code(cast["member_id"]).token, offer_id=offer.id,
        idempotency_key="cli-2", staff=merchant.owner,
    ).redemption  # fmt: skip
    merchants.confirm_redemption(again.id, staff=merchant.owner)
    db.session.commit()
    built = runner.invoke(args=["merchants", "statements", "--month", month])
    assert built.exit_code == 0 and merchant.name in built.output, built.output
    bad = runner.invoke(args=["merchants", "statements", "--month", "May"])
    assert bad.exit_code != 0


@pytest.mark.concurrent  # tries each change on a connection of its own
def test_the_database_refuses_changing_a_paid_statement_or_deleting_a_redemption(
    app, cast, counter
):
    merchant, offer = counter
    held = merchants.redeem(
        code=merchants.current_redeem_code(cast["member_id"]).token,
        offer_id=offer.id,
        idempotency_key="guard",
        staff=merchant.owner,
    ).redemption
    merchants.confirm_redemption(held.id, staff=merchant.owner)
    statement = merchants.build_statement(merchant, merchants.current_month(utcnow()))
    organizer = factories.create_member(merchant.unit, roles=("organizer",))
    after = merchants.month_bounds(statement.period_start)[1] + timedelta(hours=1)
    merchants.mark_statement_paid(statement.id, actor=organizer, now=after)
    db.session.commit()
    for sql in (
        f"UPDATE merchant_statements SET amount_fen = 0, points_redeemed = 0, points_net = 0 "
        f"WHERE id = {statement.id}",
        f"DELETE FROM merchant_statements WHERE id = {statement.id}",
        f"DELETE FROM redemptions WHERE id = {held.id}",
        f"UPDATE redemptions SET points = 1 WHERE id = {held.id}",
    ):
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as connection:
            connection.execute(sa.text(sql))
