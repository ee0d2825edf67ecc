"""Every privileged act writes an audit row (issue 12, "What must exist besides"): who did
it, for whom, to what, a before/after summary, the address and the time. One test per act
that was not on record before."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from tests import factories
from tests.activities_factories import create_activity
from tests.merchants_factories import create_merchant, fund, redeemed_last_month
from tests.projects_factories import T0, running_project
from timebank.activities import operations as activities
from timebank.activities.models import Attendance
from timebank.core.audit import AuditEvent
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.projects import operations as projects


def _events(action: str, *, by_members_only: bool = False) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if by_members_only:  # not the district the factories built
        query = query.where(AuditEvent.actor_id.is_not(None))
    return list(db.session.scalars(query))


def _one(action: str, *, by_members_only: bool = False) -> AuditEvent:
    found = _events(action, by_members_only=by_members_only)
    assert len(found) == 1, [(e.action, e.target) for e in found]
    event = found[0]
    assert event.created_at is not None
    return event


def _summary(text: str | None) -> dict | None:
    return None if text is None else json.loads(text)


def _earn(member, unit, *, minutes=120, points=0, n=1):
    ledger.credit_from_evidence(
        member_id=member.id, member_unit_id=member.home_unit_id, unit_id=unit.id,
        minutes=minutes, points=points, code="earn_checkin", reference_type="attendance",
        reference_id=str(n), idempotency_key=f"attendance:{n}", actor_id=None,
    )  # fmt: skip
    db.session.commit()


def test_creating_a_unit_a_partner_and_moving_a_unit_s_place_are_on_record(
    client, district, make_member, token_for, login
):
    organizer = make_member(district["a"], roles=("organizer",))
    headers = token_for(organizer)
    made = client.post(
        "/api/v1/units",
        json={"name": "第2网格", "kind": "grid", "parent_id": district["a"].id},
        headers=headers,
    )
    assert made.status_code == 201, made.json
    created = _one("unit.create", by_members_only=True)
    assert (created.actor_id, created.target) == (organizer.id, f"unit:{made.json['id']}")
    assert _summary(created.after) == {
        "name": "第2网格",
        "kind": "grid",
        "parent_id": district["a"].id,
    }
    assert created.ip == "127.0.0.1"
    partner = client.post(
        f"/api/v1/units/{district['a'].id}/organizations",
        json={"name": "兰州石化党支部", "kind": "company", "contact": None},
        headers=headers,
    )
    assert partner.status_code == 201, partner.json
    org = _one("organization.create")
    assert (org.actor_id, org.target) == (organizer.id, f"unit:{district['a'].id}")
    assert _summary(org.after)["organization"] == partner.json["id"]
    login(organizer)
    placed = client.post(f"/units/{district['a'].id}/place", data={"lat": "36.09", "lng": "103.63"})
    assert placed.status_code == 302
    moved = _one("unit.update")
    assert (moved.actor_id, moved.target) == (organizer.id, f"unit:{district['a'].id}")
    assert _summary(moved.before) == {"lat": None, "lng": None}
    assert _summary(moved.after) == {"lat": 36.09, "lng": 103.63}


def _attendance(activity, member, status="pending") -> Attendance:
    attendance = Attendance(
        activity_id=activity.id, member_id=member.id, checked_in_at=activity.starts_at,
        checked_out_at=activity.ends_at, status=status,
    )  # fmt: skip
    db.session.add(attendance)
    db.session.flush()
    return attendance


def test_attendance_approved_and_rejected_is_on_record(app, district, make_member):
    organizer = make_member(district["a"], roles=("organizer",))
    alice = make_member(district["building_a"])
    bob = make_member(district["building_a"])
    activity = create_activity(district["a"], organizer=organizer, hours=2, points_per_hour=6)
    came, claimed = _attendance(activity, alice), _attendance(activity, bob, "review")
    db.session.commit()
    after_end = activity.ends_at + timedelta(minutes=5)
    activities.approve_attendance(activity, [came.id], actor=organizer, now=after_end)
    activities.reject_attendance(activity, [claimed.id], actor=organizer, reason="不在现场")
    # approving again changes nothing and writes nothing more
    activities.approve_attendance(activity, [came.id], actor=organizer, now=after_end)
    db.session.commit()
    approved = _one("attendance.approve")
    assert (approved.actor_id, approved.subject_member_id) == (organizer.id, alice.id)
    assert approved.target == f"attendance:{came.id}"
    assert _summary(approved.before) == {"status": "pending"}
    assert _summary(approved.after) == {"status": "approved", "minutes": 120, "points": 12}
    rejected = _one("attendance.reject")
    assert (rejected.actor_id, rejected.subject_member_id) == (organizer.id, bob.id)
    assert rejected.target == f"attendance:{claimed.id}" and rejected.detail == "不在现场"
    assert _summary(rejected.before) == {"status": "review"}


def test_hour_logs_approved_and_rejected_are_on_record(app, district, make_member):
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"])
    project = running_project(district["a"], organizer, members=[volunteer], hours=4)

    def log(minutes):
        return projects.log_hours(
            member=volunteer, logged_by=volunteer, project=project, minutes=minutes,
            served_on=(T0 + timedelta(hours=8)).date(), description="疏通下水井",
            now=T0 + timedelta(hours=5),
        )  # fmt: skip

    first, second = log(90), log(60)
    db.session.commit()
    projects.approve_hour_logs([first.id], actor=organizer)
    projects.reject_hour_logs([second.id], actor=organizer, reason="时长与签到记录不符")
    db.session.commit()
    approved = _one("hour_log.approve")
    assert (approved.actor_id, approved.subject_member_id) == (organizer.id, volunteer.id)
    assert approved.target == f"hour_log:{first.id}"
    assert _summary(approved.before) == {"status": "pending", "minutes": 90}
    assert _summary(approved.after) == {"status": "approved", "minutes": 90, "points": 15}
    rejected = _one("hour_log.reject")
    assert rejected.target == f"hour_log:{second.id}" and rejected.detail == "时长与签到记录不符"
    assert _summary(rejected.after) == {"status": "rejected"}


def _award(client, headers, member_id, key, amount=30):
    body = {
        "kind": "award", "ledger": "POINTS", "amount": amount, "member_id": member_id,
        "memo": "防汛值守", "idempotency_key": key,
    }  # fmt: skip
    response = client.post("/api/v1/transfers", json=body, headers=headers)
    assert response.status_code == 202, response.json
    return response.json["pending_credit"]["id"]


def test_manual_credits_asked_approved_and_rejected_are_on_record(
    client, district, make_member, token_for
):
    alice = make_member(district["building_a"])
    first = make_member(district["a"], roles=("organizer",))
    second = make_member(district["a"], roles=("organizer",))
    kept, dropped = (_award(client, token_for(first), alice.id, key) for key in ("a-1", "a-2"))
    body = {
        "kind": "award", "ledger": "POINTS", "amount": 30, "member_id": alice.id,
        "memo": "防汛值守", "idempotency_key": "a-1",
    }  # fmt: skip
    replay = client.post("/api/v1/transfers", json=body, headers=token_for(first))
    assert replay.status_code == 200  # a replay asks nothing new
    asked = _events("pending_credit.request")
    assert [e.target for e in asked] == [f"pending_credit:{kept}", f"pending_credit:{dropped}"]
    assert (asked[0].actor_id, asked[0].subject_member_id) == (first.id, alice.id)
    assert _summary(asked[0].after) == {
        "status": "pending", "code": "award", "ledger": "POINTS", "amount": 30,
    }  # fmt: skip
    assert asked[0].detail == "防汛值守"
    decide = "/api/v1/pending-credits/{}/{}"
    assert client.post(decide.format(kept, "approve"), headers=token_for(second)).status_code == 200
    refused = client.post(
        decide.format(dropped, "reject"), json={"reason": "重复申报"}, headers=token_for(second)
    )
    assert refused.status_code == 200
    approved = _one("pending_credit.approve")
    assert (approved.actor_id, approved.subject_member_id) == (second.id, alice.id)
    transfer_id = ledger.get_pending_credit(kept).transfer_id
    assert _summary(approved.after)["transfer"] == transfer_id
    assert _summary(approved.before) == {"status": "pending"}
    rejected = _one("pending_credit.reject")
    assert (rejected.actor_id, rejected.target) == (second.id, f"pending_credit:{dropped}")
    assert rejected.detail == "重复申报" and _summary(rejected.after)["status"] == "rejected"


def test_a_correction_is_on_record(client, district, make_member, token_for):
    organizer = make_member(district["a"], roles=("organizer",))
    alice = make_member(district["building_a"])
    _earn(alice, district["a"], minutes=120)
    earned = ledger.member_history(alice.id, ledger="HOURS", limit=1)[0].transfer_id
    body = {
        "kind": "correct", "corrects_transfer_id": earned, "amount": 30, "memo": "多记半小时",
        "idempotency_key": "fix-1",
    }  # fmt: skip
    fixed = client.post("/api/v1/transfers", json=body, headers=token_for(organizer))
    assert fixed.status_code == 201, fixed.json
    event = _one("ledger.correct")
    assert (event.actor_id, event.subject_member_id) == (organizer.id, alice.id)
    assert event.target == f"transfer:{earned}" and event.detail == "多记半小时"
    assert _summary(event.after) == {
        "transfer": fixed.json["transfers"][0]["id"], "ledger": "HOURS", "amount": 30,
    }  # fmt: skip


def test_a_guardian_s_donation_for_a_ward_is_on_record_and_shown_to_the_ward(
    client, district, make_member, token_for
):
    from timebank.people import operations as people

    daughter = make_member(district["building_a"], name="女儿小王")
    mother = make_member(district["building_a"], name="王奶奶", password=None, has_smartphone=False)
    second = make_member(district["a"], roles=("organizer",))
    _earn(mother, district["a"], minutes=120)
    asked = client.post(
        f"/api/v1/members/{mother.id}/guardians",
        json={"guardian_id": daughter.id, "relation": "女儿"},
        headers=token_for(second),
    )
    assert asked.status_code == 201, asked.json
    confirm = f"/api/v1/members/{mother.id}/guardians/{daughter.id}/confirm"
    other = make_member(district["a"], roles=("organizer",))
    assert client.post(confirm, headers=token_for(other)).status_code == 200, "guardian"
    gift = {"kind": "donate", "amount": 45, "pool_unit_id": district["a"].id}
    given = client.post(
        "/api/v1/transfers",
        json={**gift, "idempotency_key": "g-1", "memo": "捐给社区"},
        headers={**token_for(daughter), "X-On-Behalf-Of": str(mother.id)},
    )
    assert given.status_code == 201, given.json
    event = _one("ledger.donate")
    assert (event.actor_id, event.on_behalf_of_id, event.subject_member_id) == (
        daughter.id, mother.id, mother.id,
    )  # fmt: skip
    assert event.target == f"transfer:{given.json['transfers'][0]['id']}"
    assert _summary(event.after)["minutes"] == 45 and _summary(event.after)["to_pool"] == 45
    assert [e.action for e in people.acts_on_behalf_of(mother)] == ["ledger.donate"]
    # a member giving their own hours is no privileged act
    _earn(daughter, district["a"], minutes=60, n=2)
    own = client.post(
        "/api/v1/transfers", json={**gift, "idempotency_key": "g-2"}, headers=token_for(daughter)
    )
    assert own.status_code == 201 and len(_events("ledger.donate")) == 1


def test_a_paid_statement_and_merchant_decisions_are_on_record(
    client, district, make_member, token_for
):
    organizer = make_member(district["a"], roles=("organizer",))
    merchant = create_merchant(district["a"], name="上坎老王肉菜店", approved=False)
    db.session.commit()
    approved = client.post(f"/api/v1/merchants/{merchant.id}/approve", headers=token_for(organizer))
    assert approved.status_code == 200, approved.json
    decision = _one("merchant.approved")
    assert (decision.actor_id, decision.target) == (organizer.id, f"merchant:{merchant.id}")
    assert _summary(decision.before) == {"status": "pending"}
    assert _summary(decision.after) == {"status": "approved"}
    customer = make_member(district["building_a"])
    fund(customer, 20)
    redeemed_last_month(merchant, customer)
    statement = merchants.build_statement(merchant, merchants.previous_month(utcnow()))
    db.session.commit()
    paid = client.post(
        f"/api/v1/statements/{statement.id}/pay",
        json={"reference": "银行回单 0001"},
        headers=token_for(organizer),
    )
    assert paid.status_code == 200, paid.json
    event = _one("statement.pay")
    assert (event.actor_id, event.target) == (organizer.id, f"statement:{statement.id}")
    assert event.subject_member_id == merchant.owner_id and event.detail == "银行回单 0001"
    after = _summary(event.after)
    assert (after["status"], after["merchant"], after["points"]) == ("paid", merchant.id, 10)
    # the shop's own decisions are on record too (issue 21, finding 11)
    confirm = _one("redemption.confirm")
    assert (confirm.actor_id, confirm.subject_member_id) == (merchant.owner_id, customer.id)


def test_every_ledger_verify_run_is_on_record(app, client, district, make_member, token_for, login):
    admin = make_member(district["street"], roles=("admin",))
    alice = make_member(district["building_a"])
    _earn(alice, district["a"], minutes=60)
    ran = client.post("/api/v1/ledger/verify", headers=token_for(admin))
    assert ran.status_code == 200 and ran.json["ok"] is True
    volunteer = client.post("/api/v1/ledger/verify", headers=token_for(alice))
    assert volunteer.status_code == 403
    # GET stays a read: it writes nothing
    assert client.get("/api/v1/ledger/verify", headers=token_for(admin)).status_code == 200
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    login(admin)
    page = client.post("/ledger/integrity")
    assert page.status_code == 200 and 'id="verify-result"' in page.get_data(as_text=True)
    runs = _events("ledger.verify")
    assert [(e.detail, e.actor_id) for e in runs] == [
        ("api", admin.id), ("cli", None), ("page", admin.id),
    ]  # fmt: skip
    assert all(e.target == "ledger" for e in runs)
    assert _summary(runs[0].after) == {
        "ok": True, "entries": 2, "transfers": 1, "checkpoints": 0, "problem": None,
    }  # fmt: skip


def test_a_failed_verify_run_stays_on_record(app, district, make_member):
    alice = make_member(district["building_a"])
    _earn(alice, district["a"], minutes=60)
    # a balance changed behind the ledger's back (the cached balance is not append-only)
    db.session.execute(
        sa.text(
            "UPDATE accounts SET balance = balance + 1 WHERE id = (SELECT MAX(id) FROM accounts)"
        )
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    db.session.rollback()
    event = _one("ledger.verify")
    assert event.detail == "cli" and _summary(event.after)["ok"] is False
    assert _summary(event.after)["problem"]
    factories  # noqa: B018 - the district fixture builds on it
