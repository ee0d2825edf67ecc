import io

from tests import factories


def test_organizer_creates_units_in_own_subtree(client, district, make_member, token_for):
    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    created = client.post(
        "/api/v1/units",
        headers=headers,
        json={"name": "第2网格", "kind": "grid", "parent_id": district["a"].id},
    )
    assert created.status_code == 201
    assert created.json["depth"] == 2
    tree = client.get(f"/api/v1/units/{district['a'].id}/tree", headers=headers)
    assert {c["name"] for c in tree.json["children"]} == {"第1网格", "第2网格"}
    listed = client.get("/api/v1/units", headers=headers)
    assert {u["id"] for u in listed.json} == {
        district["a"].id,
        district["grid_a"].id,
        district["building_a"].id,
        created.json["id"],
    }


def test_unit_input_errors_have_one_shape(client, district, make_member, token_for):
    admin = make_member(district["street"], roles=("admin",))
    headers = token_for(admin)
    cases = [
        ({"name": "x", "kind": "planet", "parent_id": district["a"].id}, 422, "kind"),
        ({"name": "x", "kind": "grid", "parent_id": "7"}, 422, "parent_id"),
        ({"name": "x", "kind": "grid", "parent_id": 10**12}, 422, "parent_id"),
        ({"name": "x", "kind": "grid", "parent_id": 1, "colour": "red"}, 422, "colour"),
        ({"kind": "grid"}, 422, "name"),
    ]
    for body, status, field in cases:
        response = client.post("/api/v1/units", headers=headers, json=body)
        assert response.status_code == status, (body, response.json)
        assert response.mimetype == "application/problem+json"
        assert field in response.json["errors"], response.json
    missing_parent = client.post(
        "/api/v1/units", headers=headers, json={"name": "x", "kind": "grid", "parent_id": 999999}
    )
    assert missing_parent.status_code == 404 and missing_parent.json["code"] == "unit_not_found"
    duplicate = client.post(
        "/api/v1/units",
        headers=headers,
        json={"name": "第1网格", "kind": "grid", "parent_id": district["a"].id},
    )
    assert duplicate.status_code == 409 and duplicate.json["code"] == "unit_exists"
    not_json = client.post(
        "/api/v1/units", headers=headers, data="{", content_type="application/json"
    )
    assert not_json.status_code in (400, 422) and not_json.mimetype == "application/problem+json"


def test_framework_errors_use_problem_json(client, district, make_member, token_for):
    headers = token_for(make_member(district["a"]))
    not_found = client.get("/api/v1/nothing-here", headers=headers)
    assert not_found.status_code == 404 and not_found.json["code"] == "not_found"
    huge = client.get(f"/api/v1/units/{10**30}", headers=headers)
    assert huge.status_code == 404
    wrong_method = client.put("/api/v1/units", headers=headers)
    assert wrong_method.status_code == 405
    assert wrong_method.json["code"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]


def test_members_list_filters_party_report(client, district, make_member, token_for):
    from datetime import date

    from timebank.extensions import db
    from timebank.people import operations as people

    organizer = make_member(district["a"], roles=("organizer",))
    reported = make_member(district["building_a"], name="甲")
    silent = make_member(district["building_a"], name="乙")
    people.register_party(
        reported, branch="一支部", reported_unit_id=district["a"].id, reported_on=date(2024, 1, 2)
    )
    people.register_party(silent, branch="二支部")
    db.session.commit()
    headers = token_for(organizer)
    url = f"/api/v1/units/{district['a'].id}/members"
    assert [
        m["name"] for m in client.get(url + "?party=not_reported", headers=headers).json["items"]
    ] == ["乙"]
    assert [
        m["name"] for m in client.get(url + "?party=reported", headers=headers).json["items"]
    ] == ["甲"]
    page = client.get(url + "?per_page=1&page=2", headers=headers).json
    assert page["total"] == 3 and len(page["items"]) == 1
    assert client.get(url + "?party=maybe", headers=headers).status_code == 422


def test_organizer_adds_member_and_imports_roster(client, district, make_member, token_for):
    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    added = client.post(
        "/api/v1/members",
        headers=headers,
        json={
            "name": "刘桂兰",
            "phone": "13511112222",
            "home_unit_id": district["building_a"].id,
            "has_smartphone": False,
        },
    )
    assert added.status_code == 201 and added.json["status"] == "active"
    again = client.post(
        "/api/v1/members",
        headers=headers,
        json={"name": "x", "phone": "13511112222", "home_unit_id": district["a"].id},
    )
    assert again.status_code == 409 and again.json["code"] == "phone_taken"
    roster = "name,phone\n张伟,13511113333\n错,999\n".encode()
    response = client.post(
        f"/api/v1/units/{district['a'].id}/members/import",
        headers=headers,
        data={"file": (io.BytesIO(roster), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert response.json["created_count"] == 1 and response.json["rejected_count"] == 1
    assert response.json["rejected"][0]["row"] == 3


def test_join_flow_through_the_api(client, district, make_member, token_for, caplog):
    import logging

    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    url = f"/api/v1/units/{district['a'].id}/join-link"
    missing = client.get(url, headers=headers)
    assert missing.status_code == 404 and missing.json["code"] == "join_link_missing"
    link = client.post(url, headers=headers).json
    assert client.get(url, headers=headers).json == link
    assert link["url"].endswith("/join/" + link["code"]) and link["qr_svg"].startswith("<?xml")
    with caplog.at_level(logging.WARNING, logger="timebank.sms"):
        joined = client.post(
            "/api/v1/join",
            json={
                "code": link["code"],
                "phone": "13622223333",
                "name": "新人",
            },
        )
    assert joined.status_code == 202 and joined.json == {"sent": True, "phone": "136****3333"}
    code = (
        [r for r in caplog.records if r.name == "timebank.sms"][-1]
        .getMessage()
        .split("验证码 ")[1][:6]
    )
    for _ in range(5):
        wrong = client.post(
            "/api/v1/join/verify",
            json={"phone": "13622223333", "code": "abcdef", "password": "p-123456"},
        )
        assert wrong.status_code == 422 and wrong.json["code"] == "code_invalid"
    locked = client.post(
        "/api/v1/join/verify", json={"phone": "13622223333", "code": code, "password": "p-123456"}
    )
    assert locked.status_code == 429  # five wrong guesses lock the code, even the right one
    dead = client.post(
        "/api/v1/join",
        json={"code": "nope", "phone": "13622224444", "name": "x"},
    )
    assert dead.status_code == 404 and dead.json["code"] == "join_link_invalid"


def test_join_then_approve(client, district, make_member, token_for, caplog):
    import logging

    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    link = client.post(f"/api/v1/units/{district['a'].id}/join-link", headers=headers).json
    with caplog.at_level(logging.WARNING, logger="timebank.sms"):
        client.post(
            "/api/v1/join",
            json={
                "code": link["code"],
                "phone": "13622225555",
                "name": "新人",
            },
        )
    code = (
        [r for r in caplog.records if r.name == "timebank.sms"][-1]
        .getMessage()
        .split("验证码 ")[1][:6]
    )
    verified = client.post(
        "/api/v1/join/verify", json={"phone": "13622225555", "code": code, "password": "p-123456"}
    )
    assert verified.status_code == 200 and verified.json["status"] == "pending"
    login = client.post("/api/v1/auth/token", json={"phone": "13622225555", "password": "p-123456"})
    assert login.status_code == 403 and login.json["code"] == "account_not_active"
    approved = client.post(f"/api/v1/members/{verified.json['id']}/approve", headers=headers)
    assert approved.status_code == 200 and approved.json["status"] == "active"
    twice = client.post(f"/api/v1/members/{verified.json['id']}/approve", headers=headers)
    assert twice.status_code == 409 and twice.json["code"] == "not_pending"
    login = client.post("/api/v1/auth/token", json={"phone": "13622225555", "password": "p-123456"})
    assert login.status_code == 201


def test_openapi_and_docs_are_served_without_cdn(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/units",
        "/api/v1/members",
        "/api/v1/units/{unit_id}/members",
        "/api/v1/members/{member_id}/party-registration",
    ):
        assert path in paths, path
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert "/static/vendor/swagger-ui-dist-5.35.0/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert (
        client.get("/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js").status_code == 200
    )


def test_password_never_leaves_the_api(client, district, make_member, token_for):
    admin = make_member(district["street"], roles=("admin",))
    response = client.get(
        f"/api/v1/units/{district['street'].id}/members", headers=token_for(admin)
    )
    assert "password" not in response.get_data(as_text=True)
    assert factories.PASSWORD not in response.get_data(as_text=True)


def test_nul_characters_are_refused_alike_on_sqlite_and_postgresql(
    client, district, make_member, token_for, login
):
    """PostgreSQL text cannot hold NUL: any text with one is a 422, never a 500 there."""
    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    for method, path, body in (
        ("post", "/api/v1/members", {"name": "a\x00", "phone": "13511114444", "home_unit_id": 2}),
        ("post", f"/api/v1/units/{district['a'].id}/organizations", {"name": "\x00"}),
        ("get", "/api/v1/activities?category=%00", None),
        # a GET that sends a body is checked as a POST is (the quick path is for GETs
        # that send only the path and the query)
        ("get", "/api/v1/activities", {"category": "\x00"}),
    ):
        response = getattr(client, method)(path, headers=headers, json=body)
        assert response.status_code == 422, (path, response.json)
        assert response.json["code"] == "nul_character"
    roster = "name,phone\n张\x00伟,13511113333\n".encode()
    imported = client.post(
        f"/api/v1/units/{district['a'].id}/members/import",
        headers=headers,
        data={"file": (io.BytesIO(roster), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 422 and imported.json["code"] == "nul_character"
    login(organizer)
    page = client.post(
        f"/units/{district['a'].id}/members", data={"m-name": "a\x00", "m-phone": "13511115555"}
    )
    assert page.status_code == 422 and "文本中不能含有空字符" in page.get_data(as_text=True)


def test_routing_answers_before_the_token_is_read(client):
    """A method no route takes is 405 and an unknown path 404, even with a bad token:
    the token is read only for a request some endpoint will serve."""
    bad = {"Authorization": "Bearer not-a-token"}
    trace = client.open("/api/v1/join", method="TRACE", headers=bad)
    assert trace.status_code == 405 and trace.json["code"] == "method_not_allowed"
    missing = client.get("/api/v1/nothing-here", headers=bad)
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    served = client.get("/api/v1/me", headers=bad)
    assert served.status_code == 401 and served.json["code"] == "token_invalid"
