from tests import factories
from timebank.extensions import db
from timebank.ledger import operations as ledger


def _earn(member, unit, minutes=0, points=0, n=1):
    ledger.credit_from_evidence(
        member_id=member.id,
        member_unit_id=member.home_unit_id,
        unit_id=unit.id,
        minutes=minutes,
        points=points,
        code="earn_checkin",
        reference_type="attendance",
        reference_id=str(n),
        idempotency_key=f"attendance:{n}",
        actor_id=None,
    )
    db.session.commit()


def test_balances_and_history_with_cursor(client, district, make_member, token_for):
    alice = make_member(district["building_a"])
    for n in range(1, 6):
        _earn(alice, district["a"], minutes=30, points=5, n=n)
    headers = token_for(alice)
    balances = client.get("/api/v1/me/balances", headers=headers).json
    assert balances["HOURS"] == 150 and balances["POINTS"] == 25
    assert balances["available"] == {"HOURS": 150, "POINTS": 25}
    page = client.get("/api/v1/me/transfers?limit=4", headers=headers).json
    assert len(page["items"]) == 4 and page["next_cursor"] is not None
    assert page["items"][0]["entry_id"] > page["items"][1]["entry_id"]  # newest first
    rest = client.get(f"/api/v1/me/transfers?limit=4&before={page['next_cursor']}", headers=headers)
    assert len(rest.json["items"]) == 4
    hours = client.get("/api/v1/me/transfers?ledger=HOURS&limit=50", headers=headers).json
    assert [line["amount"] for line in hours["items"]] == [30] * 5
    assert hours["items"][0]["balance_after"] == 150 and hours["next_cursor"] is None
    assert client.get("/api/v1/me/transfers?limit=0", headers=headers).status_code == 422


def test_award_needs_a_second_organizer(client, district, make_member, token_for):
    alice = make_member(district["building_a"])
    first = make_member(district["a"], roles=("organizer",))
    second = make_member(district["a"], roles=("organizer",))
    other = make_member(district["b"], roles=("organizer",))
    body = {
        "kind": "award",
        "ledger": "POINTS",
        "amount": 50,
        "member_id": alice.id,
        "memo": "网格模范志愿者",
        "idempotency_key": "award-1",
    }
    asked = client.post("/api/v1/transfers", json=body, headers=token_for(first))
    assert asked.status_code == 202 and asked.json["status"] == "pending_approval"
    again = client.post("/api/v1/transfers", json=body, headers=token_for(first))
    assert (
        again.status_code == 200
        and again.json["pending_credit"]["id"] == asked.json["pending_credit"]["id"]
    )
    changed = client.post(
        "/api/v1/transfers", json={**body, "amount": 51}, headers=token_for(first)
    )
    assert changed.status_code == 409 and changed.json["code"] == "idempotency_conflict"
    pending_id = asked.json["pending_credit"]["id"]
    own = client.post(f"/api/v1/pending-credits/{pending_id}/approve", headers=token_for(first))
    assert own.status_code == 403 and own.json["code"] == "four_eyes"
    outsider = client.post(
        f"/api/v1/pending-credits/{pending_id}/approve", headers=token_for(other)
    )
    assert outsider.status_code == 403
    listed = client.get(
        f"/api/v1/pending-credits?unit_id={district['a'].id}", headers=token_for(second)
    )
    assert listed.status_code == 200, listed.json
    assert [p["id"] for p in listed.json] == [pending_id]
    approved = client.post(
        f"/api/v1/pending-credits/{pending_id}/approve", headers=token_for(second)
    )
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 50
    volunteer = client.post(
        "/api/v1/transfers", json={**body, "idempotency_key": "x"}, headers=token_for(alice)
    )
    assert volunteer.status_code == 403


def test_donation_and_correction_through_the_api(client, district, make_member, token_for):
    alice = make_member(district["building_a"])
    mother = make_member(district["building_b"])
    organizer = make_member(district["a"], roles=("organizer",))
    _earn(alice, district["a"], minutes=120)
    donated = client.post(
        "/api/v1/transfers",
        headers=token_for(alice),
        json={
            "kind": "donate",
            "amount": 60,
            "recipient_id": mother.id,
            "idempotency_key": "gift-1",
        },
    )
    assert donated.status_code == 201, donated.json
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 60
    too_much = client.post(
        "/api/v1/transfers",
        headers=token_for(alice),
        json={
            "kind": "donate",
            "amount": 61,
            "recipient_id": mother.id,
            "idempotency_key": "gift-2",
        },
    )
    assert too_much.status_code == 409 and too_much.json["code"] == "insufficient_balance"
    credit_id = client.get("/api/v1/me/transfers?ledger=HOURS", headers=token_for(alice)).json[
        "items"
    ][-1]["transfer_id"]
    fixed = client.post(
        "/api/v1/transfers",
        headers=token_for(organizer),
        json={
            "kind": "correct",
            "amount": 30,
            "corrects_transfer_id": credit_id,
            "memo": "签退时间录错",
            "idempotency_key": "fix-1",
        },
    )
    assert fixed.status_code == 201, fixed.json
    assert fixed.json["transfers"][0]["corrects_id"] == credit_id
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 30
    bad = client.post(
        "/api/v1/transfers",
        headers=token_for(alice),
        json={"kind": "donate", "amount": "5", "recipient_id": mother.id, "idempotency_key": "g"},
    )
    assert bad.status_code == 422 and "amount" in bad.json["errors"]
    no_key = client.post(
        "/api/v1/transfers",
        headers=token_for(alice),
        json={"kind": "donate", "amount": 5, "recipient_id": mother.id},
    )
    assert no_key.status_code == 422 and "idempotency_key" in no_key.json["errors"]


def test_verify_and_checkpoints_for_admins(client, district, make_member, token_for):
    admin = make_member(district["street"], roles=("admin",))
    volunteer = make_member(district["building_a"])
    _earn(volunteer, district["a"], minutes=45, points=3)
    assert client.get("/api/v1/ledger/verify", headers=token_for(volunteer)).status_code == 403
    report = client.get("/api/v1/ledger/verify", headers=token_for(admin)).json
    assert report["ok"] and report["entries"] == 4 and report["transfers"] == 2
    made = client.post("/api/v1/ledger/checkpoints", headers=token_for(admin))
    assert made.status_code == 201 and {c["ledger"] for c in made.json} == {"HOURS", "POINTS"}
    listed = client.get("/api/v1/ledger/checkpoints", headers=token_for(volunteer)).json
    assert len(listed) == 2 and listed[0]["entry_count"] == 2
    assert client.get("/api/v1/ledger/verify", headers=token_for(admin)).json["checkpoints"] == 2


def test_statement_page_in_both_languages(client, district, make_member, login):
    alice = make_member(district["building_a"])
    _earn(alice, district["a"], minutes=90, points=15)
    login(alice)
    zh = client.get("/me/statement").get_data(as_text=True)
    assert "我的账单" in zh and "1小时30分钟" in zh and "15 积分" in zh and "参加活动" in zh
    client.post("/lang/en")
    en = client.get("/me/statement").get_data(as_text=True)
    assert "My statement" in en and "+1 h 30 min" in en and "+15 points" in en
    assert "Served at" in en and "#1" not in en


def test_pending_page_lets_a_second_organizer_approve(client, district, make_member, login):
    alice = make_member(district["building_a"])
    first = make_member(district["a"], roles=("organizer",))
    second = make_member(district["a"], roles=("organizer",))
    pending = ledger.request_manual_credit(
        ledger="POINTS",
        code="award",
        member_id=alice.id,
        member_unit_id=alice.home_unit_id,
        unit_id=district["a"].id,
        amount=20,
        memo="义剪服务",
        idempotency_key="p1",
        requested_by_id=first.id,
    ).pending
    db.session.commit()
    login(first)
    client.post(f"/pending-credits/{pending.id}/approve")
    page = client.get(f"/units/{district['a'].id}/pending-credits").get_data(as_text=True)
    assert "不能批准自己" in page
    client.post("/logout")
    login(second)
    client.post(f"/pending-credits/{pending.id}/approve")
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 20


def test_cli_verify_and_checkpoint(app, district, make_member):
    alice = make_member(district["building_a"])
    _earn(alice, district["a"], minutes=60)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "checkpoint"])
    assert result.exit_code == 0 and "HOURS: 2 entries" in result.output
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "OK: 2 entries" in result.output
    factories  # noqa: B018 - imported for fixtures' side effects


def test_donation_to_a_missing_pool_and_new_keys_like_old_ones(
    client, district, make_member, token_for
):
    alice = make_member(district["building_a"])
    _earn(alice, district["a"], minutes=120)
    headers = token_for(alice)

    def donate(key, unit_id=district["a"].id):
        body = {"kind": "donate", "amount": 5, "pool_unit_id": unit_id, "idempotency_key": key}
        return client.post("/api/v1/transfers", headers=headers, json=body)

    missing = donate("pool-1", unit_id=999_999)  # nobody's pool, so not one of alice's
    assert missing.status_code == 422 and "pool_unit_id" in missing.json["errors"]
    assert donate("gift-10").status_code == 201
    # new keys: a prefix of an old one, and LIKE wildcards, are not replays
    for key in ("gift-1", "gift%", "gift-1_"):
        response = donate(key)
        assert response.status_code == 201, (key, response.json)
    assert donate("gift%").status_code == 200
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 120 - 4 * 5
