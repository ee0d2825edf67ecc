"""Admins search the audit trail (API and page) and export it as CSV; nobody else may."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from timebank.core.audit import AuditEvent, record_audit
from timebank.extensions import db


@pytest.fixture
def trail(district, make_member):
    """An admin, an organizer, two residents, and acts among them at known times."""
    admin = make_member(district["street"], roles=("admin",), name="管理员甲")
    organizer = make_member(district["a"], roles=("organizer",), name="组织者乙")
    resident = make_member(district["building_a"], name="居民丙")
    other = make_member(district["b"], name="居民丁")
    base = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
    rows = [
        ("member.approve", organizer, resident, None, "unit:707", {"status": "pending"}, None, 0),
        ("member.edit", organizer, resident, None, None, {"name": "旧名"}, {"name": "居民丙"}, 1),
        ("party.register", organizer, other, resident, "unit:909", None, {"branch": "=SUM(A1)"}, 2),
        ("role.grant", admin, organizer, None, "unit:707", None, None, 3),
    ]
    for action, actor, subject, behalf, target, before, after, days in rows:
        event = record_audit(
            action,
            actor=actor,
            subject=subject,
            on_behalf_of=behalf,
            target=target,
            before=before,
            after=after,
            detail="详情",
        )
        event.created_at = base + timedelta(days=days)
    db.session.commit()
    return {"admin": admin, "organizer": organizer, "resident": resident, "other": other}


def _search(client, headers, **query):
    response = client.get("/api/v1/audit", query_string=query, headers=headers)
    return response


def test_admin_searches_by_each_filter(client, trail, token_for):
    headers = token_for(trail["admin"])
    everything = _search(client, headers).get_json()
    # the fixture's four acts, plus what creating the members recorded
    ours = [e for e in everything["items"] if e["detail"] == "详情"]
    assert len(ours) == 4 and everything["total"] >= 4

    by_actor = _search(client, headers, actor_id=trail["admin"].id).get_json()
    assert [e["action"] for e in by_actor["items"]] == ["role.grant"]
    assert by_actor["items"][0]["actor_name"] == "管理员甲"
    assert by_actor["items"][0]["subject_name"] == "组织者乙"

    # a member is found as the subject and as the one acted for
    about = _search(client, headers, member_id=trail["resident"].id, action="member.").get_json()
    assert {e["action"] for e in about["items"]} == {
        "member.approve",
        "member.edit",
        "member.create",
    }
    behalf = _search(client, headers, member_id=trail["resident"].id, action="party.register")
    (row,) = behalf.get_json()["items"]
    assert row["on_behalf_of_name"] == "居民丙" and row["subject_name"] == "居民丁"
    assert row["after"] == {"branch": "=SUM(A1)"}

    edit = _search(client, headers, action="member.edit").get_json()["items"][0]
    assert edit["before"] == {"name": "旧名"} and edit["after"] == {"name": "居民丙"}

    on_unit = _search(client, headers, target_type="unit", target_id="707").get_json()
    assert {e["action"] for e in on_unit["items"]} == {"member.approve", "role.grant"}
    any_unit = _search(client, headers, target_type="unit").get_json()
    # besides the district's units, created by the factories (unit.create, by the system)
    assert len([e for e in any_unit["items"] if e["action"] != "unit.create"]) == 3

    # local days (Asia/Shanghai), both ends included
    days = _search(client, headers, **{"from": "2026-11-21", "to": "2026-11-22"}).get_json()
    assert {e["action"] for e in days["items"]} == {"member.edit", "party.register"}


def test_paging(client, trail, token_for):
    headers = token_for(trail["admin"])
    total = _search(client, headers).get_json()["total"]
    first = _search(client, headers, per_page=2, page=1).get_json()
    second = _search(client, headers, per_page=2, page=2).get_json()
    assert first["total"] == total and len(first["items"]) == 2
    assert first["items"][0]["id"] > first["items"][1]["id"] > second["items"][0]["id"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "2026-11-23", "to": "2026-11-21"}, "from"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"actor_id": "abc"}, "actor_id"),
        ({"action": "DROP TABLE"}, "action"),
        ({"target_id": "7"}, "target_type"),
        ({"per_page": "1000"}, "per_page"),
    ],
)
def test_bad_filters_are_problems(client, trail, token_for, query, field):
    for path in ("/api/v1/audit", "/api/v1/audit.csv"):
        response = client.get(path, query_string=query, headers=token_for(trail["admin"]))
        assert response.status_code == 422, (path, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["code"] in ("invalid_input", "unprocessable_entity", "validation_error")
        assert field in str(body["errors"])


def test_only_admins_may_search(client, trail, token_for):
    for who in ("organizer", "resident"):
        for path in ("/api/v1/audit", "/api/v1/audit.csv"):
            response = client.get(path, headers=token_for(trail[who]))
            assert response.status_code == 403, (who, path)
            assert response.get_json()["code"] == "forbidden"
    assert client.get("/api/v1/audit").status_code == 401


def test_csv_export(client, trail, token_for):
    record_audit("member.edit", actor=trail["organizer"], subject=trail["resident"], detail="=1+1")
    db.session.commit()
    response = client.get(
        "/api/v1/audit.csv",
        query_string={"member_id": trail["resident"].id},
        headers=token_for(trail["admin"]),
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response.headers["Content-Disposition"].endswith('.csv"')
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {r["action"] for r in rows} == {
        "member.create",
        "role.grant",
        "member.approve",
        "member.edit",
        "party.register",
    }
    party = next(r for r in rows if r["action"] == "party.register")
    assert party["actor_name"] == "组织者乙" and party["on_behalf_of_name"] == "居民丙"
    assert party["created_at"] == "2026-11-22T10:00:00+08:00"
    assert party["after"] == '{"branch": "=SUM(A1)"}'
    assert "'=1+1" in {r["detail"] for r in rows}  # a formula is not run by a spreadsheet


def test_csv_streams_every_row_in_batches(client, trail, token_for, monkeypatch):
    from timebank.audit import operations

    monkeypatch.setattr(operations, "CSV_BATCH", 2)
    for n in range(5):
        record_audit(
            "member.edit", actor=trail["organizer"], subject=trail["other"], detail=f"n{n}"
        )
    db.session.commit()
    response = client.get(
        "/api/v1/audit.csv",
        query_string={"action": "member.edit"},
        headers=token_for(trail["admin"]),
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    expected = db.session.scalars(
        db.select(AuditEvent.id)
        .where(AuditEvent.action == "member.edit")
        .order_by(AuditEvent.id.desc())
    ).all()
    assert [int(r["id"]) for r in rows] == expected and len(expected) == 6


@pytest.mark.parametrize(
    "language, words",
    [
        ("zh_CN", ("审计日志", "下载 CSV", "登记已通过", "名称：旧名")),
        ("en", ("Audit log", "Download CSV", "Registration approved", "name: 旧名")),
    ],
)
def test_the_page_in_both_languages(client, trail, login, language, words):
    admin = trail["admin"]
    admin.locale = language
    db.session.commit()
    login(admin)
    home = client.get("/").get_data(as_text=True)
    assert 'id="audit-link"' in home
    response = client.get("/admin/audit", query_string={"member_id": trail["resident"].id})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for word in words:
        assert word in html, word
    assert "组织者乙" in html and "居民丙" in html  # names, not numbers
    assert "2026-11-20 10:00:00" in html  # local time
    assert "name: 旧名" not in html or language == "en"  # the before summary, in words

    csv_link = client.get(
        "/admin/audit", query_string={"member_id": trail["resident"].id, "format": "csv"}
    )
    assert csv_link.mimetype == "text/csv", csv_link.get_data(as_text=True)[-1500:]
    text = csv_link.get_data().decode("utf-8-sig")
    assert "组织者乙" in text
    header = text.splitlines()[0]  # the page's download says its columns in the reader's words
    assert header.startswith("编号,时间," if language == "zh_CN" else "Number,When,"), header
    assert "actor_id" not in header


def test_the_page_says_what_is_wrong_and_is_for_admins_only(client, trail, login):
    login(trail["admin"])
    response = client.get("/admin/audit", query_string={"from": "2026-11-23", "to": "2026-11-21"})
    assert response.status_code == 200
    assert 'id="audit-problem"' in response.get_data(as_text=True)
    bad_date = client.get("/admin/audit", query_string={"from": "2026-13-01"})
    assert bad_date.status_code == 200 and 'id="audit-problem"' in bad_date.get_data(as_text=True)
    client.post("/logout")
    login(trail["organizer"])
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit", query_string={"format": "csv"}).status_code == 403
