"""No slow work inside the write lock: argon2 hashes a new password before the request's
write transaction begins (on SQLite: before BEGIN IMMEDIATE takes the one write lock), as
the login checks its hash outside any transaction (test_trust.py). 40 members created at
once through POST /api/v1/members each hashed with the lock held, and one of them waited
past the busy timeout (a 500)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from unittest import mock

import pytest

from tests import factories, sms
from tests.conftest import ON_POSTGRES
from tests.statements import BEGIN_IMMEDIATE, recorded_statements
from timebank.extensions import db
from timebank.people.operations import credentials
from timebank.people.operations import joining as joining_ops
from timebank.people.operations import login as login_ops
from timebank.people.operations import members as members_ops


def _holds_a_lock(statements: list[str]) -> bool:
    """Whether what was sent so far holds a lock someone else may wait for: SQLite's write
    lock (BEGIN IMMEDIATE), a written row or a row locked FOR UPDATE (PostgreSQL)."""
    return any(
        s == BEGIN_IMMEDIATE
        or s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
        or "FOR UPDATE" in s
        for s in statements
    )


@pytest.fixture
def hashed_outside_a_transaction():
    """Patch ``hash_password`` where ``module`` calls it; the list says, for each hash,
    whether a lock was held by then (see _holds_a_lock)."""
    seen: list[bool] = []
    sent: list[list[str]] = []

    def patch(module):
        @contextmanager
        def patched():
            def record(password):
                seen.append(_holds_a_lock(sent[-1]))
                return credentials.hash_password(password)

            with recorded_statements(lock=True, raw=True) as statements:
                sent.append(statements)
                with mock.patch.object(module, "hash_password", side_effect=record):
                    yield

        return patched()

    return patch, seen


def test_a_member_created_by_an_organizer_is_hashed_before_the_write_lock(
    client, district, make_member, token_for, hashed_outside_a_transaction
):
    patch, seen = hashed_outside_a_transaction
    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    body = {"phone": "13655550001", "name": "新来的志愿者", "home_unit_id": district["a"].id,
            "password": "a-new-pass-77"}  # fmt: skip
    with patch(members_ops):
        response = client.post("/api/v1/members", json=body, headers=headers)
    assert response.status_code == 201, response.json
    assert seen == [False]
    again = client.post(
        "/api/v1/auth/token", json={"phone": "13655550001", "password": "a-new-pass-77"}
    )
    assert again.status_code == 201  # the hash that was written is the one computed


def test_a_member_who_joins_is_hashed_before_the_write_lock(
    client, district, make_member, token_for, caplog, hashed_outside_a_transaction
):
    patch, seen = hashed_outside_a_transaction
    organizer = make_member(district["a"], roles=("organizer",))
    link = client.post(
        f"/api/v1/units/{district['a'].id}/join-link", headers=token_for(organizer)
    ).json
    with caplog.at_level(logging.WARNING, logger="timebank.sms"):
        joined = client.post(
            "/api/v1/join", json={"code": link["code"], "phone": "13622225555", "name": "新人"}
        )
    assert joined.status_code == 202
    message = [r for r in caplog.records if r.name == "timebank.sms"][-1].getMessage()
    code = message.split("验证码 ")[1][:6]
    with patch(joining_ops):
        verified = client.post(
            "/api/v1/join/verify",
            json={"phone": "13622225555", "code": code, "password": "my-join-pass-5"},
        )
    assert verified.status_code in (200, 201), verified.json
    assert seen == [False]


def test_a_password_change_is_hashed_before_the_write_lock(
    client, district, make_member, token_for, hashed_outside_a_transaction
):
    patch, seen = hashed_outside_a_transaction
    member = make_member(district["building_a"])
    headers = token_for(member)
    checked = []

    def matches(stored, password):
        checked.append(db.session().in_transaction() and not ON_POSTGRES)
        return credentials.password_matches(stored, password)

    with patch(login_ops), mock.patch.object(login_ops, "password_matches", side_effect=matches):
        response = client.post(
            "/api/v1/me/password",
            json={"current": factories.PASSWORD, "new": "another-pass-42"},
            headers=headers,
        )
    assert response.status_code == 204, response.json
    assert seen == [False] and checked == [False]
    login = client.post(
        "/api/v1/auth/token", json={"phone": member.phone, "password": "another-pass-42"}
    )
    assert login.status_code == 201


def test_a_password_reset_by_sms_code_is_hashed_before_the_write_lock(
    app, client, district, make_member, hashed_outside_a_transaction
):
    patch, seen = hashed_outside_a_transaction
    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    member = make_member(district["building_a"])
    assert client.post("/api/v1/auth/code", json={"phone": member.phone}).status_code == 202
    with patch(login_ops):
        response = client.post(
            "/api/v1/auth/token",
            json={"phone": member.phone, "code": sms.last_code(member.phone),
                  "new_password": "reset-pass-2026"},
        )  # fmt: skip
    assert response.status_code == 201, response.json
    assert seen == [False]
    login = client.post(
        "/api/v1/auth/token", json={"phone": member.phone, "password": "reset-pass-2026"}
    )
    assert login.status_code == 201
