"""A batch approval (attendance, hour logs) credits in one step at its end: the
community's issuance accounts, which every credit in the community shares, are locked once
and only after every other write of the approval, so approvals of one community wait for
each other for that step, not for each other's whole batch. Overlapping batches sent at
once still credit each attendance exactly once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.activities_factories import create_activity
from tests.projects_factories import T0, create_project
from tests.races import race
from tests.statements import recorded_statements
from timebank.activities import operations as activities
from timebank.core import clock as app_clock
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Transfer
from timebank.people.models import Member
from timebank.projects import operations as projects

#: a statement's verb and the table it names first
_VERB_TABLE = re.compile(r"(UPDATE) (\w+)|(INSERT) INTO (\w+)|(SELECT) .*? FROM (\w+)")


def _is_lock(statement: str) -> bool:
    return statement.startswith("SELECT id, ledger, kind") and "FROM accounts" in statement


def _after_the_lock(statements: list[str]) -> list[str]:
    """What the statements sent once the accounts were locked did, as "VERB table";
    asserts the accounts were locked once."""
    locks = [n for n, s in enumerate(statements) if _is_lock(s)]
    assert len(locks) == 1, statements
    done = [_VERB_TABLE.match(s).groups() for s in statements[locks[0] + 1 :]]
    return [" ".join(part for part in parts if part) for parts in done]


def _ended_activity(scene, count: int):
    activity = create_activity(
        scene["a"], organizer=scene["organizer"], hours=2, requires_checkout=False,
        starts_at=app_clock.utcnow() - timedelta(hours=3), points_per_hour=10,
    )  # fmt: skip
    for _ in range(count):
        member = factories.create_member(scene["building_a"], password=None)
        activities.manual_check_in(
            activity, member, actor=scene["organizer"], now=activity.starts_at
        )
    db.session.commit()
    return activity, [a.id for a in activities.list_attendance(activity)]


def test_a_bulk_approval_locks_the_accounts_once_after_its_other_writes(
    client, activity_scene, token_for
):
    activity, ids = _ended_activity(activity_scene, 12)
    headers = token_for(activity_scene["organizer"])
    db.session.expunge_all()
    with recorded_statements(raw=True) as statements:
        approved = client.post(
            f"/api/v1/activities/{activity.id}/attendance/approve", headers=headers,
            json={"ids": ids},
        )  # fmt: skip
    assert approved.status_code == 200 and len(approved.json["decided"]) == 12
    # the twelve volunteers' notices are written together too
    assert len([s for s in statements if s.startswith("INSERT INTO notifications")]) == 1
    # under the lock: the ledger's own writes only (transfers, entries, accounts, lots)
    assert set(_after_the_lock(statements)) <= {
        "SELECT transfers", "INSERT transfers", "INSERT entries", "UPDATE accounts",
        "INSERT point_lots",
    }, statements  # fmt: skip
    credited = db.session.scalars(
        sa.select(Transfer.idempotency_key).where(Transfer.reference_type == "attendance")
    ).all()
    assert sorted(credited) == sorted(f"attendance:{i}:{ledger_}" for i in ids
                                      for ledger_ in ("HOURS", "POINTS"))  # fmt: skip


def test_approving_hour_logs_locks_the_accounts_once_after_its_other_writes(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    project = create_project(district["a"], organizer=organizer, places=5)
    volunteers = [factories.create_member(district["building_a"], password=None) for _ in range(5)]
    for volunteer in volunteers:
        projects.claim_place(project, volunteer, now=T0 - timedelta(days=1))
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    logs = []
    for volunteer in volunteers:
        logs.append(projects.log_hours(
            member=volunteer, logged_by=volunteer, project=project, served_on=T0.date(),
            minutes=90, description="送餐", now=T0 + timedelta(hours=3),
        ).id)  # fmt: skip
    db.session.commit()
    with recorded_statements(raw=True) as statements:
        outcome = projects.approve_hour_logs(logs, actor=organizer)
    assert len(outcome.decided) == 5 and not outcome.refused
    assert set(_after_the_lock(statements)) <= {
        "SELECT transfers", "INSERT transfers", "INSERT entries", "UPDATE accounts",
        "INSERT point_lots",
    }, statements  # fmt: skip
    again = projects.approve_hour_logs(logs, actor=organizer)  # a retry credits nothing more
    assert len(again.decided) == 5
    keys = db.session.scalars(sa.select(Transfer.idempotency_key)).all()
    assert len(keys) == len(set(keys)) == 10


@pytest.mark.concurrent
def test_overlapping_batches_approved_at_once_credit_each_attendance_once(app, activity_scene):
    activity, ids = _ended_activity(activity_scene, 10)
    second = factories.create_member(activity_scene["a"], roles=("organizer",))
    db.session.commit()
    activity_id, actors = activity.id, [activity_scene["organizer"].id, second.id]

    def approve(actor_id, batch):
        actor = db.session.get(Member, actor_id)
        activity_ = activities.get_activity(activity_id)
        return len(activities.approve_valid_attendance(activity_, batch, actor=actor).decided)

    # the two batches share four attendances
    outcomes = race(app, lambda: approve(actors[0], ids[:7]), lambda: approve(actors[1], ids[3:]))
    assert outcomes == [7, 7], outcomes
    keys = db.session.scalars(
        sa.select(Transfer.idempotency_key).where(Transfer.reference_type == "attendance")
    ).all()
    assert sorted(keys) == sorted(f"attendance:{i}:{name}" for i in ids
                                  for name in ("HOURS", "POINTS"))  # fmt: skip
    for attendance in activities.list_attendance(activities.get_activity(activity_id)):
        assert ledger.balances(attendance.member_id)["HOURS"]["balance"] == 120
    assert ledger.verify_ledger().ok
