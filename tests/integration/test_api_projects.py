"""The three lists through the JSON API: the whole loop from a resident's need to verified
hours and a resolved need, contact details, errors with their codes, photos, bulk
approval and its idempotency, partner organizations, filters."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.projects_factories import JPEG, PNG
from timebank.extensions import db
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.units import operations as units


def today() -> str:
    return projects.local_date(datetime.now(UTC)).isoformat()


@pytest.fixture
def s(app, district, make_member, token_for, tmp_path):
    """A community with its organizer (a grid worker), a volunteer, a party member, and a
    resident without a smartphone; bearer headers for each."""
    app.config["TIMEBANK_PHOTO_DIR"] = str(tmp_path / "photos")
    a, home = district["a"], district["building_a"]
    cast = {
        "organizer": make_member(a, roles=("organizer",), name="上坎网格长"),
        "volunteer": make_member(home, name="王秀英"),
        "party": make_member(home, name="刘建国"),
        "resident": make_member(home, name="独居的赵奶奶", password=None),
        "stranger": make_member(district["b"], name="古浪路居民"),
        "other_organizer": make_member(district["b"], roles=("organizer",)),
    }
    cast["resident"].has_smartphone = False
    people.register_party(
        cast["party"],
        branch="兰州石化公司第二党支部",
        reported_unit_id=a.id,
        reported_on=date(2026, 1, 5),
    )
    db.session.commit()
    headers = {name: token_for(m) for name, m in cast.items() if name != "resident"}
    return {"d": district, "m": cast, "h": headers}


def project_body(s, **fields):
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {
        "unit_id": s["d"]["a"].id,
        "title": "下水管道疏通",
        "category": "sanitation",
        "places": 2,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "points_per_hour": 10,
        "publish": True,
    }
    body.update(fields)
    return body


def test_from_a_residents_need_to_verified_hours_and_a_resolved_need(client, s):
    """点单: a grid worker files for a resident without a phone; 派单: the community
    publishes a project and assigns; 接单: a party member accepts; hours are reported,
    approved and credited; the project is verified and the need resolved and rated."""
    h, m = s["h"], s["m"]
    filed = client.post(
        "/api/v1/needs",
        headers=h["organizer"],
        json={
            "title": "污水外溢",
            "category": "sanitation",
            "urgency": "urgent",
            "description": "101号楼下水井冒水,气味很大",
            "resident_id": m["resident"].id,
        },
    )
    assert filed.status_code == 201, filed.json
    need = filed.json
    assert need["filed_on_behalf"] and need["resident_name"] == "独居的赵奶奶"
    assert need["filed_by_name"] == "上坎网格长" and need["status"] == "open"

    created = client.post(
        "/api/v1/projects", headers=h["organizer"], json=project_body(s, need_ids=[need["id"]])
    )
    assert created.status_code == 201, created.json
    project = created.json
    assert (project["status"], project["need_ids"], project["places_taken"]) == (
        "open",
        [need["id"]],
        0,
    )
    pid = project["id"]
    assigned = client.post(
        f"/api/v1/projects/{pid}/assign", headers=h["organizer"], json={"member_id": m["party"].id}
    )
    assert assigned.status_code == 201 and assigned.json["status"] == "pending"
    mine = client.get("/api/v1/me/projects", headers=h["party"]).json
    assert [(c["project_title"], c["status"]) for c in mine] == [("下水管道疏通", "pending")]
    accepted = client.post(f"/api/v1/assignments/{assigned.json['id']}/accept", headers=h["party"])
    assert accepted.status_code == 200 and accepted.json["status"] == "active"
    claimed = client.post(f"/api/v1/projects/{pid}/claim", headers=h["volunteer"])
    assert claimed.status_code == 200 and claimed.json[0]["kind"] == "volunteer"
    assert client.get(f"/api/v1/projects/{pid}", headers=h["party"]).json["status"] == "staffed"

    # the project starts (the clock cannot move here: the schedule is moved instead)
    proj = projects.get_project(pid)
    proj.starts_at -= timedelta(hours=2)
    db.session.commit()
    started = client.post(
        f"/api/v1/projects/{pid}/status", headers=h["organizer"], json={"status": "in_progress"}
    )
    assert started.status_code == 200 and started.json["status"] == "in_progress"
    logged = client.post(
        "/api/v1/hour-logs",
        headers=h["party"],
        json={
            "project_id": pid,
            "served_on": today(),
            "minutes": 120,
            "description": "疏通下水井,清理淤泥两车",
        },
    )
    assert logged.status_code == 201, logged.json
    log_id = logged.json["id"]
    photo = client.post(
        f"/api/v1/hour-logs/{log_id}/photo",
        headers=h["party"],
        data={"file": (io.BytesIO(JPEG), "现场.jpg")},
    )
    assert photo.status_code == 200 and photo.json["has_photo"]

    queue = client.get(f"/api/v1/units/{s['d']['a'].id}/hour-logs", headers=h["organizer"]).json
    assert [item["id"] for item in queue["items"]] == [log_id]
    approved = client.post(
        "/api/v1/hour-logs/approve", headers=h["organizer"], json={"ids": [log_id]}
    )
    assert approved.status_code == 200, approved.json
    assert approved.json["refused"] == []
    assert approved.json["decided"][0]["credited_minutes"] == 120
    balances = client.get("/api/v1/me/balances", headers=h["party"]).json
    assert (balances["HOURS"], balances["POINTS"]) == (120, 20)
    statement = client.get("/api/v1/me/transfers", headers=h["party"]).json["items"]
    assert {(t["code"], t["reference_type"], t["reference_id"]) for t in statement} == {
        ("earn_project", "hour_log", str(log_id))
    }
    party = client.get(
        f"/api/v1/units/{s['d']['a'].id}/party-attendance", headers=h["organizer"]
    ).json
    assert {r["name"]: r["project_minutes"] for r in party} == {"刘建国": 120}

    for status in ("done", "verified"):
        moved = client.post(
            f"/api/v1/projects/{pid}/status", headers=h["organizer"], json={"status": status}
        )
        assert moved.status_code == 200, moved.json
    resolved = client.get(f"/api/v1/needs/{need['id']}", headers=h["organizer"]).json
    assert resolved["status"] == "resolved" and resolved["project_ids"] == [pid]
    rated = client.post(
        f"/api/v1/needs/{need['id']}/confirm",
        headers=h["organizer"],
        json={"rating": 5, "feedback": "赵奶奶说下水通了"},
    )
    assert rated.status_code == 200 and rated.json["rating"] == 5
    history = client.get(f"/api/v1/projects/{pid}/history", headers=h["volunteer"]).json
    assert [e["to_status"] for e in history if e["kind"] == "status"] == [
        "draft",
        "open",
        "staffed",
        "in_progress",
        "done",
        "verified",
    ]
    # a fellow volunteer's name is masked for a volunteer (core/privacy.py), not for organizers
    assert {e["actor_name"] for e in history} >= {"上坎网格长", "刘**", "王秀英"}
    by_organizer = client.get(f"/api/v1/projects/{pid}/history", headers=h["organizer"]).json
    assert {e["actor_name"] for e in by_organizer} >= {"上坎网格长", "刘建国", "王秀英"}


def test_contact_details_only_for_those_who_handle_the_need(client, s):
    h = s["h"]
    filed = client.post(
        "/api/v1/needs",
        headers=h["volunteer"],
        json={"title": "飞线充电", "category": "safety", "contact_phone": "0931-7654321"},
    )
    need_id = filed.json["id"]
    assert filed.json["contact_phone"] == "0931-7654321"  # one's own
    for name, phone in (
        ("organizer", "0931-7654321"),
        ("party", None),
        ("stranger", None),
        ("other_organizer", None),
    ):
        assert (
            client.get(f"/api/v1/needs/{need_id}", headers=h[name]).json["contact_phone"] == phone
        ), name
    listed = client.get("/api/v1/needs", headers=h["party"]).json["items"]
    assert [(n["title"], n["contact_name"]) for n in listed] == [("飞线充电", None)]


def test_errors_have_their_own_codes(client, s):
    h = s["h"]
    draft = client.post(
        "/api/v1/projects", headers=h["organizer"], json=project_body(s, publish=False)
    ).json
    pid = draft["id"]
    # a draft is for its organizers only
    assert client.get(f"/api/v1/projects/{pid}", headers=h["volunteer"]).status_code == 403
    assert "下水管道疏通" not in str(client.get("/api/v1/projects", headers=h["volunteer"]).json)
    illegal = client.post(
        f"/api/v1/projects/{pid}/status", headers=h["organizer"], json={"status": "verified"}
    )
    assert (illegal.status_code, illegal.json["code"]) == (409, "illegal_transition")
    assert illegal.headers["Content-Type"] == "application/problem+json"
    cancel = client.post(
        f"/api/v1/projects/{pid}/status", headers=h["organizer"], json={"status": "cancelled"}
    )
    assert (cancel.status_code, cancel.json["code"]) == (422, "reason_required")
    opened = client.post(
        f"/api/v1/projects/{pid}/status", headers=h["organizer"], json={"status": "open"}
    )
    assert opened.status_code == 200
    log = client.post(
        "/api/v1/hour-logs",
        headers=h["volunteer"],
        json={"project_id": pid, "served_on": today(), "minutes": 60, "description": "x"},
    )
    assert (log.status_code, log.json["code"]) == (409, "project_not_running")
    bad = client.post(
        "/api/v1/needs", headers=h["volunteer"], json={"title": "x", "category": "weather"}
    )
    assert (bad.status_code, bad.json["code"]) == (422, "invalid_input")
    need = client.post(
        "/api/v1/needs",
        headers=h["volunteer"],
        json={"title": "路灯不亮", "category": "facilities"},
    ).json
    rating = client.post(
        f"/api/v1/needs/{need['id']}/confirm", headers=h["volunteer"], json={"rating": 9}
    )
    assert rating.status_code == 422
    early = client.post(
        f"/api/v1/needs/{need['id']}/confirm", headers=h["volunteer"], json={"rating": 5}
    )
    assert (early.status_code, early.json["code"]) == (409, "need_not_resolved")
    not_a_wish = client.post(f"/api/v1/needs/{need['id']}/take", headers=h["party"])
    assert (not_a_wish.status_code, not_a_wish.json["code"]) == (409, "not_a_wish")


def test_bulk_approval_approves_the_valid_ones_and_is_idempotent(client, s):
    h, m = s["h"], s["m"]
    project = client.post(
        "/api/v1/projects", headers=h["organizer"], json=project_body(s, places=3)
    ).json
    pid = project["id"]
    for name in ("volunteer", "party"):
        client.post(f"/api/v1/projects/{pid}/claim", headers=h[name])
    projects.get_project(pid).starts_at -= timedelta(hours=2)
    db.session.commit()
    client.post(
        f"/api/v1/projects/{pid}/status", headers=h["organizer"], json={"status": "in_progress"}
    )
    ids = []
    for name in ("volunteer", "party"):
        logged = client.post(
            "/api/v1/hour-logs",
            headers=h[name],
            json={"project_id": pid, "served_on": today(), "minutes": 60, "description": "巡查"},
        )
        ids.append(logged.json["id"])
    rejected = client.post(
        "/api/v1/hour-logs/reject",
        headers=h["organizer"],
        json={"ids": [ids[1]], "reason": "当天不在现场"},
    )
    assert rejected.json["decided"][0]["status"] == "rejected"
    answer = client.post(
        "/api/v1/hour-logs/approve", headers=h["organizer"], json={"ids": [*ids, 2147483647]}
    )
    assert answer.status_code == 200
    assert [log["id"] for log in answer.json["decided"]] == [ids[0]]
    assert {(r["id"], r["code"]) for r in answer.json["refused"]} == {
        (ids[1], "hour_log_decided"),
        (2147483647, "hour_log_not_found"),
    }
    again = client.post("/api/v1/hour-logs/approve", headers=h["organizer"], json={"ids": [ids[0]]})
    assert again.json["decided"][0]["status"] == "approved"
    assert client.get("/api/v1/me/balances", headers=h["volunteer"]).json["HOURS"] == 60
    assert len(client.get("/api/v1/me/transfers", headers=h["volunteer"]).json["items"]) == 2
    # out of scope: 403, nothing approved; and nobody approves their own
    other = client.post(
        "/api/v1/hour-logs/approve", headers=h["other_organizer"], json={"ids": [ids[0]]}
    )
    assert other.status_code == 403
    assert (
        client.post(
            "/api/v1/hour-logs/approve", headers=h["volunteer"], json={"ids": [ids[0]]}
        ).status_code
        == 403
    )
    m["party"].roles  # noqa: B018 - loaded before granting below
    people.grant_role(m["party"], "organizer", s["d"]["a"].id)
    db.session.commit()
    logged = client.post(
        "/api/v1/hour-logs",
        headers=h["party"],
        json={"project_id": pid, "served_on": today(), "minutes": 30, "description": "补记"},
    )
    own = client.post(
        "/api/v1/hour-logs/approve", headers=h["party"], json={"ids": [logged.json["id"]]}
    )
    assert own.json["refused"][0]["code"] == "four_eyes"


def test_photos_are_checked_and_only_shown_to_who_may_see_the_log(client, s, app):
    h = s["h"]
    project = client.post("/api/v1/projects", headers=h["organizer"], json=project_body(s)).json
    pid = project["id"]
    client.post(f"/api/v1/projects/{pid}/claim", headers=h["volunteer"])
    projects.get_project(pid).starts_at -= timedelta(hours=2)
    db.session.commit()
    client.post(
        f"/api/v1/projects/{pid}/status", headers=h["organizer"], json={"status": "in_progress"}
    )
    log_id = client.post(
        "/api/v1/hour-logs",
        headers=h["volunteer"],
        json={"project_id": pid, "served_on": today(), "minutes": 45, "description": "送餐"},
    ).json["id"]
    url = f"/api/v1/hour-logs/{log_id}/photo"
    assert client.get(url, headers=h["volunteer"]).json["code"] == "photo_not_found"
    fake = client.post(
        url,
        headers=h["volunteer"],
        data={"file": (io.BytesIO(b"<html>" + b" " * 100), "photo.jpg")},
    )
    assert (fake.status_code, fake.json["code"]) == (422, "invalid_photo")
    app.config["TIMEBANK_PHOTO_MAX_BYTES"] = 40
    big = client.post(url, headers=h["volunteer"], data={"file": (io.BytesIO(PNG), "p.png")})
    assert (big.status_code, big.json["code"]) == (413, "photo_too_large")
    app.config["TIMEBANK_PHOTO_MAX_BYTES"] = 3_145_728
    assert (
        client.post(
            url, headers=h["volunteer"], data={"file": (io.BytesIO(PNG), "p.png")}
        ).status_code
        == 200
    )
    for name, status in (
        ("volunteer", 200),
        ("organizer", 200),
        ("party", 403),
        ("other_organizer", 403),
    ):
        got = client.get(url, headers=h[name])
        assert got.status_code == status, name
    shown = client.get(url, headers=h["organizer"])
    assert shown.data == PNG and shown.headers["Content-Type"] == "image/png"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    # only the member who served adds a photo
    assert (
        client.post(url, headers=h["party"], data={"file": (io.BytesIO(PNG), "p.png")}).status_code
        == 403
    )


def test_a_partner_organization_claims_through_its_contact(client, s, make_member, token_for):
    h, d = s["h"], s["d"]
    org = units.create_organization(
        unit_id=d["street"].id, name="兰州石化公司", kind="company", contact=None
    )
    db.session.commit()
    contact = make_member(d["building_a"], name="石化工会李主席")
    worker = make_member(d["b"], name="石化职工小周")
    for member, role in ((contact, "contact"), (worker, "member")):
        # the street's organizers name who acts for it; the community's may not
        refused = client.post(
            f"/api/v1/organizations/{org.id}/members",
            headers=h["organizer"],
            json={"member_id": member.id, "role": role},
        )
        assert refused.status_code == 403
        projects.add_organization_member(org, member, role=role, actor=None)
        db.session.commit()
    pid = client.post(
        "/api/v1/projects", headers=h["organizer"], json=project_body(s, places=3)
    ).json["id"]
    body = {"organization_id": org.id, "member_ids": [contact.id, worker.id]}
    by_volunteer = client.post(f"/api/v1/projects/{pid}/claim", headers=h["volunteer"], json=body)
    assert (by_volunteer.status_code, by_volunteer.json["code"]) == (
        403,
        "not_organization_contact",
    )
    claimed = client.post(f"/api/v1/projects/{pid}/claim", headers=token_for(contact), json=body)
    assert claimed.status_code == 200, claimed.json
    assert {(c["member_name"], c["organization_name"]) for c in claimed.json} == {
        ("石化工会李主席", "兰州石化公司"),
        ("石化职工小周", "兰州石化公司"),
    }
    withdrawn = client.post(
        f"/api/v1/projects/{pid}/withdraw",
        headers=token_for(contact),
        json={"member_id": worker.id, "reason": "临时加班"},
    )
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    claims = client.get(f"/api/v1/projects/{pid}/claims", headers=h["volunteer"]).json
    assert sorted(c["status"] for c in claims) == ["active", "withdrawn"]


def test_lists_filter_by_unit_category_and_state(client, s):
    h, d = s["h"], s["d"]
    for title, category in (("污水外溢", "sanitation"), ("路灯不亮", "facilities")):
        client.post(
            "/api/v1/needs", headers=h["volunteer"], json={"title": title, "category": category}
        )
    client.post(
        "/api/v1/needs", headers=h["stranger"], json={"title": "停车难", "category": "other"}
    )
    wish = client.post(
        "/api/v1/needs",
        headers=h["party"],
        json={"title": "老人想要一辆轮椅", "category": "elderly_care", "is_wish": True},
    ).json
    street = d["street"].id

    def titles(query, who="organizer"):
        return sorted(
            n["title"] for n in client.get(f"/api/v1/needs?{query}", headers=h[who]).json["items"]
        )

    assert titles(f"unit_id={street}") == ["污水外溢", "老人想要一辆轮椅", "路灯不亮"]
    assert titles(f"unit_id={street}", who="stranger") == ["停车难"]
    assert titles("category=facilities") == ["路灯不亮"]
    assert titles("wish=true") == ["老人想要一辆轮椅"]
    taken = client.post(f"/api/v1/needs/{wish['id']}/take", headers=h["volunteer"])
    assert taken.json["status"] == "accepted"
    assert titles("status=accepted") == ["老人想要一辆轮椅"]
    assert titles(f"unit_id={d['b'].id}") == []
    client.post(
        "/api/v1/projects",
        headers=h["organizer"],
        json=project_body(s, category="facilities", title="路灯维修"),
    )
    listed = client.get(
        "/api/v1/projects?category=facilities&status=open", headers=h["volunteer"]
    ).json
    assert [p["title"] for p in listed["items"]] == ["路灯维修"]
    offered = client.post(
        "/api/v1/resources",
        headers=h["volunteer"],
        json={"title": "会修电器", "category": "skills", "availability": "周末"},
    )
    assert offered.status_code == 201 and offered.json["provider_name"] == "王秀英"
    resources = client.get("/api/v1/resources?category=skills", headers=h["party"]).json
    assert [r["title"] for r in resources["items"]] == ["会修电器"]
    mine = client.post(f"/api/v1/resources/{offered.json['id']}/withdraw", headers=h["volunteer"])
    assert mine.json["status"] == "withdrawn"
