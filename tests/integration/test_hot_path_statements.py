"""The statements each hot path sends, counted whole (the ledger's plain SQL too), so a
regression shows here. Counts, not instructions: those belong in bench/instructions.py.
Each request reads what it needs afresh, as in production (the session is emptied first).
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from tests import factories
from tests.merchants_factories import code_of, create_merchant, create_offer, fund
from tests.statements import recorded_statements, statements_built
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people

#: each hot path's statements today, on both databases (issue 24's aims: a hold in at most
#: 8, a confirm in at most 6)
TOKEN_LOOKUP = 1
BALANCES = 2
CHECK_IN = 5
HOLD = 8
#: the confirm's last statement is its audit row (issue 21, finding 11: the shop's own
#: confirms, voids and refunds are on the audit log)
CONFIRM = 13
#: the volunteer's home page (issue 24: measure it, then halve it)
HOME = 10


def _request(client, method: str, url: str, **kwargs):
    db.session.expunge_all()
    with recorded_statements(raw=True) as statements:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code in (200, 201), response.json
    return response, statements


def test_a_readiness_probe_reads_once_on_a_connection_and_opens_no_session(client):
    db.session.remove()  # what the fixtures used: the probe starts as a request does
    begun = []

    def began(session, transaction):
        begun.append(transaction)

    event.listen(Session, "after_transaction_create", began)
    try:
        with recorded_statements(raw=True) as statements:
            response = client.get("/readyz?exclude=scheduler")
    finally:
        event.remove(Session, "after_transaction_create", began)
    assert response.status_code == 200, response.json
    assert statements == ["SELECT version_num FROM alembic_version"]
    assert begun == []  # no unit of work begun only to commit it empty
    assert not db.session.registry.has()


def test_a_bearer_token_and_its_member_are_one_statement_and_balances_one_more(
    client, district, make_member, token_for
):
    member = make_member(district["building_a"])
    response, statements = _request(client, "get", "/api/v1/me/balances", headers=token_for(member))
    assert len(statements) == BALANCES, statements
    assert "api_tokens.token_hash" in statements[0] and "FROM members" in statements[0]
    assert len([s for s in statements if "api_tokens" in s]) == TOKEN_LOOKUP
    assert response.json["POINTS"] == 0


def test_a_first_check_in_reads_three_times_and_writes_twice(client, activity_scene, token_for):
    headers = token_for(activity_scene["volunteer"])
    token = activities.kiosk_token(activity_scene["activity"].id, activities.step_of(utcnow()))
    _, statements = _request(client, "post", "/api/v1/checkins", json={"token": token},
                             headers=headers)  # fmt: skip
    assert len(statements) == CHECK_IN, statements
    assert [s.split()[0] for s in statements] == ["SELECT"] * 3 + ["INSERT"] * 2


def test_a_redemption_holds_and_confirms_in_a_counted_number_of_statements(
    client, district, token_for
):
    shop = create_merchant(district["a"], name="老王肉菜店")
    offer = create_offer(shop, points_cost=10)
    customer = factories.create_member(district["building_a"], name="王秀英")
    fund(customer, 30)
    db.session.commit()
    staff = token_for(shop.owner)
    body = {"code": code_of(customer), "offer_id": offer.id, "idempotency_key": "count-1"}
    held, hold = _request(client, "post", "/api/v1/redemptions", json=body, headers=staff)
    assert held.json["member_name"] == "王**"  # staff see the customer masked
    assert len(hold) == HOLD, "\n".join(hold)
    confirmed, confirm = _request(
        client, "post", f"/api/v1/redemptions/{held.json['id']}/confirm", headers=staff
    )
    assert confirmed.json["status"] == "confirmed"
    assert len(confirm) == CONFIRM, "\n".join(confirm)
    # masking asked no permission query: the staff's grants are the only roles read
    for sent in (hold, confirm):
        assert len([s for s in sent if s.startswith("SELECT role_assignments.role")]) == 1


def test_an_official_at_the_counter_is_named_in_full_with_no_query_more(
    client, district, token_for
):
    """Organizers act in public: the counter shows their name whole. Whether the customer
    is one is read with the customer (the hold) and with the locked redemption (the
    confirm)."""
    shop = create_merchant(district["b"], name="红星理发店")
    offer = create_offer(shop, points_cost=10)
    organizer = factories.create_member(district["a"], roles=("organizer",), name="张建国")
    fund(organizer, 10)
    db.session.commit()
    staff = token_for(shop.owner)
    body = {"code": code_of(organizer), "offer_id": offer.id, "idempotency_key": "count-2"}
    held, hold = _request(client, "post", "/api/v1/redemptions", json=body, headers=staff)
    assert held.json["member_name"] == "张建国" and len(hold) == HOLD
    confirmed, confirm = _request(
        client, "post", f"/api/v1/redemptions/{held.json['id']}/confirm", headers=staff
    )
    assert confirmed.json["member_name"] == "张建国" and len(confirm) == CONFIRM


def test_the_home_page_reads_roles_home_and_party_with_the_member(client, district, login):
    """A volunteer's home: the member with their roles (and each role's unit), home unit and
    party profile in one statement, so more roles cost no more queries."""
    counts = []
    for extra in ((), ("building_b", "b")):
        member = factories.create_member(district["building_a"], name="王秀英")
        for unit in extra:
            people.grant_role(member, "volunteer", district[unit].id)
        db.session.commit()
        login(member)
        db.session.expunge_all()
        with recorded_statements(raw=True) as statements:
            page = client.get("/").get_data(as_text=True)
        counts.append(len(statements))
        for unit in ("building_a", *extra):
            assert district[unit].name in page
        client.post("/logout")
    assert counts == [HOME, HOME], counts


def _built_on_second(send) -> list[str]:
    """The statements ``send`` built the second time: the first may build what is made once."""
    send(1)
    db.session.expunge_all()
    with statements_built() as built:
        send(2)
    return [str(statement) for statement in built]


def test_the_hot_paths_build_no_statement_per_request(client, activity_scene, token_for, login):
    """Balances, a check-in, a redemption (hold and confirm) and the volunteer's home run
    statements built once, with parameters: none is built for a request (issue 24: a
    redemption built seven, 29.41 -> 22.47 M instructions; the home page seven)."""
    scene = activity_scene
    shop = create_merchant(scene["a"], name="老王肉菜店")
    offer = create_offer(shop, points_cost=10)
    volunteers = {n: factories.create_member(scene["building_a"], name=f"李{n}") for n in (1, 2)}
    for volunteer in volunteers.values():
        fund(volunteer, 30)
    db.session.commit()
    staff = token_for(shop.owner)
    tokens = {n: token_for(volunteer) for n, volunteer in volunteers.items()}
    kiosk = activities.kiosk_token(scene["activity"].id, activities.step_of(utcnow()))

    def ok(response):
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response

    def balances(n):
        ok(client.get("/api/v1/me/balances", headers=tokens[n]))

    def check_in(n):
        ok(client.post("/api/v1/checkins", json={"token": kiosk}, headers=tokens[n]))

    def redeem(n):
        body = {"code": code_of(volunteers[n]), "offer_id": offer.id, "idempotency_key": f"b{n}"}
        held = ok(client.post("/api/v1/redemptions", json=body, headers=staff)).json
        ok(client.post(f"/api/v1/redemptions/{held['id']}/confirm", headers=staff))

    def home(n):
        assert "李1" in ok(client.get("/")).get_data(as_text=True)

    for send in (balances, check_in, redeem):
        assert _built_on_second(send) == [], send.__name__
    login(volunteers[1])
    assert _built_on_second(home) == []
