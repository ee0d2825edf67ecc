"""Activity pages for people: ended ones leave the list, nobody is offered a sign-up they
cannot use, organizers edit (and what stays fixed after the first check-in), form errors
next to their fields in both languages, the place from the unit, bulk approval that
approves the valid ones, and a cancellation that reaches the inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.activities_factories import create_activity
from timebank.activities import operations as activities
from timebank.extensions import db
from timebank.people import operations as people


def now():
    return datetime.now(UTC)


def test_ended_activities_leave_the_default_list(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    create_activity(district["a"], organizer=organizer, title="去年的义剪",
                    starts_at=datetime(2025, 5, 1, 1, tzinfo=UTC))  # fmt: skip
    create_activity(district["a"], organizer=organizer, title="下周的巡逻",
                    starts_at=now() + timedelta(days=7))  # fmt: skip
    db.session.commit()
    login(make_member(district["building_a"]))
    client.post("/lang/en")
    listing = client.get("/activities").get_data(as_text=True)
    assert "下周的巡逻" in listing and "去年的义剪" not in listing and 'id="past-link"' in listing
    past = client.get("/activities?when=past").get_data(as_text=True)
    assert "去年的义剪" in past and "下周的巡逻" not in past


def test_no_sign_up_offered_when_one_cannot_join(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    soon = now() + timedelta(days=1)
    full = create_activity(district["a"], organizer=organizer, starts_at=soon, capacity=1)
    party = create_activity(district["a"], organizer=organizer, starts_at=soon, kind="party")
    over = create_activity(district["a"], organizer=organizer,
                           starts_at=now() - timedelta(days=3))  # fmt: skip
    open_one = create_activity(district["a"], organizer=organizer, starts_at=soon)
    first = make_member(district["building_a"])
    activities.sign_up(full, first)
    db.session.commit()
    login(make_member(district["building_a"]))
    client.post("/lang/en")
    for activity, reason in (
        (full, "All places are taken."),
        (party, "Only party members attend this activity."),
        (over, "This activity is over."),
    ):
        page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
        assert reason in page and 'id="signup"' not in page, reason
    assert 'id="signup"' in client.get(f"/activities/{open_one.id}").get_data(as_text=True)


def test_edit_before_and_after_the_first_check_in(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=now() - timedelta(minutes=10),
        points_per_hour=10,
    )  # fmt: skip
    db.session.commit()
    login(organizer)
    client.post("/lang/en")
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert "Change the activity" in form and 'id="locked-note"' not in form
    starts = activity.starts_at.astimezone(activities.local_zone()).strftime("%Y-%m-%dT%H:%M")
    ends = activity.ends_at.astimezone(activities.local_zone()).strftime("%Y-%m-%dT%H:%M")
    base = {
        "title": "周六环境整治（改）", "category": "cleanup", "kind": "service",
        "description": "带好手套\n八点集合", "starts_at": starts, "ends_at": ends,
        "points_per_hour": "20", "checkin_bonus": "0", "checkin_mode": "kiosk",
        "requires_checkout": "y",
    }  # fmt: skip
    saved = client.post(f"/activities/{activity.id}/edit", data=base)
    assert saved.status_code == 302
    db.session.expire_all()
    assert activity.points_per_hour == 20 and activity.title == "周六环境整治（改）"
    activities.manual_check_in(activity, make_member(district["building_a"]), actor=organizer)
    db.session.commit()
    locked = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert 'id="locked-note"' in locked and "disabled" in locked
    again = client.post(
        f"/activities/{activity.id}/edit",
        data={"title": "新标题", "category": "cleanup", "description": "", "capacity": "30"},
    )
    assert again.status_code == 302
    db.session.expire_all()
    assert activity.title == "新标题" and activity.capacity == 30 and activity.points_per_hour == 20


def test_form_errors_sit_next_to_their_fields_in_chinese(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    login(organizer)
    bad = client.post(
        "/activities/new",
        data={
            "title": "巡逻", "unit_id": district["a"].id, "category": "patrol",
            "kind": "service", "starts_at": "2030-12-01T18:00", "ends_at": "2030-12-01T16:00",
            "checkin_mode": "kiosk",
        },
    ).get_data(as_text=True)  # fmt: skip
    assert "请修正标出的内容" in bad and "结束时间必须晚于开始时间" in bad
    assert "ends_at。" not in bad and 'aria-invalid="true"' in bad


def test_the_units_saved_place_fills_the_activity(client, district, make_member, login):
    from timebank.units import operations as units

    organizer = make_member(district["a"], roles=("organizer",))
    login(organizer)
    client.post("/lang/en")
    client.post(f"/units/{district['a'].id}/place", data={"lat": "36.06", "lng": "103.83"})
    db.session.expire_all()
    assert units.get_unit(district["a"].id).lat == 36.06
    form = client.get("/activities/new").get_data(as_text=True)
    assert f'data-place-for="{district["a"].id}"' in form and "Use my location" in form
    made = client.post(
        "/activities/new",
        data={
            "title": "义诊", "unit_id": district["a"].id, "category": "free_clinic",
            "kind": "service", "starts_at": "2030-12-01T09:00", "ends_at": "2030-12-01T11:00",
            "checkin_mode": "kiosk", "use_unit_place": "y",
        },
    )  # fmt: skip
    assert made.status_code == 302
    [activity] = activities.list_activities(organizer, when="upcoming")
    assert (activity.lat, activity.lng, activity.radius_m) == (36.06, 103.83, 200)


def test_bulk_approval_approves_the_valid_and_reports_the_rest(
    client, district, make_member, login
):
    organizer = make_member(district["a"], roles=("organizer",))
    start = now() - timedelta(hours=3)
    activity = create_activity(district["a"], organizer=organizer, starts_at=start, hours=2)
    ok, quick, missing = (make_member(district["building_a"], name=n) for n in ("甲", "乙", "丙"))
    ids = []
    for member, stay in ((ok, 90), (quick, 5), (missing, None)):
        activities.manual_check_in(activity, member, actor=organizer, now=start)
        if stay is not None:
            activities.manual_check_in(
                activity, member, actor=organizer, now=start + timedelta(minutes=stay)
            )
    own = activities.manual_check_in(activity, organizer, actor=organizer, now=start)
    db.session.commit()
    for row in activities.list_attendance(activity):
        ids.append(str(row.id))
    # a missing check-out is closed at the window's end once it has passed: make one that
    # cannot be, with a second activity still running
    login(organizer)
    client.post("/lang/en")
    done = client.post(
        f"/activities/{activity.id}/attendance", data={"ids": ids, "decision": "approve"}
    )
    assert done.status_code == 302
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "3 approved and credited." in page and "1 could not be approved:" in page
    assert "Another organizer must approve your own or your ward" in page
    assert "乙: approved with 0 minutes" in page
    statuses = {a.member.name: a.status for a in activities.list_attendance(activity)}
    assert statuses["甲"] == statuses["丙"] == "approved" and own.attendance.status != "approved"


def test_cancelling_tells_the_signed_up_in_their_inbox(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"])
    activity = create_activity(district["a"], organizer=organizer, title="周日义剪",
                               starts_at=now() + timedelta(days=2))  # fmt: skip
    activities.sign_up(activity, volunteer)
    db.session.commit()
    login(organizer)
    client.post(f"/activities/{activity.id}/cancel", data={"reason": "理发师生病"})
    client.post("/logout")
    login(volunteer)
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "周日义剪" in inbox and "理发师生病" in inbox
    assert people.get_member(volunteer.id)
