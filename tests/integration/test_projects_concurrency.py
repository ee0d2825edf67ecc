"""Places, daily caps and credits hold under concurrent requests, on SQLite and PostgreSQL:
the project row (or the member's place) is locked while it is counted."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from tests import factories
from tests.projects_factories import T0, create_project
from tests.races import race
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Transfer
from timebank.people.models import Member
from timebank.projects import operations as projects
from timebank.projects.models import Claim, HourLog, ProjectEvent
from timebank.units.models import Organization

pytestmark = pytest.mark.concurrent
BEFORE = T0 - timedelta(days=1)


def run_threads(app, count, work):
    """Run ``work(n)`` in ``count`` threads at once, each in its own app context and
    session, committing like a request; returns each result or error code."""
    return race(app, *(partial(work, n) for n in range(count)))


@pytest.fixture
def world(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    members = [factories.create_member(d["building_a"], password=None) for _ in range(10)]
    db.session.commit()
    return {"d": d, "organizer": organizer, "member_ids": [m.id for m in members]}


def test_the_last_place_goes_to_exactly_one_of_many(app, world):
    project = create_project(world["d"]["a"], organizer=world["organizer"], places=3)
    ids = world["member_ids"]
    for member_id in ids[:2]:
        projects.claim_place(project, db.session.get(Member, member_id), now=BEFORE)
    db.session.commit()
    project_id, racers = project.id, ids[2:]

    def claim(n):
        member = db.session.get(Member, racers[n])
        return projects.claim_place(projects.get_project(project_id), member, now=BEFORE).id

    outcomes = run_threads(app, len(racers), claim)
    db.session.expire_all()  # this session still holds the project as it was before
    winners = [o for o in outcomes if isinstance(o, int)]
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes if not isinstance(o, int)) == ["project_full"] * 7
    assert projects.places_taken(project_id) == 3
    assert projects.get_project(project_id).status == "staffed"
    staffed = db.session.scalar(
        sa.select(sa.func.count(ProjectEvent.id)).where(
            ProjectEvent.project_id == project_id, ProjectEvent.to_status == "staffed"
        )
    )
    assert staffed == 1


def test_an_organization_and_volunteers_race_for_the_places(app, world):
    d, organizer, ids = world["d"], world["organizer"], world["member_ids"]
    org = Organization(unit_id=d["a"].id, name="兰州石化公司", kind="company")
    db.session.add(org)
    db.session.flush()
    named = [db.session.get(Member, i) for i in ids[:3]]
    for n, member in enumerate(named):
        projects.add_organization_member(
            org, member, role="contact" if n == 0 else "member", actor=organizer
        )
    project = create_project(d["a"], organizer=organizer, places=4)
    db.session.commit()
    project_id, org_id, volunteers = project.id, org.id, ids[3:9]

    def race(n):
        project_ = projects.get_project(project_id)
        if n == 0:
            org_ = db.session.get(Organization, org_id)
            contact = db.session.get(Member, ids[0])
            return len(
                projects.claim_for_organization(
                    project_, org_, contact=contact, member_ids=ids[:3], now=BEFORE
                )
            )
        member = db.session.get(Member, volunteers[n - 1])
        return projects.claim_place(project_, member, now=BEFORE) and 1

    outcomes = run_threads(app, 1 + len(volunteers), race)
    assert all(o in (1, 3, "project_full") for o in outcomes), outcomes
    holding = db.session.scalar(
        sa.select(sa.func.count(Claim.id)).where(
            Claim.project_id == project_id, Claim.status == "active"
        )
    )
    assert holding == 4 == sum(o for o in outcomes if isinstance(o, int))


def test_two_organizers_approving_one_log_at_once_credit_it_once(app, world):
    d, organizer = world["d"], world["organizer"]
    second = factories.create_member(d["a"], roles=("organizer",))
    volunteer = db.session.get(Member, world["member_ids"][0])
    project = create_project(d["a"], organizer=organizer)
    projects.claim_place(project, volunteer, now=BEFORE)
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    log = projects.log_hours(
        member=volunteer,
        logged_by=volunteer,
        project=project,
        served_on=T0.date(),
        minutes=120,
        description="送餐",
        now=T0 + timedelta(hours=3),
    )
    db.session.commit()
    log_id, approver_ids = log.id, [organizer.id, second.id]

    def approve(n):
        actor = db.session.get(Member, approver_ids[n])
        return len(projects.approve_hour_logs([log_id], actor=actor).decided)

    assert run_threads(app, 2, approve) == [1, 1]
    assert ledger.balances(volunteer.id)["HOURS"]["balance"] == 120
    keys = db.session.scalars(sa.select(Transfer.idempotency_key).order_by(Transfer.id)).all()
    assert keys == [f"hourlog:{log_id}:HOURS", f"hourlog:{log_id}:POINTS"]


def test_one_members_logs_sent_at_once_stay_within_the_days_schedule(app, world):
    d, organizer = world["d"], world["organizer"]
    volunteer = db.session.get(Member, world["member_ids"][0])
    project = create_project(d["a"], organizer=organizer, hours=4)  # 240 minutes a day
    projects.claim_place(project, volunteer, now=BEFORE)
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    db.session.commit()
    project_id, member_id = project.id, volunteer.id

    def log(n):
        member = db.session.get(Member, member_id)
        return projects.log_hours(
            member=member,
            logged_by=member,
            project=projects.get_project(project_id),
            served_on=T0.date(),
            minutes=90,
            description=f"第{n}次",
            now=T0 + timedelta(hours=5),
        ).id

    outcomes = run_threads(app, 4, log)
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["over_schedule"] * 2, outcomes
    logged = db.session.scalar(sa.select(sa.func.sum(HourLog.minutes)))
    assert logged == 180
