"""Service certificates (志愿服务证明): asked for, issued, printed, checked by anyone at
/verify (genuine, altered, revoked, unknown) and offline with the published key; refused
as problems that write nothing; decided once under concurrent organizers."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests import factories
from tests.reports_factories import at, credit, quarter_world
from timebank.core.audit import AuditEvent
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.reports import operations as reports
from timebank.reports import periods
from timebank.reports.models import Certificate


@pytest.fixture
def w(app, clock):
    world = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    return world


def issued(w, **kwargs):
    cert = reports.issue_certificate(
        w["alice"], actor=w["organizer_a"], first=date(2026, 1, 1), last=date(2026, 3, 31),
        details=reports.IssueDetails("上坎社区居民委员会", "周主任", "0931-7550000"), **kwargs,
    )  # fmt: skip
    db.session.commit()
    return cert


def test_a_volunteer_asks_and_an_organizer_issues(client, login, token_for, w):
    alice, organizer = w["alice"], w["organizer_a"]
    response = client.post(
        "/api/v1/certificates",
        json={"from": "2026-01-01", "to": "2026-03-31", "minutes_wanted": 120,
              "purpose": "学校社会实践", "id_type": "resident_id",
              "id_number": "620102199001011234"},
        headers=token_for(alice),
    )  # fmt: skip
    assert response.status_code == 201, response.json
    assert response.json["status"] == "requested" and response.json["signed"] is None
    assert response.json["id_number"] == "620102********1234"
    cert_id = response.json["id"]
    approve = client.post(
        f"/api/v1/certificates/{cert_id}/approve",
        json={"issuer_name": "上坎社区居民委员会", "responsible_person": "周主任"},
        headers=token_for(organizer),
    )
    assert approve.status_code == 200, approve.json
    body = approve.json
    assert body["status"] == "issued" and body["minutes"] == 180 and body["manual_minutes"] == 0
    assert body["name"] == "王秀英" and body["handler_name"] == "李建华"
    assert [line[1:] for line in body["service"]] == [["垃圾分类督导", 120, 1], ["助老送餐", 60, 1]]
    assert body["entry_watermark"] and "/verify/" in body["verify_url"]
    again = client.post(f"/api/v1/certificates/{cert_id}/approve", json={},
                        headers=token_for(organizer))  # fmt: skip
    assert again.status_code == 409 and again.json["code"] == "certificate_decided"
    login(alice)
    page = client.get(f"/certificates/{body['serial']}").get_data(as_text=True)
    assert "620102********1234" in page and "<svg" in page and "@page" not in page
    assert "data-print" in page and "王秀英" in page


def test_requests_for_hours_not_there_are_refused_and_write_nothing(client, token_for, w):
    carol = w["carol"]  # 30 verified minutes in Q1
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    for body, code in (
        ({"from": "2026-01-01", "to": "2026-03-31", "minutes_wanted": 60}, "not_enough_hours"),
        ({"from": "2025-01-01", "to": "2025-12-31"}, "not_enough_hours"),
        ({"from": "2026-03-31", "to": "2026-01-01"}, "period_backwards"),
        ({"from": "2010-01-01", "to": "2026-01-01"}, "period_too_long"),
        ({"from": "2027-01-01", "to": "2027-01-31"}, "invalid_input"),
    ):
        response = client.post("/api/v1/certificates", json=body, headers=token_for(carol))
        assert response.status_code == 422 and response.json["code"] == code, response.json
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before
    stranger = factories.create_member(w["b"], roles=("organizer",))
    db.session.commit()
    issue_for_alice = client.post(
        f"/api/v1/members/{w['alice'].id}/certificates",
        json={"from": "2026-01-01", "to": "2026-03-31"},
        headers=token_for(stranger),
    )
    assert issue_for_alice.status_code == 403


def test_verify_genuine_altered_revoked_and_unknown(client, w):
    cert = issued(w)
    digest = reports.content_digest(cert)
    genuine = client.get(f"/verify/{cert.serial}?d={digest}")
    html = genuine.get_data(as_text=True)
    assert genuine.status_code == 200 and 'data-verdict="genuine"' in html
    assert "王**" in html and "王秀英" not in html and 'data-minutes="180"' in html
    assert "2026-01-01 – 2026-03-31" in html and "上坎社区居民委员会" in html
    # typed by hand, in lower case with spaces: the same certificate
    assert client.get(f"/verify/{cert.serial.lower().replace('-', ' ')}").status_code == 200
    for column, value in (("minutes", 600), ("name", "王秀"), ("period_first", date(2025, 1, 1))):
        original = getattr(cert, column)
        db.session.execute(
            sa.update(Certificate).where(Certificate.id == cert.id).values({column: value})
        )
        db.session.commit()
        altered = client.get(f"/verify/{cert.serial}").get_data(as_text=True)
        assert 'data-verdict="mismatch"' in altered, column
        db.session.execute(
            sa.update(Certificate).where(Certificate.id == cert.id).values({column: original})
        )
        db.session.commit()
    stale = client.get(f"/verify/{cert.serial}?d=0000000000000000").get_data(as_text=True)
    assert 'data-verdict="mismatch"' in stale  # the QR code of another version
    reports.revoke_certificate(cert.id, actor=w["organizer_a"], reason="时长登记有误")
    db.session.commit()
    revoked = client.get(f"/verify/{cert.serial}")
    assert revoked.status_code == 410 and "时长登记有误" in revoked.get_data(as_text=True)
    assert client.get("/verify/ZZZZ-ZZZZ-ZZZZ").status_code == 404


def test_the_signature_checks_offline_with_the_published_key(client, token_for, w):
    cert = issued(w)
    published = client.get("/.well-known/timebank-keys").json
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(published["public_key"]))
    detail = client.get(f"/api/v1/certificates/{cert.serial}", headers=token_for(w["alice"])).json
    signed = detail["signed"]
    assert signed["key_id"] == published["key_id"]
    content = signed["signed_content"].encode()
    key.verify(base64.b64decode(signed["signature"]), content)  # raises if it does not hold
    parsed = json.loads(content)
    assert content == json.dumps(parsed, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False).encode()  # fmt: skip
    assert parsed["minutes"] == 180 and parsed["name"] == "王秀英" and parsed["v"] == 1
    assert (
        parsed["entries_sha256"]
        == hashlib.sha256(
            ",".join(map(str, sorted(json.loads(cert.entry_ids)))).encode()
        ).hexdigest()
    )
    parsed["minutes"] = 1800
    forged = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(InvalidSignature):
        key.verify(base64.b64decode(signed["signature"]), forged.encode())
    stranger = factories.create_member(w["b"])
    db.session.commit()
    assert client.get(f"/api/v1/certificates/{cert.serial}",
                      headers=token_for(stranger)).status_code == 403  # fmt: skip


def test_nobody_issues_their_own_certificate(w, clock):
    organizer, second = w["organizer_a"], factories.create_member(w["a"], roles=("organizer",))
    credit(clock, organizer, w["a"], second, minutes=60, points=0, when=at("2026-02-01T02:00"))
    clock.freeze(at("2026-04-02T02:00"))
    with pytest.raises(DomainError) as error:
        reports.issue_certificate(
            organizer, actor=organizer, first=date(2026, 1, 1), last=date(2026, 3, 31)
        )
    assert error.value.code == "four_eyes"
    cert = reports.issue_certificate(
        organizer, actor=second, first=date(2026, 1, 1), last=date(2026, 3, 31)
    )
    assert cert.status == "issued" and cert.minutes == 60 and cert.issuer_name == "上坎社区"


@pytest.mark.concurrent
def test_two_organizers_approve_one_request_exactly_once(app, w):
    second = factories.create_member(w["a"], roles=("organizer",))
    cert = reports.request_certificate(
        w["alice"], actor=w["alice"], first=date(2026, 1, 1), last=date(2026, 3, 31)
    )
    db.session.commit()
    cert_id, deciders = cert.id, [w["organizer_a"].id, second.id]
    outcomes: list = [None, None]
    barrier = threading.Barrier(2)

    def approve(n):
        from timebank.people.models import Member

        with app.app_context():
            try:
                barrier.wait()
                actor = db.session.get(Member, deciders[n])
                outcomes[n] = reports.approve_certificate(cert_id, actor=actor).status
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                outcomes[n] = error.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["certificate_decided", "issued"], outcomes
    events = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "certificate.issue")
    )
    assert events == 1


def test_a_member_stays_off_public_lists_through_the_api(client, token_for, w):
    """The page's "leave me off public lists", for a phone: the honour roll drops them."""
    headers = token_for(w["alice"])
    assert client.get("/api/v1/me/list-preference", headers=headers).json == {"hidden": False}
    bad = client.put("/api/v1/me/list-preference", json={"hidden": "maybe"}, headers=headers)
    assert bad.status_code == 422 and "hidden" in bad.json["errors"]
    put = client.put("/api/v1/me/list-preference", json={"hidden": True}, headers=headers)
    assert put.status_code == 200 and put.json == {"hidden": True}
    q1 = periods.parse("quarter", "2026Q1")
    assert "王秀英" not in [p.member.name for p in reports.honour_roll(w["a"].id, q1)]
    client.put("/api/v1/me/list-preference", json={"hidden": False}, headers=headers)
    assert client.get("/api/v1/me/list-preference", headers=headers).json == {"hidden": False}
