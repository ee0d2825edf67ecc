"""Operations behind the usability pages (issue 11): the tree's shape, a unit's saved
place, editing an activity, why one cannot join, partial bulk approval, members' records
and search, the statement in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.activities_factories import T0, create_activity
from timebank.activities import operations as activities
from timebank.core.audit import AuditEvent
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people
from timebank.units import operations as units


def code_error(callable_, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as error:
        callable_(*args, **kwargs)
    return error.value.code


@pytest.mark.parametrize(
    ("parent", "kind"),
    [
        (None, "community"),
        (None, "grid"),
        ("street", "grid"),
        ("street", "street"),
        ("a", "building"),
        ("grid_a", "grid"),
        ("grid_a", "street"),
        ("building_a", "building"),
    ],
)
def test_the_tree_keeps_its_shape(app, parent, kind):
    d = factories.create_district()
    parent_id = d[parent].id if parent else None
    assert code_error(units.create_unit, name="新", kind=kind, parent_id=parent_id) == (
        "unit_kind_not_allowed"
    )


def test_each_kind_where_it_belongs(app):
    d = factories.create_district()
    assert units.create_unit(name="二街道", kind="street", parent_id=None).depth == 0
    assert units.create_unit(name="新社区", kind="community", parent_id=d["street"].id)
    assert units.create_unit(name="第9网格", kind="grid", parent_id=d["a"].id)
    assert units.create_unit(name="9号楼", kind="building", parent_id=d["grid_a"].id)
    assert units.create_unit(name="物业", kind="other", parent_id=d["building_a"].id)


def test_a_saved_place_needs_both_numbers(app):
    d = factories.create_district()
    assert code_error(units.set_place, d["a"].id, lat=36.0, lng=None) == "invalid_input"
    assert code_error(units.set_place, d["a"].id, lat=91.0, lng=1.0) == "invalid_input"
    units.set_place(d["a"].id, lat=36.06, lng=103.83)
    assert (d["a"].lat, d["a"].lng) == (36.06, 103.83)
    units.set_place(d["a"].id, lat=None, lng=None)
    assert d["a"].lat is None


def test_edit_is_free_before_check_in_and_fixed_after(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(d["a"], organizer=organizer, points_per_hour=10)
    activities.update_activity(activity, actor=organizer, points_per_hour=20, title=" 新标题 ")
    assert activity.points_per_hour == 20 and activity.title == "新标题"
    activities.manual_check_in(
        activity, factories.create_member(d["building_a"]), actor=organizer, now=T0
    )
    assert (
        code_error(activities.update_activity, activity, actor=organizer, points_per_hour=5)
        == "activity_locked"
    )
    later = activity.ends_at + timedelta(hours=1)
    assert (
        code_error(activities.update_activity, activity, actor=organizer, ends_at=later)
        == "activity_locked"
    )
    activities.update_activity(activity, actor=organizer, description="带手套", capacity=10)
    assert activity.capacity == 10
    edits = list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "activity.edit"))
    )
    assert len(edits) == 2 and "points_per_hour" in edits[0].before


def test_capacity_cannot_drop_below_those_signed_up(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(
        d["a"], organizer=organizer, starts_at=datetime.now(UTC) + timedelta(days=1)
    )
    for _ in range(3):
        activities.sign_up(activity, factories.create_member(d["building_a"]))
    assert code_error(activities.update_activity, activity, actor=organizer, capacity=2) == (
        "invalid_activity"
    )


def test_why_cannot_join(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    member = factories.create_member(d["building_a"])
    soon = datetime.now(UTC) + timedelta(days=1)
    assert activities.why_cannot_join(create_activity(d["a"], starts_at=soon), member) is None
    party = create_activity(d["a"], organizer=organizer, starts_at=soon, kind="party")
    assert activities.why_cannot_join(party, member) == "party_only"
    full = create_activity(d["a"], organizer=organizer, starts_at=soon, capacity=1)
    activities.sign_up(full, member)
    assert activities.why_cannot_join(full, member) is None  # their own place
    assert activities.why_cannot_join(full, factories.create_member(d["a"])) == "full"
    over = create_activity(d["a"], organizer=organizer)  # T0, long past
    assert activities.why_cannot_join(over, member) == "over"
    activities.cancel_activity(full, actor=organizer, reason="雨")
    assert activities.why_cannot_join(full, member) == "cancelled"


def test_bulk_approval_decides_each_on_its_own(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(d["a"], organizer=organizer, points_per_hour=10, checkin_bonus=2)
    good, brief = factories.create_member(d["building_a"]), factories.create_member(d["a"])
    for member, minutes in ((good, 60), (brief, 5)):
        activities.manual_check_in(activity, member, actor=organizer, now=T0)
        activities.manual_check_in(
            activity, member, actor=organizer, now=T0 + timedelta(minutes=minutes)
        )
    own = activities.manual_check_in(activity, organizer, actor=organizer, now=T0).attendance
    ids = [a.id for a in activities.list_attendance(activity)] + [999_999]
    outcome = activities.approve_valid_attendance(activity, ids, actor=organizer)
    assert {a.member_id for a in outcome.decided} == {good.id, brief.id}
    assert sorted(e.code for _i, e in outcome.refused) == ["attendance_not_found", "four_eyes"]
    assert [a.member_id for a in outcome.zero_minutes] == [brief.id]
    assert ledger.balances(good.id)["HOURS"]["balance"] == 60
    assert ledger.balances(brief.id) == {
        "HOURS": {"balance": 0, "held": 0, "available": 0},
        "POINTS": {"balance": 2, "held": 0, "available": 2},
    }
    # a refused one leaves nothing behind: no status, no minutes, no audit row
    assert (own.status, own.minutes, own.decided_by_id) == ("pending", None, None)
    targets = set(db.session.scalars(sa.select(AuditEvent.target)))
    assert f"attendance:{own.id}" not in targets
    assert {f"attendance:{a.id}" for a in outcome.decided} <= targets
    again = activities.approve_valid_attendance(activity, ids, actor=organizer)
    assert ledger.balances(good.id)["HOURS"]["balance"] == 60  # credited once
    assert len(again.decided) == 2


def test_member_records_are_audited(app):
    d = factories.create_district()
    organizer = factories.create_member(d["street"], roles=("organizer",))
    alice = factories.create_member(d["building_a"], name="王秀英")
    other = factories.create_member(d["building_a"])
    assert code_error(
        people.update_member, alice, name="王秀英", phone=other.phone, has_smartphone=True,
        actor=organizer,
    ) == "phone_taken"  # fmt: skip
    people.update_member(alice, name="王秀英", phone="139 1234 5678", has_smartphone=False,
                         actor=organizer)  # fmt: skip
    assert alice.phone == "13912345678"
    assert code_error(people.reinstate_member, alice, actor=organizer) == "member_not_suspended"
    assert code_error(people.suspend_member, alice, actor=organizer, reason=" ") == "invalid_input"
    people.suspend_member(alice, actor=organizer, reason="核实身份")
    assert code_error(people.suspend_member, alice, actor=organizer, reason="x") == (
        "member_not_active"
    )
    people.reinstate_member(alice, actor=organizer)
    people.move_member(alice, d["building_b"].id, actor=organizer)
    assert alice.home_unit.name == "201号楼"
    actions = [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-4:] == ["member.edit", "member.suspend", "member.reinstate", "member.move"]


def test_search_members_by_name_or_phone_a_page_at_a_time(app):
    d = factories.create_district()
    for n in range(12):
        factories.create_member(d["building_a"], name=f"居民{n:02d}", phone=f"1380000{n:04d}")
    first = people.search_members(d["a"].id, per_page=5)
    assert first.total == 12 and first.pages == 3 and len(first.members) == 5
    last = people.search_members(d["a"].id, per_page=5, page=99)
    assert last.page == 3 and len(last.members) == 2
    assert people.search_members(d["a"].id, search="居民03").total == 1
    assert people.search_members(d["a"].id, search="00011").members[0].name == "居民11"
    assert people.search_members(d["a"].id, search="100%").total == 0


def test_amounts_are_said_in_words(app):
    from flask_babel import refresh

    from timebank.activities.form_views import field_message
    from timebank.core.formats import amount, duration, points

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert duration(90) == "1 h 30 min" and duration(120) == "2 h" and duration(5) == "5 min"
        assert duration(90, signed=True) == "+1 h 30 min" and duration(-30, True) == "−30 min"
        assert points(1) == "1 point" and points(7, signed=True) == "+7 points"
        assert amount(60, "HOURS") == "1 h" and amount(60, "POINTS") == "60 points"
        assert field_message("Between 1 and 50000.") == "Between 1 and 50000."
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        refresh()  # Flask-Babel keeps the locale on g, which outlives the request here
        assert duration(90) == "1小时30分钟" and points(7, signed=True) == "+7 积分"
        assert field_message("Between 1 and 50000.") == "应在 1 到 50000 之间。"
        assert field_message("The end must be after the start.") == "结束时间必须晚于开始时间。"
