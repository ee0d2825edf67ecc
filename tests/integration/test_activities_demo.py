"""The demo's activities: months of approved attendance in balances and statements, work
waiting for the organizers (attendance to approve or review, a four-eyes award), an
activity running now, upcoming ones, a guardian whose ward has served, a ledger that
verifies and whose every account reads in time order, and a second run that changes
nothing."""

import pytest
import sqlalchemy as sa

from timebank.activities import operations as activities
from timebank.activities.demo import ward_and_guardian
from timebank.activities.models import Activity, Attendance
from timebank.core.clock import utcnow
from timebank.demo import DEMO_PASSWORD
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import PendingCredit
from timebank.people import operations as people

pytestmark = pytest.mark.demo  # the demo `make run` loads on SQLite


def months(moments) -> set[str]:
    zone = activities.local_zone()
    return {m.astimezone(zone).strftime("%Y-%m") for m in moments}


def approved_at(member) -> list:
    return db.session.scalars(
        sa.select(Attendance.checked_in_at).where(
            Attendance.member_id == member.id, Attendance.status == "approved"
        )
    ).all()


def test_the_demo_has_months_of_activities_and_work_waiting(app):
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["demo", "--members", "40"])
    assert loaded.exit_code == 0, loaded.output
    assert "Demo activities:" in loaded.output
    volunteer = people.find_member_by_phone("13900000000")
    organizer = people.find_member_by_phone("13800000001")
    # months of approved service, credited in the ledger at the time it was approved
    assert len(months(approved_at(volunteer))) >= 3
    assert len(months(approved_at(organizer))) >= 2
    history = ledger.member_history(volunteer.id, limit=500)
    assert len(months(line.created_at for line in history if line.code == "earn_checkin")) >= 3
    assert ledger.balances(volunteer.id)["HOURS"]["balance"] > 600
    zone = activities.local_zone()
    credited = [line.created_at.astimezone(zone) for line in history if line.code == "earn_checkin"]
    assert all(8 <= moment.hour < 22 for moment in credited)  # organizers approve by day
    # yesterday's attendance waits for the organizer; some is held for review, with reasons
    waiting = db.session.scalars(
        sa.select(Attendance).where(Attendance.status.in_(("pending", "review")))
    ).all()
    assert any(a.status == "pending" and a.checked_out_at for a in waiting)
    assert any(a.member_id == volunteer.id for a in waiting)
    reasons = {a.review_reason for a in waiting if a.status == "review"}
    assert {"outside_radius", "late_upload"} <= reasons
    assert db.session.scalar(
        sa.select(sa.func.count(Attendance.id)).where(Attendance.status == "rejected")
    )
    # four-eyes awards wait for a second person (the organizer's for the admin, the
    # admin's for the organizer: reminders/demo.py); another was rejected with a reason
    credits = db.session.scalars(sa.select(PendingCredit)).all()
    assert [c.status for c in credits].count("pending") == 2
    assert any(c.status == "rejected" and c.reject_reason for c in credits)
    admin = people.find_member_by_phone("13800000000")
    assert {c.requested_by_id for c in credits} == {organizer.id, admin.id}
    # one running now, upcoming ones (one full, one for party members), one cancelled
    now = utcnow()
    live = db.session.scalars(
        sa.select(Activity).where(Activity.starts_at <= now, Activity.ends_at > now)
    ).all()
    assert len(live) == 1 and live[0].status == "published"
    assert activities.attendance_counts(live[0].id)["checked_in"] >= 1
    upcoming = db.session.scalars(sa.select(Activity).where(Activity.starts_at > now)).all()
    assert any(a.capacity == activities.active_signup_count(a.id) for a in upcoming)
    assert any(a.kind == "party" for a in upcoming)
    assert any(activities.get_signup(a.id, volunteer.id) for a in upcoming)
    cancelled = db.session.scalars(sa.select(Activity).where(Activity.status == "cancelled"))
    assert [a.cancel_reason for a in cancelled] == ["理发师临时生病，改期另行通知"]
    # every local hour is one a community would choose (07:00 to 19:00), but the live one
    starts = [a.starts_at.astimezone(zone).hour for a in db.session.scalars(sa.select(Activity))]
    assert sum(1 for hour in starts if not 7 <= hour <= 19) <= 1
    # the guardian's ward (no smartphone) served, checked in by the organizer
    ward, guardian = ward_and_guardian()
    assert ward.phone == "13900000007" and not ward.has_smartphone
    assert approved_at(ward) and ledger.balances(ward.id)["HOURS"]["balance"] > 0
    assert f"{guardian.phone} ({guardian.name}) acts for 13900000007" in loaded.output
    assert "pending    13800000001 (李建华" in loaded.output and "live now" in loaded.output
    # the ledger verifies, and every account's entries read in time order
    assert ledger.verify_ledger().ok
    entries = sa.table("entries", sa.column("id"), sa.column("account_id"), sa.column("created_at"))
    later = entries.alias("later")
    assert not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(entries)
        .join(later, sa.and_(later.c.account_id == entries.c.account_id, later.c.id > entries.c.id))
        .where(later.c.created_at < entries.c.created_at)
    )

    count = db.session.scalar(sa.select(sa.func.count(Activity.id)))
    again = runner.invoke(args=["demo", "--members", "40"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert "acts for 13900000007" in again.output
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == count


def test_the_demo_pages_show_the_history_and_the_work(app, client):
    assert app.test_cli_runner().invoke(args=["demo", "--members", "40"]).exit_code == 0
    ward, guardian = ward_and_guardian()
    now = utcnow()
    live = db.session.scalar(
        sa.select(Activity).where(Activity.starts_at <= now, Activity.ends_at > now)
    )
    reviewed = db.session.scalar(
        sa.select(Activity)
        .join(Attendance, Attendance.activity_id == Activity.id)
        .where(Attendance.status == "review")
    )
    organizer = people.find_member_by_phone("13800000001")

    client.post("/login", data={"phone": "13900000000", "password": DEMO_PASSWORD})
    statement = client.get("/me/statement").get_data(as_text=True)
    assert statement.count("参加活动「") >= 10
    listing = client.get("/activities").get_data(as_text=True)
    assert "周末环境卫生大扫除" in listing and live.title in listing
    mine = client.get("/me/activities").get_data(as_text=True)
    assert "楼道清理" in mine
    client.post("/logout")

    client.post("/login", data={"phone": organizer.phone, "password": DEMO_PASSWORD})
    detail = client.get(f"/activities/{reviewed.id}").get_data(as_text=True)
    assert "在活动范围以外扫码" in detail and 'id="attendance"' in detail
    kiosk = client.get(f"/activities/{live.id}/kiosk.json").get_json()
    assert kiosk["checked_in"] >= 1 and kiosk["expires_in"] <= 30
    queue = client.get(f"/units/{organizer.home_unit_id}/pending-credits").get_data(as_text=True)
    assert "连续三个月参加垃圾分类督导" in queue and "不能重复奖励" in queue
    client.post("/logout")

    client.post("/login", data={"phone": guardian.phone, "password": DEMO_PASSWORD})
    home = client.get("/").get_data(as_text=True)
    assert ward.name in home
    ward_statement = client.get(f"/me/statement?for={ward.id}").get_data(as_text=True)
    assert "参加活动「" in ward_statement
