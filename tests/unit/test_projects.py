"""The three lists' operations without HTTP: state machines, claims and capacity, hour
logs and their caps, approval and the ledger, small wishes, and closing the loop."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.projects_factories import JPEG, PNG, T0, create_project, file_need, running_project
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Transfer
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.projects.models import PROJECT_STATUSES, HourLog, ProjectEvent
from timebank.projects.reasons import decode
from timebank.units import operations as units

DAY = T0.date()  # 2026-03-14, a Saturday (09:00 local at T0)


@pytest.fixture
def d(app, tmp_path):
    app.config["TIMEBANK_PHOTO_DIR"] = str(tmp_path / "photos")
    district = factories.create_district()
    district["organizer"] = factories.create_member(district["a"], roles=("organizer",))
    district["volunteer"] = factories.create_member(district["building_a"], name="王秀英")
    district["resident"] = factories.create_member(district["building_a"], name="李大爷")
    return district


def code_of(call) -> str:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value.code


# ---------------------------------------------------------------- project states


def test_a_project_moves_through_its_states_and_records_who_when_and_why(d):
    organizer = d["organizer"]
    project = create_project(d["a"], organizer=organizer, publish=False)
    assert project.status == "draft"
    for to, reason in (("open", None), ("in_progress", None), ("done", None)):
        projects.change_project_status(project, to, actor=organizer, reason=reason, now=T0)
    projects.change_project_status(project, "in_progress", actor=organizer, reason="还有两户没通")
    projects.change_project_status(project, "done", actor=organizer)
    projects.change_project_status(project, "verified", actor=organizer)
    history = [
        (e.from_status, e.to_status, e.actor_id, e.reason)
        for e in projects.project_history(project.id)
        if e.kind == "status"
    ]
    assert history == [
        (None, "draft", organizer.id, None),
        ("draft", "open", organizer.id, None),
        ("open", "in_progress", organizer.id, None),
        ("in_progress", "done", organizer.id, None),
        ("done", "in_progress", organizer.id, "还有两户没通"),
        ("in_progress", "done", organizer.id, None),
        ("done", "verified", organizer.id, None),
    ]


@pytest.mark.parametrize("start", PROJECT_STATUSES)
def test_every_move_outside_the_table_is_an_illegal_transition(d, start):
    project = create_project(d["a"], organizer=d["organizer"], publish=False)
    allowed = projects.PROJECT_TRANSITIONS[start]
    for to in PROJECT_STATUSES:
        project.status = start
        if to in allowed:
            projects.move_project(project, to, actor=d["organizer"])
            assert project.status == to
        else:
            assert code_of(lambda to=to: projects.move_project(project, to, actor=None)) == (
                "illegal_transition"
            )
            assert project.status == start


def test_organizers_cannot_ask_for_staffed_or_skip_steps(d):
    organizer = d["organizer"]
    project = create_project(d["a"], organizer=organizer, publish=False)
    change = projects.change_project_status
    assert code_of(lambda: change(project, "staffed", actor=organizer)) == "illegal_transition"
    assert code_of(lambda: change(project, "verified", actor=organizer)) == "illegal_transition"
    assert code_of(lambda: change(project, "cancelled", actor=organizer)) == "reason_required"
    change(project, "cancelled", actor=organizer, reason="改由物业维修")
    assert code_of(lambda: change(project, "open", actor=organizer)) == "illegal_transition"


def test_verification_waits_for_every_hour_log(d):
    organizer, volunteer = d["organizer"], d["volunteer"]
    project = running_project(d["a"], organizer, members=[volunteer])
    projects.log_hours(
        member=volunteer,
        logged_by=volunteer,
        project=project,
        served_on=DAY,
        minutes=60,
        description="疏通下水井",
        now=T0 + timedelta(hours=2),
    )
    projects.change_project_status(project, "done", actor=organizer)
    change = projects.change_project_status
    assert code_of(lambda: change(project, "verified", actor=organizer)) == "hour_logs_pending"


# ---------------------------------------------------------------- need states


def test_a_need_is_declined_with_a_reason_and_stays_declined(d):
    need = file_need(d["resident"])
    organizer = d["organizer"]
    assert code_of(lambda: projects.decline_need(need, actor=organizer, reason=" ")) == (
        "reason_required"
    )
    projects.decline_need(need, actor=organizer, reason="属物业维修范围,已转物业")
    assert need.status == "declined" and need.decline_reason.startswith("属物业")
    project = create_project(d["a"], organizer=organizer)
    assert code_of(lambda: projects.accept_need(need, project, actor=organizer)) == (
        "illegal_transition"
    )


def test_a_grid_worker_files_for_a_resident_and_the_record_says_so(d):
    worker = factories.create_member(d["grid_a"], roles=("organizer",), name="张网格员")
    need = file_need(d["resident"], filed_by=worker, urgency="urgent", contact_phone=None)
    assert need.filed_on_behalf and need.filed_by_id == worker.id
    assert need.contact_name == "李大爷" and need.contact_phone == d["resident"].phone
    assert need.unit_id == d["building_a"].id
    event = projects.need_history(need.id)[0]
    assert event.kind == "filed"  # the reason is a code with the two members' ids
    assert decode(event.reason) == ("filed_for", {"resident": d["resident"].id, "by": worker.id})
    bad = lambda: file_need(d["resident"], unit_id=d["b"].id)  # noqa: E731
    assert code_of(bad) == "invalid_need"
    assert file_need(d["resident"], unit_id=d["a"].id).unit_id == d["a"].id


def test_a_duplicate_is_merged_and_resolved_with_the_need_it_joined(d):
    organizer, volunteer = d["organizer"], d["volunteer"]
    first = file_need(d["resident"])
    duplicate = file_need(volunteer, title="下水道冒水")
    projects.merge_need(duplicate, first, actor=organizer)
    assert duplicate.status == "merged" and duplicate.merged_into_id == first.id
    assert code_of(lambda: projects.merge_need(first, first, actor=organizer)) == "invalid_need"
    project = running_project(d["a"], organizer, members=[volunteer], need_ids=[first.id])
    projects.change_project_status(project, "done", actor=organizer)
    projects.change_project_status(project, "verified", actor=organizer)
    assert (first.status, duplicate.status) == ("resolved", "resolved")


def test_a_cancelled_project_gives_its_needs_back_to_the_list(d):
    organizer = d["organizer"]
    need = file_need(d["resident"])
    kept = file_need(d["resident"], title="路灯不亮", category="facilities")
    project = create_project(d["a"], organizer=organizer, need_ids=[need.id, kept.id])
    other = create_project(d["a"], organizer=organizer, title="路灯维修", need_ids=[kept.id])
    assert [p.id for p in kept.projects] == [project.id, other.id]
    projects.change_project_status(project, "cancelled", actor=organizer, reason="下雨")
    assert need.status == "open"  # no other project answers it
    assert kept.status == "accepted"  # still answered by the other one
    reason = projects.need_history(need.id)[-1].reason
    assert decode(reason) == ("project_cancelled", {"title": project.title})


# ---------------------------------------------------------------- claims and capacity


def test_places_fill_up_then_the_project_is_staffed(d):
    organizer = d["organizer"]
    project = create_project(d["a"], organizer=organizer, places=2)
    a, b, c = (factories.create_member(d["building_a"]) for _ in range(3))
    when = T0 - timedelta(days=1)
    projects.claim_place(project, a, now=when)
    assert projects.claim_place(project, a, now=when).status == "active"  # idempotent
    projects.claim_place(project, b, now=when)
    assert project.status == "staffed" and projects.places_taken(project.id) == 2
    assert code_of(lambda: projects.claim_place(project, c, now=when)) == "project_full"
    projects.withdraw_claim(project, a, actor=a, reason="临时出差", now=when)
    assert project.status == "open"
    projects.claim_place(project, c, now=when)
    assert project.status == "staffed"
    late = T0 + timedelta(minutes=1)
    withdraw = lambda: projects.withdraw_claim(project, c, actor=c, now=late)  # noqa: E731
    assert code_of(withdraw) == "project_started"


def test_claims_need_an_open_project_before_its_deadline(d):
    organizer = d["organizer"]
    draft = create_project(d["a"], organizer=organizer, publish=False)
    volunteer = d["volunteer"]
    assert code_of(lambda: projects.claim_place(draft, volunteer, now=T0)) == "project_not_open"
    project = create_project(d["a"], organizer=organizer, deadline=T0 - timedelta(days=1))
    late = T0 - timedelta(hours=1)
    assert code_of(lambda: projects.claim_place(project, volunteer, now=late)) == "claims_closed"


def test_an_assignment_holds_a_place_until_it_is_accepted_or_declined(d):
    organizer = d["organizer"]
    project = create_project(d["a"], organizer=organizer, places=1)
    volunteer, other = d["volunteer"], factories.create_member(d["building_a"])
    claim = projects.assign_member(project, volunteer, actor=organizer, now=T0 - timedelta(days=1))
    assert (claim.kind, claim.status, project.status) == ("assignment", "pending", "staffed")
    assert code_of(lambda: projects.assign_member(project, volunteer, actor=organizer)) == (
        "already_serving"
    )
    decline = lambda: projects.answer_assignment(claim, accept=False, actor=volunteer)  # noqa: E731
    assert code_of(decline) == "reason_required"
    projects.answer_assignment(claim, accept=False, actor=volunteer, reason="那天要照顾孙子")
    assert (claim.status, project.status) == ("declined", "open")
    again = projects.assign_member(project, other, actor=organizer)
    projects.answer_assignment(again, accept=True, actor=other)
    assert again.status == "active"
    answer = lambda: projects.answer_assignment(again, accept=True, actor=other)  # noqa: E731
    assert code_of(answer) == "assignment_not_pending"
    changes = [(e.kind, e.to_status, e.member_id) for e in projects.project_history(project.id)]
    assert changes[2:] == [
        ("assign", None, volunteer.id),
        ("status", "staffed", None),
        ("decline", None, volunteer.id),
        ("status", "open", None),
        ("assign", None, other.id),
        ("status", "staffed", None),
        ("accept", None, other.id),
    ]
    assert projects.project_history(project.id)[4].reason == "那天要照顾孙子"


def test_a_partner_organization_claims_and_its_contact_names_who_serves(d):
    organizer = d["organizer"]
    org = units.create_organization(
        unit_id=d["street"].id, name="兰州石化公司", kind="company", contact=None
    )
    contact, worker, outsider = (factories.create_member(d["building_a"]) for _ in range(3))
    projects.add_organization_member(org, contact, role="contact", actor=organizer)
    projects.add_organization_member(org, worker, role="member", actor=organizer)
    project = create_project(d["a"], organizer=organizer, places=2)
    when = T0 - timedelta(days=1)
    claim_for = projects.claim_for_organization
    assert code_of(lambda: claim_for(project, org, contact=worker, member_ids=[worker.id])) == (
        "not_organization_contact"
    )
    assert (
        code_of(
            lambda: claim_for(project, org, contact=contact, member_ids=[worker.id, outsider.id])
        )
        == "not_organization_member"
    )
    claims = claim_for(project, org, contact=contact, member_ids=[contact.id, worker.id], now=when)
    assert {(c.member_id, c.kind, c.organization_id) for c in claims} == {
        (contact.id, "organization", org.id),
        (worker.id, "organization", org.id),
    }
    assert project.status == "staffed"
    event = projects.project_history(project.id)[-2]
    assert event.kind == "organization_claim" and "兰州石化公司" in event.reason


def test_naming_more_people_than_places_claims_nothing(d):
    organizer = d["organizer"]
    org = units.create_organization(
        unit_id=d["a"].id, name="西固区人民医院", kind="hospital", contact=None
    )
    people_ = [factories.create_member(d["building_a"]) for _ in range(3)]
    for n, member in enumerate(people_):
        projects.add_organization_member(
            org, member, role="contact" if n == 0 else "member", actor=organizer
        )
    project = create_project(d["a"], organizer=organizer, places=2)
    ids = [m.id for m in people_]
    claim = lambda: projects.claim_for_organization(  # noqa: E731
        project, org, contact=people_[0], member_ids=ids, now=T0 - timedelta(days=1)
    )
    assert code_of(claim) == "project_full"
    assert projects.places_taken(project.id) == 0


# ---------------------------------------------------------------- hour logs


def log(member, project, *, minutes=60, served_on=DAY, **kwargs):
    return projects.log_hours(
        member=member,
        logged_by=kwargs.pop("logged_by", member),
        project=project,
        served_on=served_on,
        minutes=minutes,
        description=kwargs.pop("description", "疏通下水井,清理淤泥"),
        now=kwargs.pop("now", T0 + timedelta(hours=3)),
        **kwargs,
    )


def test_hours_are_reported_by_those_who_serve_within_the_schedule(d):
    organizer, volunteer, stranger = d["organizer"], d["volunteer"], d["resident"]
    project = create_project(d["a"], organizer=organizer, hours=4)
    projects.claim_place(project, volunteer, now=T0 - timedelta(days=1))
    assert code_of(lambda: log(volunteer, project)) == "project_not_running"
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    assert code_of(lambda: log(stranger, project)) == "not_serving"
    before = DAY - timedelta(days=1)
    assert code_of(lambda: log(volunteer, project, served_on=before)) == "outside_schedule"
    future = T0 - timedelta(hours=2)  # the day has not come yet, locally
    assert (
        code_of(lambda: log(volunteer, project, served_on=DAY, now=future - timedelta(days=1)))
        == "outside_schedule"
    )
    assert code_of(lambda: log(volunteer, project, minutes=10)) == "invalid_hour_log"
    assert code_of(lambda: log(volunteer, project, description=" ")) == "invalid_hour_log"
    log(volunteer, project, minutes=180)
    assert code_of(lambda: log(volunteer, project, minutes=90)) == "over_schedule"  # 4 h a day
    assert log(volunteer, project, minutes=60).minutes == 60


def test_a_rejected_log_does_not_count_against_the_day(d):
    organizer, volunteer = d["organizer"], d["volunteer"]
    project = running_project(d["a"], organizer, members=[volunteer], hours=2)
    first = log(volunteer, project, minutes=120)
    projects.reject_hour_logs([first.id], actor=organizer, reason="时长与签到记录不符")
    assert log(volunteer, project, minutes=90).status == "pending"


def test_a_photo_is_checked_by_its_bytes_and_kept_in_the_photo_folder(d, app):
    organizer, volunteer = d["organizer"], d["volunteer"]
    project = running_project(d["a"], organizer, members=[volunteer])
    with_photo = log(volunteer, project, photo=PNG)
    assert with_photo.photo_type == "image/png"
    path = projects.photo_path(with_photo.photo_name)
    assert path.parent == projects.photos.photo_dir() and path.read_bytes() == PNG
    assert code_of(lambda: log(volunteer, project, minutes=15, photo=b"<svg>" + b" " * 64)) == (
        "invalid_photo"
    )
    app.config["TIMEBANK_PHOTO_MAX_BYTES"] = 50
    assert code_of(lambda: log(volunteer, project, minutes=15, photo=JPEG)) == "photo_too_large"
    for name in ("../app.css", "/etc/passwd", "x" * 32 + ".jpg", None):
        assert code_of(lambda name=name: projects.photo_path(name)) == "photo_not_found"


def test_a_photo_from_a_rolled_back_transaction_is_removed(d):
    volunteer = d["volunteer"]
    project = running_project(d["a"], d["organizer"], members=[volunteer])
    db.session.commit()
    entry = log(volunteer, project, photo=JPEG)
    path = projects.photo_path(entry.photo_name)
    db.session.rollback()
    assert not path.exists()


# ---------------------------------------------------------------- approval and the ledger


def test_approval_credits_hours_and_points_once_with_the_hour_log_key(d):
    organizer, volunteer = d["organizer"], d["volunteer"]
    project = running_project(d["a"], organizer, members=[volunteer], points_per_hour=10)
    entry = log(volunteer, project, minutes=100)
    outcome = projects.approve_hour_logs([entry.id], actor=organizer)
    assert outcome.decided == [entry] and not outcome.refused
    # 100 minutes rounded down to the deployment's 15: 90 minutes, 15 points
    assert (entry.status, entry.credited_minutes, entry.credited_points) == ("approved", 90, 15)
    balances = ledger.balances(volunteer.id)
    assert (balances["HOURS"]["balance"], balances["POINTS"]["balance"]) == (90, 15)
    keys = set(db.session.scalars(sa.select(Transfer.idempotency_key)))
    assert keys == {f"hourlog:{entry.id}:HOURS", f"hourlog:{entry.id}:POINTS"}
    transfer = db.session.scalar(sa.select(Transfer).where(Transfer.ledger == "HOURS"))
    assert (transfer.code, transfer.reference_type, transfer.reference_id) == (
        "earn_project",
        "hour_log",
        str(entry.id),
    )
    projects.approve_hour_logs([entry.id], actor=organizer)  # again: nothing more
    assert ledger.balances(volunteer.id)["HOURS"]["balance"] == 90
    assert db.session.scalar(sa.select(sa.func.count(Transfer.id))) == 2


def test_bulk_approval_approves_the_valid_logs_and_reports_the_others(d):
    organizer, volunteer = d["organizer"], d["volunteer"]
    project = running_project(d["a"], organizer, members=[volunteer, organizer])
    good = log(volunteer, project, minutes=60)
    own = log(organizer, project, minutes=60)
    rejected = log(volunteer, project, minutes=30, served_on=DAY, now=T0 + timedelta(hours=4))
    projects.reject_hour_logs([rejected.id], actor=organizer, reason="重复填报")
    outcome = projects.approve_hour_logs(
        [good.id, own.id, rejected.id, 2147483647], actor=organizer
    )
    assert [entry.id for entry in outcome.decided] == [good.id]
    assert {(i, e.code) for i, e in outcome.refused} == {
        (own.id, "four_eyes"),
        (rejected.id, "hour_log_decided"),
        (2147483647, "hour_log_not_found"),
    }
    assert (good.status, own.status) == ("approved", "pending")
    assert ledger.balances(organizer.id)["HOURS"]["balance"] == 0


def test_hours_of_an_organization_claim_credit_the_members_who_served(d):
    organizer = d["organizer"]
    org = units.create_organization(
        unit_id=d["a"].id, name="兰州石化公司", kind="company", contact=None
    )
    contact, worker = (factories.create_member(d["building_a"]) for _ in range(2))
    projects.add_organization_member(org, contact, role="contact", actor=organizer)
    projects.add_organization_member(org, worker, role="member", actor=organizer)
    project = create_project(d["a"], organizer=organizer)
    projects.claim_for_organization(
        project, org, contact=contact, member_ids=[worker.id], now=T0 - timedelta(days=1)
    )
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    entry = log(worker, project, logged_by=contact, as_contact=True, minutes=120)
    assert (entry.member_id, entry.logged_by_id, entry.organization_id) == (
        worker.id,
        contact.id,
        org.id,
    )
    projects.approve_hour_logs([entry.id], actor=organizer)
    assert ledger.balances(worker.id)["HOURS"]["balance"] == 120
    assert ledger.balances(contact.id)["HOURS"]["balance"] == 0
    # a volunteer's place is not the contact's to report
    volunteer = d["volunteer"]
    projects.change_project_status(project, "done", actor=organizer)
    assert code_of(lambda: log(volunteer, project, logged_by=contact, as_contact=True)) == (
        "not_serving"
    )


# ---------------------------------------------------------------- small wishes


def test_a_small_wish_is_taken_fulfilled_approved_and_rated(d, app):
    organizer, volunteer, resident = d["organizer"], d["volunteer"], d["resident"]
    wish = file_need(resident, title="想要一辆轮椅", category="elderly_care", is_wish=True)
    someone = factories.create_member(d["building_a"])
    projects.take_wish(wish, volunteer)
    assert code_of(lambda: projects.take_wish(wish, someone)) == "wish_taken"
    assert (wish.status, wish.taker_id) == ("accepted", volunteer.id)
    when = wish.created_at + timedelta(hours=2)
    entry = projects.log_hours(
        member=volunteer,
        logged_by=volunteer,
        need=wish,
        served_on=projects.local_date(when),
        minutes=60,
        description="送轮椅上门并教会使用",
        now=when,
    )
    release = lambda: projects.release_wish(wish, volunteer, reason="忙")  # noqa: E731
    assert code_of(release) == "hour_logs_pending"
    projects.approve_hour_logs([entry.id], actor=organizer)
    assert wish.status == "resolved"
    points = app.config["TIMEBANK_WISH_POINTS_PER_HOUR"]
    assert ledger.balances(volunteer.id)["POINTS"]["balance"] == points
    confirm = projects.confirm_need
    assert code_of(lambda: confirm(wish, actor=resident, rating=6)) == "invalid_need"
    confirm(wish, actor=resident, rating=5, feedback="非常感谢")
    assert (wish.rating, wish.confirmed_by_id) == (5, resident.id)
    assert code_of(lambda: confirm(wish, actor=resident, rating=4)) == "already_confirmed"


def test_only_a_wish_is_taken(d):
    need = file_need(d["resident"])
    assert code_of(lambda: projects.take_wish(need, d["volunteer"])) == "not_a_wish"
    assert code_of(lambda: projects.confirm_need(need, actor=d["resident"], rating=5)) == (
        "need_not_resolved"
    )


# ---------------------------------------------------------------- the loop, the record


def test_from_a_need_to_verified_hours_and_a_resolved_need(d):
    """点单 a resident files, 派单 the community assigns, 接单 a party member takes it."""
    organizer, resident = d["organizer"], d["resident"]
    party_member = factories.create_member(d["building_a"], name="党员甲")
    people.register_party(
        party_member,
        branch="兰州石化公司第二党支部",
        reported_unit_id=d["a"].id,
        reported_on=date(2026, 1, 5),
    )
    need = file_need(resident)
    project = create_project(d["a"], organizer=organizer, need_ids=[need.id])
    assert need.status == "accepted" and [p.id for p in need.projects] == [project.id]
    assignment = projects.assign_member(
        project, party_member, actor=organizer, now=T0 - timedelta(days=2)
    )
    projects.answer_assignment(assignment, accept=True, actor=party_member)
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    entry = log(party_member, project, minutes=120)
    projects.approve_hour_logs([entry.id], actor=organizer)
    projects.change_project_status(project, "done", actor=organizer)
    projects.change_project_status(project, "verified", actor=organizer)
    assert need.status == "resolved" and need.resolved_at is not None
    assert ledger.balances(party_member.id)["HOURS"]["balance"] == 120
    projects.confirm_need(need, actor=resident, rating=4, feedback="下水通了")
    from timebank.reports import operations as reports

    row = {r.member.id: r for r in reports.party_report(d["a"].id, now=T0)}[party_member.id]
    assert row.project_minutes == 120


def test_contacts_are_shown_only_to_those_who_handle_the_need(d):
    organizer, volunteer, resident = d["organizer"], d["volunteer"], d["resident"]
    need = file_need(resident, contact_phone="0931-7654321")
    other = factories.create_member(d["building_a"])
    organized = projects.organized_units_select([d["a"].id])

    def sees(member, scope=None):
        return projects.seen_needs(member, [need], scope)[0].contact_phone

    assert sees(other) is None
    assert sees(resident) == "0931-7654321"
    assert sees(organizer, organized) == "0931-7654321"
    project = create_project(d["a"], organizer=organizer, need_ids=[need.id])
    assert sees(volunteer) is None
    projects.claim_place(project, volunteer, now=T0 - timedelta(days=1))
    assert sees(volunteer) == "0931-7654321"
    assert projects.seen_needs(other, [need], None)[0].title == "污水外溢"


def test_the_history_cannot_be_edited_or_deleted(d):
    project = create_project(d["a"], organizer=d["organizer"])
    db.session.commit()
    for statement in (
        sa.update(ProjectEvent).values(reason="改过"),
        sa.delete(ProjectEvent),
    ):
        with pytest.raises(sa.exc.DBAPIError):
            db.session.execute(statement)
            db.session.flush()
        db.session.rollback()
    assert len(projects.project_history(project.id)) == 2
    assert db.session.scalar(sa.select(sa.func.count(HourLog.id))) == 0


def _inbox_of(member) -> list[tuple[str, str, str]]:
    from timebank.inbox.models import Notification

    rows = db.session.scalars(
        sa.select(Notification).where(Notification.member_id == member.id).order_by(Notification.id)
    )
    return [(n.kind, n.title, n.body) for n in rows]


def test_an_assignment_and_rejected_hours_reach_the_member_s_inbox_once(d):
    organizer, volunteer = d["organizer"], d["volunteer"]
    project = create_project(d["a"], organizer=organizer, places=2, title="独居老人助餐")
    claim = projects.assign_member(project, volunteer, actor=organizer, now=T0 - timedelta(days=1))
    [(kind, title, body)] = _inbox_of(volunteer)
    assert (kind, title) == ("project_assigned", "派给您的任务：独居老人助餐")
    assert organizer.name in body and "2026-03-14 09:00" in body
    projects.answer_assignment(claim, accept=True, actor=volunteer)
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    entry = log(volunteer, project, minutes=60)
    projects.reject_hour_logs([entry.id], actor=organizer, reason="照片看不清")
    projects.reject_hour_logs([entry.id], actor=organizer, reason="照片看不清")  # nothing more
    notices = _inbox_of(volunteer)
    assert [n[0] for n in notices] == ["project_assigned", "hours_rejected"]
    assert notices[1][1] == "工时未通过：独居老人助餐" and "照片看不清" in notices[1][2]
