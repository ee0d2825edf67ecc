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


def _join(client, code, phone, name, password):
    body = {"code": code, "phone": phone, "name": name, "password": password}
    response = client.post("/api/v1/join", json=body)
    assert response.status_code == 202, response.json
    from tests.sms import last_code

    return last_code(phone)


def test_a_stranger_cannot_take_over_a_registration(app, client, district, make_member):
    """The same phone registered twice: whoever brings back a code gets the registration
    that code was sent for; the stranger's request changes nothing before that, and
    names the stranger in its SMS so the resident can tell it is not theirs."""
    from tests import sms

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    phone = "13655556666"
    resident_code = _join(client, link.code, phone, "王秀英", "resident-pass-1")
    stranger_code = _join(client, link.code, phone, "冒名者", "stranger-pass-2")
    assert "冒名者" in sms.SENT[-1][1] and "王秀英" in sms.SENT[-2][1]
    member = people.find_member_by_phone(phone)
    assert member.name == "王秀英" and member.password_hash is None  # nothing set yet
    verified = client.post("/api/v1/join/verify", json={"phone": phone, "code": resident_code})
    assert verified.status_code == 200 and verified.json["name"] == "王秀英"
    late = client.post("/api/v1/join/verify", json={"phone": phone, "code": stranger_code})
    assert late.status_code == 200 and late.json["name"] == "王秀英"  # applies nothing more
    people.approve_member(people.find_member_by_phone(phone), actor=organizer)
    db.session.commit()
    assert people.authenticate(phone, "resident-pass-1").name == "王秀英"
    from timebank.core.errors import DomainError

    try:
        people.authenticate(phone, "stranger-pass-2")
    except DomainError as error:
        assert error.code == "invalid_credentials"
    else:
        raise AssertionError("the stranger's password must not log in")


def test_a_stranger_who_registers_first_gets_nothing(app, client, district, make_member):
    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    phone = "13655557777"
    _join(client, link.code, phone, "冒名者", "stranger-pass-2")
    resident_code = _join(client, link.code, phone, "李大爷", "resident-pass-1")
    verified = client.post("/api/v1/join/verify", json={"phone": phone, "code": resident_code})
    assert verified.json["name"] == "李大爷"
    member = people.find_member_by_phone(phone)
    from timebank.people.operations.credentials import password_matches

    assert password_matches(member.password_hash, "resident-pass-1")
    assert not password_matches(member.password_hash, "stranger-pass-2")


def test_concurrent_wrong_codes_are_counted_one_by_one(app, district, make_member):
    """Five tries per code, however many guesses arrive at once (a lost update on the
    counter let nine through on PostgreSQL)."""
    import threading

    from tests import sms

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    phone = "13655558888"
    app.test_client().post(
        "/api/v1/join",
        json={"code": link.code, "phone": phone, "name": "新人", "password": "new-pass-123"},
    )
    right = sms.last_code(phone)
    wrong = "000000" if right != "000000" else "111111"
    answers = []

    def guess():
        response = app.test_client().post(
            "/api/v1/join/verify", json={"phone": phone, "code": wrong}
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [422] * 5 + [429] * 11
    locked = app.test_client().post("/api/v1/join/verify", json={"phone": phone, "code": right})
    assert locked.status_code == 429
