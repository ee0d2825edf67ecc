"""Issue 21, finding 2: a volunteer sees the hours that wait for approval: the duration
after check-out, on /me/activities, at home and on the statement, and, for a check-in held
back, what is held, how long and why, in words a volunteer understands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.activities_factories import check_in, create_activity
from timebank.activities import operations as activities
from timebank.extensions import db


def test_after_check_out_the_volunteer_sees_the_duration_everywhere(
    client, district, make_member, login, clock
):
    clock.frozen = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=clock.now() - timedelta(minutes=5)
    )
    db.session.commit()
    volunteer = make_member(district["building_a"])
    login(volunteer)
    client.post("/lang/en")
    token = activities.kiosk_token(activity.id, activities.step_of(clock.now()))
    assert "You are checked in." in client.post(f"/checkin/{token}", data={}).get_data(as_text=True)
    mine = client.get("/me/activities").get_data(as_text=True)
    assert "still checked in" in mine  # no duration before the check-out, said so

    clock.advance(timedelta(minutes=95))  # 1 h 35 min: rounded down to 1 h 30 min
    token = activities.kiosk_token(activity.id, activities.step_of(clock.now()))
    out = client.post(f"/checkin/{token}", data={}).get_data(as_text=True)
    assert "You are checked out." in out and "Time served: 1 h 30 min" in out
    assert "Hours are credited when the organizer approves." in out

    mine = client.get("/me/activities").get_data(as_text=True)
    row = mine[mine.index('data-status="pending"') :].split("</tr>")[0]
    assert "1 h 30 min" in row and "Waiting for the organizer" in row
    home = client.get("/").get_data(as_text=True)
    assert "Hours waiting for approval" in home
    assert "1 h 30 min in all: credited once an organizer approves." in home
    statement = client.get("/me/statement").get_data(as_text=True)
    card = statement[statement.index('id="pending-hours"') :].split("</section>")[0]
    assert activity.title in card and "1 h 30 min" in card

    # once approved, nothing waits any more
    ids = [a.id for a in activities.my_attendance(volunteer)]
    activities.approve_attendance(activity, ids, actor=organizer, now=clock.now())
    db.session.commit()
    assert "pending-hours" not in client.get("/").get_data(as_text=True)


def test_a_held_check_in_says_what_how_long_and_why(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    starts = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    activity = create_activity(district["a"], organizer=organizer, starts_at=starts)
    volunteer = make_member(district["building_a"])
    held = check_in(volunteer, activity, at=starts, status="review")
    held.review_reason = "outside_radius,typed_code"
    held.checked_out_at = starts + timedelta(hours=1)
    db.session.commit()
    login(volunteer)
    zh = client.get("/me/activities").get_data(as_text=True)
    assert "待审核（风险）" not in zh
    assert (
        "暂缓：组织者需先核实，因为您扫码时不在活动范围内；您是手动输入签到码，而不是扫码。" in zh
    )
    assert "1小时" in zh[zh.index('data-status="review"') :].split("</tr>")[0]
    client.post("/lang/en")
    page = client.get("/me/statement").get_data(as_text=True)
    card = page[page.index('id="pending-hours"') :].split("</section>")[0]
    assert "1 h" in card and activity.title in card
    assert (
        "Held: the organizer checks it first, because you scanned outside the activity&#39;s"
        " area; you typed the code instead of scanning it." in card
    )
