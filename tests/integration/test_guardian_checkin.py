"""Issue 21, finding 3: a guardian checks in their ward from their own phone (/scan?for=
the ward checks in the ward, never the guardian; someone else's ward is refused), and the
ward's badge shows a code a person can type, which the organizer's badge page takes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.activities_factories import create_activity
from timebank.activities import operations as activities
from timebank.activities.errors import TokenInvalid
from timebank.activities.models import Attendance
from timebank.extensions import db
from timebank.people import operations as people


def _scene(district, make_member, clock):
    clock.frozen = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    organizer = make_member(district["a"], roles=("organizer",))
    ward = make_member(district["building_a"], name="张奶奶", password=None)
    guardian = make_member(district["building_a"], name="张女儿")
    people.add_guardian(ward, guardian, relation="女儿", actor=None)
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=clock.now() - timedelta(minutes=5)
    )
    db.session.commit()
    return organizer, ward, guardian, activity


def _attendance_of(member_id: int) -> list[Attendance]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Attendance).where(Attendance.member_id == member_id)))


def test_a_guardian_types_the_kiosk_code_for_their_ward(
    client, district, make_member, login, clock
):
    _organizer, ward, guardian, activity = _scene(district, make_member, clock)
    login(guardian)
    client.post("/lang/en")
    home = client.get("/").get_data(as_text=True)
    assert f'href="/scan?for={ward.id}"' in home and "Check them in" in home
    scan = client.get(f"/scan?for={ward.id}").get_data(as_text=True)
    assert "You are checking in 张奶奶, not yourself." in scan
    assert f'action="/scan/code?for={ward.id}"' in scan
    assert f'/checkin/TOKEN?for={ward.id}"' in scan  # the camera's way keeps acting too
    code = activities.kiosk_short_code(activity.id, activities.step_of(clock.now()))
    typed = client.post(f"/scan/code?for={ward.id}", data={"code": code})
    assert typed.headers["Location"].endswith(f"/checkin/{code}?for={ward.id}")
    page = client.get(typed.headers["Location"]).get_data(as_text=True)
    assert "You are checking in 张奶奶, not yourself." in page
    done = client.post(typed.headers["Location"], data={}).get_data(as_text=True)
    assert "You are checked in." in done and "张奶奶 is the one checked in, not you." in done
    assert [a.activity_id for a in _attendance_of(ward.id)] == [activity.id]
    assert _attendance_of(guardian.id) == []  # the guardian herself is not checked in


def test_someone_elses_ward_is_refused_clearly(client, district, make_member, login, clock):
    _organizer, ward, _guardian, activity = _scene(district, make_member, clock)
    stranger = make_member(district["building_a"])
    login(stranger)
    client.post("/lang/en")
    code = activities.kiosk_short_code(activity.id, activities.step_of(clock.now()))
    refused = client.post(f"/checkin/{code}?for={ward.id}", data={})
    assert refused.status_code in (403, 404)
    assert _attendance_of(ward.id) == [] and _attendance_of(stranger.id) == []


def test_the_badge_shows_a_code_to_type_and_the_organizer_types_it(
    client, district, make_member, login, clock
):
    organizer, ward, guardian, activity = _scene(district, make_member, clock)
    login(guardian)
    client.post("/lang/en")
    badge = client.get(f"/me/badge?for={ward.id}").get_data(as_text=True)
    typed = re.search(r'id="badge-code">([0-9]+-[0-9]{6})<', badge).group(1)
    assert typed.startswith(f"{ward.id}-") and "The organizer types this code" in badge
    client.post("/logout")
    login(organizer)
    client.post("/lang/en")
    form = client.get(f"/activities/{activity.id}/badges").get_data(as_text=True)
    assert "The code under the QR code on the volunteer" in form
    clock.advance(timedelta(seconds=20))  # typed a little later: still this step or the last
    done = client.post(f"/activities/{activity.id}/badges", data={"code": typed})
    assert done.status_code in (200, 302)
    assert [a.activity_id for a in _attendance_of(ward.id)] == [activity.id]
    wrong = client.post(
        f"/activities/{activity.id}/badges", data={"code": f"{ward.id}-000000"},
        follow_redirects=True,
    )  # fmt: skip
    assert "This badge code is wrong or has expired" in wrong.get_data(as_text=True)


def test_a_typed_badge_code_expires(app, district, make_member, clock):
    _organizer, ward, _guardian, _activity = _scene(district, make_member, clock)
    typed = activities.current_badge(ward)["short_code"]
    assert activities.verify_badge_code(typed).subject_id == ward.id
    clock.advance(timedelta(minutes=5))
    try:
        activities.verify_badge_code(typed)
    except TokenInvalid:
        pass
    else:
        raise AssertionError("an old typed badge code was taken")
