"""A scan is decided from reads and written after them: on SQLite the reads take no write
lock, so a flash crowd waits only for one another's inserts. What another scan of the same
member wrote in between is kept out by the unique constraints, on both databases, and the
later scan becomes a replay of the first, never an error or a second row."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.activities_factories import create_activity
from tests.conftest import ON_POSTGRES
from tests.statements import recorded_statements, verbs
from timebank.activities import operations as activities
from timebank.activities.models import Attendance, CheckIn
from timebank.activities.operations import scans
from timebank.core.errors import Conflict
from timebank.extensions import db
from timebank.people import operations as people

pytestmark = pytest.mark.concurrent


def now():
    return datetime.now(UTC)


def in_another_session(app, work) -> None:
    """``work()`` committed by another thread with its own session: a concurrent request."""
    failures = []

    def run():
        with app.app_context():
            try:
                work()
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported to the test
                failures.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert failures == []


def plan(activity, member, *, at, method="kiosk", nonce=None, actor=None):
    """A scan decided from reads, whose read transaction then ends (as on SQLite)."""
    planned = scans._plan_scan(
        activity, member, at=at, method=method, now=at, step=None, lat=None, lng=None,
        nonce=nonce, actor=actor, typed=False, late=False,
    )  # fmt: skip
    db.session.commit()
    return planned


def rows(model, activity_id: int) -> int:
    db.session.expire_all()
    return db.session.query(model).filter_by(activity_id=activity_id).count()


def test_a_check_in_written_in_between_makes_the_planned_one_its_replay(app, activity_scene):
    activity, volunteer = activity_scene["activity"], activity_scene["volunteer"]
    activity_id, volunteer_id = activity.id, volunteer.id
    planned = plan(activity, volunteer, at=now())
    assert planned.scan["kind"] == "in"

    in_another_session(
        app,
        lambda: activities.manual_check_in(
            activities.get_activity(activity_id), people.get_member(volunteer_id),
            actor=people.get_member(activity_scene["organizer"].id),
        ),
    )  # fmt: skip
    result = scans._write_scan(planned, now=now())
    db.session.commit()

    assert result.action == "already_checked_in"
    assert result.checkin.method == "manual"  # the scan that was written first
    assert rows(Attendance, activity_id) == 1
    assert rows(CheckIn, activity_id) == 1


def test_a_check_out_written_in_between_makes_the_planned_one_its_replay(app, activity_scene):
    activity, volunteer, organizer = (
        activity_scene["activity"],
        activity_scene["volunteer"],
        activity_scene["organizer"],
    )
    activity_id, volunteer_id, organizer_id = activity.id, volunteer.id, organizer.id
    checked_in_at = activity.starts_at + timedelta(minutes=1)
    activities.manual_check_in(activity, volunteer, actor=organizer, now=checked_in_at)
    db.session.commit()
    planned = plan(activity, volunteer, at=now(), method="manual", actor=organizer)
    assert planned.scan["kind"] == "out"

    in_another_session(
        app,
        lambda: activities.manual_check_in(
            activities.get_activity(activity_id), people.get_member(volunteer_id),
            actor=people.get_member(organizer_id), now=now(),
        ),
    )  # fmt: skip
    result = scans._write_scan(planned, now=now())
    db.session.commit()

    assert result.action == "already_checked_out"
    assert rows(CheckIn, activity_id) == 2  # one in, one out
    attendance = db.session.query(Attendance).filter_by(activity_id=activity_id).one()
    assert attendance.checked_out_at is not None


def test_a_nonce_taken_in_between_refuses_the_scan_and_leaves_no_attendance(app, activity_scene):
    volunteer, organizer = activity_scene["volunteer"], activity_scene["organizer"]
    volunteer_id = volunteer.id
    first = activity_scene["activity"]
    second = create_activity(
        activity_scene["a"],
        organizer=organizer,
        starts_at=now() - timedelta(minutes=5),
        title="第二场",
    )
    db.session.commit()
    first_id, second_id = first.id, second.id
    planned = plan(second, volunteer, at=now(), nonce="phone-upload-1")

    def upload_to_the_first():
        token = activities.kiosk_token(first_id, activities.step_of(now()))
        activities.check_in(people.get_member(volunteer_id), token, nonce="phone-upload-1")

    in_another_session(app, upload_to_the_first)
    with pytest.raises(Conflict):
        scans._write_scan(planned, now=now())
    db.session.rollback()  # as the unit of work does

    assert rows(Attendance, second_id) == 0
    assert rows(CheckIn, second_id) == 0
    assert rows(CheckIn, first_id) == 1


def test_on_sqlite_a_check_in_takes_the_write_lock_only_to_write(client, activity_scene, token_for):
    if ON_POSTGRES:
        pytest.skip("a SQLite-only detail: PostgreSQL's readers take no lock")
    activity_id = activity_scene["activity"].id
    headers = token_for(activity_scene["volunteer"])
    token = activities.kiosk_token(activity_id, activities.step_of(now()))
    db.session.expunge_all()  # the request reads what it needs, as in production
    with recorded_statements(lock=True) as statements:
        response = client.post("/api/v1/checkins", json={"token": token}, headers=headers)

    assert response.status_code == 201, response.json
    # the token, the activity and the member's earlier scans are read before the lock;
    # holding it, the request only writes the attendance and the scan
    seen = verbs(statements)
    assert seen == ["SELECT", "SELECT", "SELECT", "BEGIN IMMEDIATE", "INSERT", "INSERT"]
