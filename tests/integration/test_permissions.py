"""Who may do what, where: every row is a request that must get exactly this status."""

import pytest


@pytest.fixture
def actors(district, make_member, token_for):
    people = {
        "admin": make_member(district["street"], roles=("admin",)),
        "organizer_a": make_member(district["a"], roles=("organizer",)),
        "organizer_b": make_member(district["b"], roles=("organizer",)),
        "volunteer_a": make_member(district["building_a"]),
    }
    return {name: token_for(member) for name, member in people.items()}


def _cases(d):
    a, b, street = d["a"].id, d["b"].id, d["street"].id
    return [
        ("POST", "/api/v1/units", {"name": "n", "kind": "grid", "parent_id": a}),
        ("POST", "/api/v1/units", {"name": "n", "kind": "grid", "parent_id": b}),
        ("POST", "/api/v1/units", {"name": "n", "kind": "street", "parent_id": None}),
        ("GET", f"/api/v1/units/{a}/members", None),
        ("GET", f"/api/v1/units/{b}/members", None),
        ("GET", f"/api/v1/units/{street}/tree", None),
        ("POST", "/api/v1/members", {"name": "n", "phone": "13999990001", "home_unit_id": a}),
        ("POST", "/api/v1/members", {"name": "n", "phone": "13999990002", "home_unit_id": b}),
        ("POST", f"/api/v1/units/{b}/join-link", None),
    ]


EXPECTED = {
    #               a-unit b-unit root  a-mem b-mem tree  add-a add-b link-b
    "admin": [201, 201, 201, 200, 200, 200, 201, 201, 201],
    "organizer_a": [201, 403, 403, 200, 403, 403, 201, 403, 403],
    "organizer_b": [403, 201, 403, 403, 200, 403, 403, 201, 201],
    "volunteer_a": [403, 403, 403, 403, 403, 403, 403, 403, 403],
}


@pytest.mark.parametrize("actor", sorted(EXPECTED))
def test_permission_matrix(client, district, actors, actor):
    got = []
    for method, url, body in _cases(district):
        if body and "name" in body and body.get("kind"):
            body = {**body, "name": f"{actor}-{len(got)}"}
        response = client.open(url, method=method, json=body, headers=actors[actor])
        got.append(response.status_code)
        if response.status_code == 403:
            assert response.json["code"] == "forbidden"
    assert got == EXPECTED[actor]
