"""The holes an attacker found (issue 12), each with the test that now guards it."""

from __future__ import annotations

import pytest

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


def _join(client, code, phone, name):
    body = {"code": code, "phone": phone, "name": name}
    response = client.post("/api/v1/join", json=body)
    assert response.status_code == 202, response.json
    from tests.sms import last_code

    return last_code(phone)


def _verify(client, phone, code, password, **more):
    body = {"phone": phone, "code": code, "password": password, **more}
    return client.post("/api/v1/join/verify", json=body)


def test_a_stranger_cannot_take_over_a_registration(app, client, district, make_member):
    """The same phone registered twice: the second join only sends the waiting
    registration's code again (its SMS names the registration), and changes nothing;
    whoever brings back a code chooses the password, once."""
    from tests import sms

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    phone = "13655556666"
    resident_code = _join(client, link.code, phone, "王秀英")
    newest = _join(client, link.code, phone, "冒名者")
    assert "冒名者" not in sms.SENT[-1][1] and "王秀英" in sms.SENT[-1][1]
    member = people.find_member_by_phone(phone)
    assert member.name == "王秀英" and member.password_hash is None  # nothing set yet
    verified = _verify(client, phone, newest, "resident-pass-1")
    assert verified.status_code == 200 and verified.json["name"] == "王秀英"
    late = _verify(client, phone, resident_code, "stranger-pass-2")
    assert late.status_code == 409 and late.json["code"] == "phone_taken"  # proved once
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
    """The stranger joined first: the resident's join sends that registration's code
    again (the SMS names the stranger's name, so the resident can tell), and the resident
    gives their own name and password when they bring the code back."""
    from tests import sms

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    phone = "13655557777"
    _join(client, link.code, phone, "冒名者")
    resident_code = _join(client, link.code, phone, "李大爷")
    assert "冒名者" in sms.SENT[-1][1]
    verified = _verify(client, phone, resident_code, "resident-pass-1", name="李大爷")
    assert verified.json["name"] == "李大爷"
    member = people.find_member_by_phone(phone)
    from timebank.people.operations.credentials import password_matches

    assert password_matches(member.password_hash, "resident-pass-1")
    assert not password_matches(member.password_hash, "stranger-pass-2")


@pytest.mark.concurrent
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
        json={"code": link.code, "phone": phone, "name": "新人"},
    )
    right = sms.last_code(phone)
    wrong = "000000" if right != "000000" else "111111"
    answers = []

    def guess():
        response = app.test_client().post(
            "/api/v1/join/verify", json={"phone": phone, "code": wrong, "password": "new-pass-123"}
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [422] * 5 + [429] * 11
    locked = app.test_client().post(
        "/api/v1/join/verify", json={"phone": phone, "code": right, "password": "new-pass-123"}
    )
    assert locked.status_code == 429


def test_an_organizer_cannot_appoint_themself_guardian_and_move_hours(
    client, district, make_member, token_for, login
):
    from timebank.core.audit import AuditEvent
    from timebank.ledger import operations as ledger

    organizer = make_member(district["a"], roles=("organizer",))
    second = make_member(district["a"], roles=("organizer",))
    resident = make_member(district["building_a"], password=None, has_smartphone=False)
    ledger.credit_from_evidence(
        member_id=resident.id, member_unit_id=resident.home_unit_id, unit_id=district["a"].id,
        minutes=120, points=0, code="earn_checkin", reference_type="attendance",
        reference_id="1", idempotency_key="attendance:1", actor_id=None,
    )  # fmt: skip
    db.session.commit()
    headers = token_for(organizer)
    asked = client.post(
        f"/api/v1/members/{resident.id}/guardians",
        json={"guardian_id": organizer.id, "relation": "网格员"},
        headers=headers,
    )
    assert asked.status_code == 201 and asked.json["status"] == "pending"
    donation = {"kind": "donate", "amount": 60, "pool_unit_id": district["a"].id}
    moved = client.post(
        "/api/v1/transfers",
        json={**donation, "idempotency_key": "d-1"},
        headers={**headers, "X-On-Behalf-Of": str(resident.id)},
    )
    assert moved.status_code == 403 and moved.json["code"] == "not_guardian"
    decision = f"/api/v1/members/{resident.id}/guardians/{organizer.id}/confirm"
    own = client.post(decision, headers=headers)
    assert own.status_code == 403 and own.json["code"] == "four_eyes"
    assert client.post(decision, headers=token_for(second)).status_code == 200
    moved = client.post(
        "/api/v1/transfers",
        json={**donation, "idempotency_key": "d-2"},
        headers={**headers, "X-On-Behalf-Of": str(resident.id)},
    )
    assert moved.status_code == 201
    acts = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.on_behalf_of_id == resident.id)
    ).all()
    # one row for the act, with what it moved (the generic on_behalf row would repeat it)
    assert [a.action for a in acts] == ["ledger.donate"]
    assert acts[0].actor_id == organizer.id and acts[0].ip == "127.0.0.1"
    assert acts[0].subject_member_id == resident.id
    assert '"minutes": 60' in acts[0].after and '"to_pool": 60' in acts[0].after


def test_a_member_with_a_phone_confirms_their_guardian_and_sees_what_was_done(
    client, district, make_member, token_for, login
):
    organizer = make_member(district["a"], roles=("organizer",))
    daughter = make_member(district["building_a"], name="女儿小王")
    mother = make_member(district["building_a"], name="王奶奶")
    client.post(
        f"/api/v1/members/{mother.id}/guardians",
        json={"guardian_id": daughter.id, "relation": "女儿"},
        headers=token_for(organizer),
    )
    by_organizer = client.post(
        f"/api/v1/members/{mother.id}/guardians/{daughter.id}/confirm",
        headers=token_for(organizer),
    )
    assert by_organizer.status_code == 403  # she has a phone: she confirms it herself
    login(mother)
    home = client.get("/").get_data(as_text=True)
    assert "女儿小王" in home and "guardians-to-confirm" in home
    client.post(f"/members/{mother.id}/guardians/{daughter.id}/confirm")
    db.session.expire_all()
    assert people.is_guardian(daughter, mother)
    party = client.post(
        f"/api/v1/members/{mother.id}/party-registration",
        json={"branch": "退休党支部"},
        headers=token_for(daughter),
    )
    assert party.status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "acts-for-me" in home and "退休党支部" in home  # what her guardian did for her


def test_the_audit_log_refuses_update_and_delete(app, district, make_member):
    import pytest
    import sqlalchemy as sa

    from timebank.core.audit import AuditEvent

    organizer = make_member(district["a"], roles=("organizer",))
    event_id = db.session.scalar(
        sa.select(AuditEvent.id).where(AuditEvent.subject_member_id == organizer.id)
    )
    db.session.commit()
    for statement in (
        sa.update(AuditEvent).where(AuditEvent.id == event_id).values(action="x"),
        sa.delete(AuditEvent).where(AuditEvent.id == event_id),
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(statement)
            db.session.flush()
        db.session.rollback()


def test_wrong_passwords_are_throttled_per_phone_with_retry_after(client, district, make_member):
    from tests import factories

    member = make_member(district["a"])
    wrong = {"phone": member.phone, "password": "not-the-password"}
    answers = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(7)]
    assert answers == [401] * 5 + [429] * 2
    refused = client.post(
        "/api/v1/auth/token", json={"phone": member.phone, "password": factories.PASSWORD}
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 60
    assert refused.json["code"] == "rate_limited"
    page = client.post("/login", data={"phone": member.phone, "password": factories.PASSWORD})
    assert (
        page.status_code == 200
        and "Too many attempts" in page.get_data(as_text=True)
        or ("尝试次数过多" in page.get_data(as_text=True))
    )


def test_an_unknown_phone_is_answered_like_a_wrong_password(client, district, make_member):
    """Same answer, and the same argon2 work (a dummy hash), whoever the phone is."""
    from unittest import mock

    from timebank.people.operations import login as login_ops

    member = make_member(district["a"])
    with mock.patch.object(
        login_ops, "password_matches", wraps=login_ops.password_matches
    ) as checked:
        known = client.post("/api/v1/auth/token", json={"phone": member.phone, "password": "x"})
        unknown = client.post("/api/v1/auth/token", json={"phone": "13999990000", "password": "x"})
    assert known.status_code == unknown.status_code == 401
    assert known.json["detail"] == unknown.json["detail"]
    assert checked.call_count == 2 and checked.call_args_list[1].args[0].startswith("$argon2id$")


def test_a_login_takes_no_write_lock_while_it_checks_the_password(app, district, make_member):
    """The hash is checked outside any transaction: on SQLite a flood of wrong passwords
    must not hold the write lock that everyone else waits for."""
    from unittest import mock

    from timebank.people.operations import login as login_ops

    member = make_member(district["a"])
    seen = {}

    def check(stored, password):
        seen["in_transaction"] = db.session().in_transaction()
        return False

    with mock.patch.object(login_ops, "password_matches", side_effect=check):
        response = app.test_client().post(
            "/api/v1/auth/token", json={"phone": member.phone, "password": "wrong"}
        )
    assert response.status_code == 401 and seen == {"in_transaction": False}


def test_imported_members_log_in_by_sms_code_and_set_a_password(app, client, district, make_member):
    from tests import sms

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    imported = make_member(district["building_a"], password=None, name="导入的居民")
    assert client.post("/api/v1/auth/code", json={"phone": imported.phone}).status_code == 202
    unknown = client.post("/api/v1/auth/code", json={"phone": "13999990001"})
    assert unknown.status_code == 202 and unknown.json == {"sent": True}  # says nothing more
    code = sms.last_code(imported.phone)
    weak = client.post(
        "/api/v1/auth/token",
        json={"phone": imported.phone, "code": code, "new_password": "12345678"},
    )
    assert weak.status_code == 422 and weak.json["code"] == "weak_password"
    token = client.post(
        "/api/v1/auth/token",
        json={"phone": imported.phone, "code": code, "new_password": "my-own-pass-9"},
    )
    assert token.status_code == 201
    again = client.post(
        "/api/v1/auth/token", json={"phone": imported.phone, "password": "my-own-pass-9"}
    )
    assert again.status_code == 201


def test_the_forgot_password_page_sets_a_new_one_and_ends_other_sessions(
    app, district, make_member
):
    from tests import factories, sms

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    member = make_member(district["building_a"])
    other_device = app.test_client()
    other_device.post("/login", data={"phone": member.phone, "password": factories.PASSWORD})
    assert other_device.get("/").status_code == 200
    token = other_device.post(
        "/api/v1/auth/token", json={"phone": member.phone, "password": factories.PASSWORD}
    ).json["token"]
    browser = app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    assert "forgot-password" in login_page
    browser.post("/login/code/send?reset=1", data={"phone": member.phone})
    done = browser.post(
        "/login/code?reset=1",
        data={
            "phone": member.phone,
            "code": sms.last_code(member.phone),
            "new_password": "n3w-pass-word",
        },
    )
    assert done.status_code == 302 and browser.get("/").status_code == 200
    assert other_device.get("/").status_code == 302  # its session ended
    ended = other_device.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert ended.status_code == 401


def test_log_out_everywhere(app, district, make_member):
    from tests import factories

    member = make_member(district["building_a"])
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        device.post("/login", data={"phone": member.phone, "password": factories.PASSWORD})
    assert laptop.post("/me/sessions/end").status_code == 302
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302


def test_common_passwords_and_runs_are_refused(client, district, make_member, token_for):
    member = make_member(district["a"])
    for weak in ("12345678", "88888888", "abcdefgh", "password1", "woaini1314", member.phone):
        response = client.post(
            "/api/v1/me/password",
            json={"current": "correct-horse-1", "new": weak},
            headers=token_for(member),
        )
        assert response.status_code == 422 and response.json["code"] == "weak_password", weak


def test_links_name_the_address_the_service_is_reached_at(
    app, client, district, make_member, token_for
):
    """Unset TIMEBANK_BASE_URL: join links and kiosk codes use the request's address;
    behind a proxy (TIMEBANK_PROXY_FIX) the address the proxy was asked for."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.config["TIMEBANK_BASE_URL"] = ""
    headers = token_for(make_member(district["a"], roles=("organizer",)))
    url = f"/api/v1/units/{district['a'].id}/join-link"
    made = client.post(url, headers=headers, base_url="http://tb.lanzhou.example:8080")
    assert made.json["url"].startswith("http://tb.lanzhou.example:8080/join/")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    proxied = client.get(
        url,
        headers={**headers, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "jiedao.example.cn"},
    )
    assert proxied.json["url"].startswith("https://jiedao.example.cn/join/")


def test_setup_prints_the_address_it_will_be_served_at(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup", "--no-demo", "--url", "http://127.0.0.1:5055"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5055/login" in result.output


def test_a_forwarded_screenshot_uploaded_later_is_held_for_review(
    client, district, make_member, token_for
):
    """Take a kiosk code, wait 70 s, send it with the time it was taken: it is recorded
    but held for review (it used to be pending, as good as a live scan); a live scan of
    the current code is accepted at once."""
    from datetime import timedelta

    from tests.activities_factories import create_activity
    from timebank.activities import operations as activities
    from timebank.core.clock import utcnow

    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() - timedelta(minutes=10)
    )
    db.session.commit()
    taken = utcnow() - timedelta(seconds=70)
    old_code = activities.kiosk_token(activity.id, activities.step_of(taken))
    forwarded = client.post(
        "/api/v1/checkins",
        json={"token": old_code, "scanned_at": taken.isoformat()},
        headers=token_for(make_member(district["building_a"])),
    )
    assert forwarded.status_code == 201
    assert forwarded.json["attendance"]["status"] == "review"
    assert "late_upload" in forwarded.json["attendance"]["review_reason"]
    live_code = activities.current_code(activity)["token"]
    live = client.post(
        "/api/v1/checkins",
        json={"token": live_code},
        headers=token_for(make_member(district["building_a"])),
    )
    assert live.status_code == 201 and "late_upload" not in (
        live.json["attendance"]["review_reason"] or ""
    )


def test_the_verify_page_sends_the_code_again_with_the_same_registration(
    app, client, district, make_member
):
    from tests import sms

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    link = people.renew_join_link(district["a"].id, actor=make_member(district["a"]))
    db.session.commit()
    phone = "13655559999"
    _join(client, link.code, phone, "赵阿姨")
    first = sms.last_code(phone)
    page = client.get(f"/join/verify?phone={phone}").get_data(as_text=True)
    assert "resend-code" in page
    assert client.post("/join/resend", data={"resend-phone": phone}).status_code == 302
    second = sms.last_code(phone)
    assert len([m for p, m in sms.SENT if p == phone]) == 2 and "赵阿姨" in sms.SENT[-1][1]
    verified = _verify(client, phone, second, "zhao-pass-2026")
    assert verified.status_code == 200 and verified.json["name"] == "赵阿姨"
    assert first  # the first code was sent too; either works while it lives
