from datetime import timedelta

from tests import factories
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people.models import ApiToken


def test_token_login_and_me(client, district, make_member):
    member = make_member(district["building_a"], name="王秀英")
    response = client.post(
        "/api/v1/auth/token", json={"phone": member.phone, "password": factories.PASSWORD}
    )
    assert response.status_code == 201
    token = response.json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["name"] == "王秀英"
    assert me.json["units"] == [
        {"id": district["building_a"].id, "name": "101号楼", "role": "volunteer"}
    ]
    assert "password" not in me.json and "password_hash" not in me.json


def test_wrong_password_is_401_problem(client, district, make_member):
    member = make_member(district["a"])
    response = client.post("/api/v1/auth/token", json={"phone": member.phone, "password": "nope"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "invalid_credentials"


def test_api_without_auth_is_401_json_not_redirect(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["code"] == "authentication_required"
    garbage = client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert garbage.status_code == 401 and garbage.json["code"] == "token_invalid"
    basic = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


def test_token_revocation_and_expiry(client, district, make_member, token_for):
    member = make_member(district["a"])
    headers = token_for(member)
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    revoked = client.get("/api/v1/me", headers=headers)
    assert revoked.status_code == 401 and revoked.json["code"] == "token_revoked"
    headers = token_for(member)
    row = db.session.scalars(db.select(ApiToken).order_by(ApiToken.id.desc())).first()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401 and expired.json["code"] == "token_expired"


def test_guardian_acts_for_ward_and_both_are_recorded(client, district, make_member, token_for):
    from timebank.core.audit import AuditEvent
    from timebank.people import operations as people

    ward = make_member(district["building_a"], password=None, name="独居老人")
    guardian = make_member(district["building_a"], name="网格员小李")
    stranger = make_member(district["building_a"])
    people.add_guardian(ward, guardian, relation="网格员", actor=None)
    db.session.commit()
    headers = {**token_for(guardian), "X-On-Behalf-Of": str(ward.id)}
    me = client.get("/api/v1/me", headers=headers)
    assert me.json["id"] == ward.id
    response = client.post(
        f"/api/v1/members/{ward.id}/party-registration",
        headers=headers,
        json={
            "branch": "退休党支部",
            "reported_unit_id": district["a"].id,
            "reported_on": "2024-05-01",
        },
    )
    assert response.status_code == 200, response.json
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "party.register")
    ).one()
    assert (event.actor_id, event.on_behalf_of_id, event.subject_member_id) == (
        guardian.id,
        ward.id,
        ward.id,
    )
    denied = client.get(
        "/api/v1/me", headers={**token_for(stranger), "X-On-Behalf-Of": str(ward.id)}
    )
    assert denied.status_code == 403 and denied.json["code"] == "not_guardian"


def test_on_behalf_of_with_non_ascii_digits_is_422_not_500(
    client, district, make_member, token_for
):
    member = make_member(district["a"])
    for raw in ("²", "١", "１２"):
        response = client.get("/api/v1/me", headers={**token_for(member), "X-On-Behalf-Of": raw})
        assert response.status_code == 422, (raw, response.json)
        assert response.json["code"] == "invalid_on_behalf_of"
