"""A member downloads everything kept about them as JSON (API and home page button)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from tests import factories
from tests.activities_factories import create_activity
from timebank.activities.models import Attendance
from timebank.core.audit import record_audit
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people


def _resident_with_history(district, make_member):
    organizer = make_member(district["a"], roles=("organizer",), name="组织者")
    resident = make_member(district["building_a"], name="王秀英")
    other = make_member(district["building_a"], name="邻居")
    people.register_party(
        resident, actor=organizer, on_behalf_of=None, branch="第二党支部",
        workplace_org_id=None, workplace_name=None, reported_unit_id=None, reported_on=None,
    )  # fmt: skip
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    activity = create_activity(district["a"], organizer=organizer, title="敲门行动", starts_at=at)
    db.session.flush()
    attendance = Attendance(
        activity_id=activity.id, member_id=resident.id, checked_in_at=at, checked_out_at=at,
        status="approved", minutes=90, points=15, decided_by_id=organizer.id,
    )  # fmt: skip
    db.session.add(attendance)
    db.session.flush()
    ledger.credit_from_evidence(
        member_id=resident.id, member_unit_id=resident.home_unit_id, unit_id=district["a"].id,
        minutes=90, points=15, code="earn_checkin", reference_type="attendance",
        reference_id=str(attendance.id), idempotency_key=f"attendance:{attendance.id}",
        actor_id=organizer.id,
    )  # fmt: skip
    record_audit("member.edit", actor=organizer, subject=other, detail="not about the resident")
    db.session.commit()
    return organizer, resident, other


def test_api_export_has_everything_about_the_caller(client, district, make_member, token_for):
    organizer, resident, other = _resident_with_history(district, make_member)
    response = client.get("/api/v1/me/export", headers=token_for(resident))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="timebank-my-data-{resident.id}-\d{{4}}-\d{{2}}-\d{{2}}\.json"',
        disposition,
    ), disposition
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["name"] == "王秀英" and data["profile"]["phone"] == resident.phone
    assert "password_hash" not in data["profile"] and "session_epoch" not in data["profile"]
    assert [r["role"] for r in data["roles"]] == ["volunteer"]
    assert [u["name"] for u in data["home"]][-1] == "101号楼"
    assert data["party"][0]["branch"] == "第二党支部"
    assert [a["minutes"] for a in data["attendance"]] == [90]
    hours = next(a for a in data["ledger"] if a["ledger"] == "HOURS")
    assert hours["balance"] == 90
    assert [(line["amount"], line["balance_after"], line["code"]) for line in hours["lines"]] == [
        (90, 90, "earn_checkin")
    ]
    actions = {row["action"] for row in data["audit"]}
    assert {"member.create", "party.register"} <= actions
    assert all(row["subject_member_id"] == resident.id or row["on_behalf_of_id"] == resident.id
               for row in data["audit"])  # fmt: skip
    assert "邻居" not in response.get_data(as_text=True)  # nobody else's data
    for key in ("guardianships", "signups", "checkins", "hour_logs", "redemptions", "inbox"):
        assert isinstance(data[key], list), key


def test_export_needs_a_login(client, district):
    assert client.get("/api/v1/me/export").status_code == 401


def test_home_page_button_downloads_the_file(client, district, make_member, login):
    organizer, resident, other = _resident_with_history(district, make_member)
    login(resident)
    home = client.get("/").get_data(as_text=True)
    assert 'id="my-data-link"' in home and 'href="/me/export"' in home
    response = client.get("/me/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    assert json.loads(response.get_data(as_text=True))["profile"]["id"] == resident.id


def test_a_guardian_downloads_their_wards_data(client, district, make_member, token_for):
    organizer, resident, other = _resident_with_history(district, make_member)
    row = people.add_guardian(resident, other, relation="邻居", actor=organizer)
    people.decide_guardianship(row, confirm=True, actor=resident)
    db.session.commit()
    headers = {**token_for(other), "X-On-Behalf-Of": str(resident.id)}
    data = client.get("/api/v1/me/export", headers=headers).get_json()
    assert data["profile"]["id"] == resident.id
    stranger = make_member(district["b"])
    refused = client.get(
        "/api/v1/me/export", headers={**token_for(stranger), "X-On-Behalf-Of": str(resident.id)}
    )
    assert refused.status_code == 403
    assert factories.PASSWORD not in json.dumps(data)
