"""Removing a member pseudonymises the profile and leaves the ledger intact and verifiable;
the migration that allows the status keeps every row that points at members."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests import factories
from timebank.core.audit import AuditEvent
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Entry, Transfer
from timebank.people import operations as people
from timebank.people.models import (
    ApiToken,
    Guardianship,
    Member,
    PartyProfile,
    PhoneVerification,
    RoleAssignment,
)

BEFORE_REMOVAL = "6d2c8f4a9b17"


def _earn(member, unit, n: int, minutes: int = 60, points: int = 10):
    ledger.credit_from_evidence(
        member_id=member.id, member_unit_id=member.home_unit_id, unit_id=unit.id,
        minutes=minutes, points=points, code="earn_checkin", reference_type="attendance",
        reference_id=str(n), idempotency_key=f"attendance:{n}", actor_id=None,
    )  # fmt: skip


def _setup(district, make_member):
    admin = make_member(district["street"], roles=("admin",))
    organizer = make_member(district["a"], roles=("organizer",), name="组织者")
    resident = make_member(district["building_a"], name="王秀英", roles=("volunteer",))
    daughter = make_member(district["building_a"], name="王女儿")
    people.register_party(
        resident, actor=organizer, on_behalf_of=None, branch="第二党支部",
        workplace_org_id=None, workplace_name="兰州石化", reported_unit_id=None,
        reported_on=None,
    )  # fmt: skip
    row = people.add_guardian(resident, daughter, relation="女儿", actor=organizer)
    people.decide_guardianship(row, confirm=True, actor=resident)
    _earn(resident, district["a"], 1)
    db.session.commit()
    return admin, organizer, resident, daughter


def _ledger_rows():
    rows = [
        db.session.execute(sa.select(t).order_by(t.c.id)).all()
        for t in (Transfer.__table__, Entry.__table__)
    ]
    return rows


def test_removal_pseudonymises_and_keeps_the_ledger(client, district, make_member, token_for):
    admin, organizer, resident, daughter = _setup(district, make_member)
    resident_token = token_for(resident)
    history = _ledger_rows()
    balances = ledger.balances(resident.id)
    assert balances["HOURS"]["balance"] == 60  # a balance does not stop the removal
    old_phone = resident.phone
    db.session.add(
        PhoneVerification(phone=old_phone, code_hash="x" * 64, expires_at=resident.created_at)
    )
    db.session.commit()

    response = client.delete(f"/api/v1/members/{resident.id}", headers=token_for(organizer))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "removed" and body["name"] == f"已注销成员 #{resident.id}"
    assert body["phone"] == f"removed-{resident.id}" and body["roles"] == []

    db.session.expire_all()
    member = db.session.get(Member, resident.id)
    assert member.password_hash is None and member.session_epoch == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleAssignment).where(
        RoleAssignment.member_id == resident.id)) == 0  # fmt: skip
    assert all(t.revoked_at is not None for t in db.session.scalars(
        sa.select(ApiToken).where(ApiToken.member_id == resident.id)))  # fmt: skip
    assert {g.status for g in db.session.scalars(sa.select(Guardianship))} == {"declined"}
    party = db.session.get(PartyProfile, resident.id)
    assert party.branch == "" and party.workplace_name is None
    assert (
        db.session.scalar(sa.select(PhoneVerification).where(PhoneVerification.phone == old_phone))
        is None
    )

    # the ledger is untouched, still adds up and verifies; the balance stays under the pseudonym
    assert _ledger_rows() == history
    assert ledger.verify_ledger().ok
    assert ledger.balances(resident.id) == balances

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.remove"))
    assert event.actor_id == organizer.id and event.subject_member_id == resident.id
    assert "王秀英" not in (event.before or "") + (event.after or "")

    # nobody logs in as the removed member any more
    assert client.get("/api/v1/me", headers=resident_token).status_code == 401
    for phone in (old_phone, member.phone):
        login = client.post(
            "/api/v1/auth/token", json={"phone": phone, "password": factories.PASSWORD}
        )
        assert login.status_code in (401, 422), login.get_data(as_text=True)

    again = client.delete(f"/api/v1/members/{resident.id}", headers=token_for(admin))
    assert again.status_code == 409 and again.get_json()["code"] == "member_removed"


def test_who_may_remove(client, district, make_member, token_for):
    admin, organizer, resident, daughter = _setup(district, make_member)
    other_organizer = make_member(district["b"], roles=("organizer",))
    assert (
        client.delete(f"/api/v1/members/{resident.id}", headers=token_for(daughter)).status_code
        == 403
    )
    assert (
        client.delete(
            f"/api/v1/members/{resident.id}", headers=token_for(other_organizer)
        ).status_code
        == 403
    )
    myself = client.delete(f"/api/v1/members/{organizer.id}", headers=token_for(organizer))
    assert myself.status_code == 409 and myself.get_json()["code"] == "cannot_remove_self"
    assert (
        client.delete(f"/api/v1/members/{resident.id}", headers=token_for(admin)).status_code == 200
    )


def test_removal_page_asks_to_confirm(client, district, make_member, login):
    admin, organizer, resident, daughter = _setup(district, make_member)
    login(organizer)
    page = client.get(f"/members/{resident.id}").get_data(as_text=True)
    assert 'id="remove-member"' in page and "data-confirm" in page
    unconfirmed = client.post(f"/members/{resident.id}/remove", data={}, follow_redirects=True)
    assert unconfirmed.status_code == 200
    assert db.session.get(Member, resident.id).status == "active"
    done = client.post(
        f"/members/{resident.id}/remove", data={"rm-confirm": "y"}, follow_redirects=True
    )
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(Member, resident.id).status == "removed"
    assert f"已注销成员 #{resident.id}" in done.get_data(as_text=True)


@pytest.mark.concurrent  # Alembic migrates on a connection of its own
def test_the_removed_status_migration_keeps_every_row(app, district, make_member):
    """Down to the revision before and up again: the members table is rebuilt on SQLite,
    and nothing that points at members is lost (no cascade), the ledger included."""
    admin, organizer, resident, daughter = _setup(district, make_member)
    people.remove_member(daughter, actor=admin)
    db.session.commit()
    counts = {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    history = _ledger_rows()
    db.session.commit()

    downgrade(revision=BEFORE_REMOVAL)
    db.session.expire_all()
    assert db.session.get(Member, daughter.id).status == "suspended"  # removed -> suspended
    db.session.commit()
    upgrade()
    db.session.expire_all()

    after = {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    assert after == counts
    assert _ledger_rows() == history
    db.session.get(Member, resident.id).status = "removed"  # allowed again
    db.session.commit()
    assert ledger.verify_ledger().ok
    db.session.commit()
    try:
        db.session.get(Member, organizer.id).status = "vanished"
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
    else:
        raise AssertionError("the status check constraint was lost")
