"""Hostile input, no login needed, gets a 400 or 422 problem+json: never a 500."""

import pytest

from tests import factories


def _is_problem(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/problem+json"
    return response.json


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/join", "/api/v1/transfers"])
def test_json_nested_a_thousand_deep_is_a_400(client, path):
    body = "[" * 1000 + "]" * 1000
    response = client.post(path, data=body, content_type="application/json")
    assert _is_problem(response, 400)["code"] == "invalid_json"


def test_an_amount_of_five_thousand_digits_is_refused(client, district, make_member, token_for):
    member = make_member(district["a"])
    body = '{"kind": "donate", "amount": ' + "9" * 5000 + ', "idempotency_key": "k"}'
    response = client.post(
        "/api/v1/transfers", data=body, content_type="application/json", headers=token_for(member)
    )
    assert _is_problem(response, 400, 422)["code"] == "invalid_json"


def test_a_lone_surrogate_is_refused_in_names_memos_and_keys(
    client, district, make_member, token_for
):
    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    member = {"name": "\ud800", "phone": factories.next_phone(), "home_unit_id": district["a"].id}
    award = {"kind": "award", "member_id": organizer.id, "amount": 5, "idempotency_key": "\ud800"}
    memo = {**award, "idempotency_key": "ok", "memo": "x\ud800"}
    for path, body in (
        ("/api/v1/members", member),
        ("/api/v1/transfers", award),
        ("/api/v1/transfers", memo),
        ("/api/v1/join", {"code": "c", "phone": "1", "name": "\udfff"}),
    ):
        response = client.post(path, json=body, headers=headers)
        assert _is_problem(response, 422)["code"] == "invalid_text", path


@pytest.mark.parametrize("moment", ["9999-12-31T20:00:00-12:00", "0001-01-01T00:00:00+14:00"])
def test_a_moment_that_does_not_exist_in_utc_is_a_422(
    client, district, make_member, token_for, moment
):
    organizer = make_member(district["a"], roles=("organizer",))
    body = {
        "unit_id": district["a"].id,
        "title": "周六义诊",
        "category": "free_clinic",
        "starts_at": moment,
        "ends_at": moment,
    }
    response = client.post("/api/v1/activities", json=body, headers=token_for(organizer))
    assert "starts_at" in _is_problem(response, 422)["errors"]


def test_ids_in_urls_are_ascii_digits_only(client, district, make_member, token_for):
    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    unit = district["a"].id
    assert client.get(f"/api/v1/units/{unit}", headers=headers).status_code == 200
    wide = str(unit).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.get(f"/api/v1/units/{wide}", headers=headers).status_code == 404


def _same_site(location: str) -> bool:
    """A path on this site: not another host (//host, /\\host, http://...)."""
    location = location.removeprefix("http://localhost")
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/%0a/x", "/\\evil"])
def test_no_redirect_leaves_the_site(client, district, make_member, target):
    member = make_member(district["a"])
    switched = client.post(f"/lang/en?next={target}")
    assert switched.status_code == 302 and _same_site(switched.headers["Location"])
    login = client.post(
        f"/login?next={target}", data={"phone": member.phone, "password": factories.PASSWORD}
    )
    assert login.status_code == 302 and _same_site(login.headers["Location"])


def test_the_depth_limit_counts_nesting_not_brackets():
    """A body with fewer brackets than the limit skips the walk; one with more is walked,
    and only nesting past the limit is refused (brackets inside strings do not count)."""
    from timebank.core.hygiene import MAX_JSON_DEPTH, BadJson, parse_json

    assert parse_json(b"[" + b",".join([b"[]"] * 100) + b"]") == [[]] * 100
    assert parse_json(b'["' + b"[" * 100 + b'"]') == ["[" * 100]
    at_limit = [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1]
    assert parse_json(b"[" * at_limit[0] + b"]" * at_limit[0])
    with pytest.raises(BadJson):
        parse_json(b"[" * at_limit[1] + b"]" * at_limit[1])
