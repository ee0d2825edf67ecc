"""The activities API: publishing, sign-up, kiosk codes, check-ins, approval, permissions."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.activities_factories import create_activity
from tests.statements import recorded_statements
from timebank.activities import operations as activities
from timebank.activities.models import Attendance, CheckIn, Signup
from timebank.extensions import db
from timebank.people import operations as people


def now():
    return datetime.now(UTC)


def token_now(activity_id: int) -> str:
    return activities.kiosk_token(activity_id, activities.step_of(now()))


def test_publish_list_and_get(client, activity_scene, token_for):
    headers = token_for(activity_scene["organizer"])
    body = {
        "unit_id": activity_scene["grid_a"].id,
        "title": "义剪进社区",
        "category": "free_haircut",
        "starts_at": "2026-12-05T09:00:00+08:00",
        "ends_at": "2026-12-05T11:30:00+08:00",
        "capacity": 10,
        "signup_required": True,
        "points_per_hour": 10,
        "lat": 36.06,
        "lng": 103.83,
        "radius_m": 300,
    }
    created = client.post("/api/v1/activities", headers=headers, json=body)
    assert created.status_code == 201, created.json
    assert created.json["starts_at"].startswith("2026-12-05T01:00:00")
    assert created.json["category_name"] == "Free haircut" or created.json["category_name"]
    activity_id = created.json["id"]
    listed = client.get(
        "/api/v1/activities?from=2026-12-05&to=2026-12-05&category=free_haircut", headers=headers
    )
    assert [a["id"] for a in listed.json["items"]] == [activity_id]
    volunteer_headers = token_for(activity_scene["volunteer"])
    assert client.get(
        f"/api/v1/activities/{activity_id}", headers=volunteer_headers
    ).status_code == (200)
    # walk-ins are welcome: a member of another community opens it too (but it is not
    # in their list of activities near them)
    outsider = token_for(factories.create_member(activity_scene["building_b"]))
    assert client.get(f"/api/v1/activities/{activity_id}", headers=outsider).status_code == 200
    near = client.get("/api/v1/activities", headers=outsider).json["items"]
    assert activity_id not in [a["id"] for a in near]
    categories = client.get("/api/v1/activity-categories", headers=headers).json
    assert {"code": "free_haircut", "name": "Free haircut"} in categories or any(
        c["code"] == "free_haircut" for c in categories
    )


def test_bad_input_is_never_a_500(client, activity_scene, token_for):
    headers = token_for(activity_scene["organizer"])
    good = {
        "unit_id": activity_scene["a"].id,
        "title": "x",
        "category": "patrol",
        "starts_at": "2026-12-05T09:00:00+08:00",
        "ends_at": "2026-12-05T11:00:00+08:00",
    }
    cases = [
        ({"starts_at": "2026-12-05T09:00:00"}, "starts_at"),  # no time zone
        ({"ends_at": "2026-12-05T08:00:00+08:00"}, "ends_at"),
        ({"category": "juggling"}, "category"),
        ({"lat": "NaN", "lng": 1, "radius_m": 5}, "lat"),
        ({"lat": 1e308, "lng": 1, "radius_m": 5}, "lat"),
        ({"capacity": 10**12}, "capacity"),
        ({"capacity": "5"}, "capacity"),
        ({"unit_id": 10**12}, "unit_id"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/activities", headers=headers, json={**good, **change})
        assert response.status_code == 422, (change, response.json)
        assert field in response.json["errors"], (change, response.json)
    assert (
        client.post(
            "/api/v1/activities", headers=headers, json={**good, "unit_id": 999999}
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/activities/{10**30}", headers=headers).status_code == 404
    assert client.get("/api/v1/activities/999999", headers=headers).json["code"] == (
        "activity_not_found"
    )
    for body in (
        {"token": "x" * 5000},
        {"token": 5},
        {"token": "1.2.abc", "lat": "north"},
        {"token": "1.2.abc", "scanned_at": "yesterday"},
        {"token": "1.2.abc", "nonce": "short"},
        {},
    ):
        response = client.post("/api/v1/checkins", headers=headers, json=body)
        assert response.status_code == 422, (body, response.json)
    garbage = client.post("/api/v1/checkins", headers=headers, json={"token": "%00\u202e../.."})
    assert garbage.status_code == 400 and garbage.json["code"] == "token_invalid"
    approve = client.post(
        f"/api/v1/activities/{activity_scene['activity'].id}/attendance/approve",
        headers=headers,
        json={"ids": list(range(1, 300))},
    )
    assert approve.status_code == 422
    assert client.get("/api/v1/activities?from=someday", headers=headers).status_code == 422
    for edge in ("to=9999-12-31", "from=0001-01-01"):  # overflowed into a 500
        response = client.get(f"/api/v1/activities?{edge}", headers=headers)
        assert response.status_code == 422, (edge, response.json)


def test_permissions(client, activity_scene, token_for):
    activity = activity_scene["activity"]
    volunteer = token_for(activity_scene["volunteer"])
    other_organizer = token_for(factories.create_member(activity_scene["b"], roles=("organizer",)))
    street_admin = token_for(factories.create_member(activity_scene["street"], roles=("admin",)))
    body = {
        "unit_id": activity_scene["a"].id,
        "title": "x",
        "category": "patrol",
        "starts_at": "2026-12-05T09:00:00+08:00",
        "ends_at": "2026-12-05T11:00:00+08:00",
    }
    paths = [
        ("get", f"/api/v1/activities/{activity.id}/qr", None),
        ("get", f"/api/v1/activities/{activity.id}/attendance", None),
        ("post", f"/api/v1/activities/{activity.id}/attendance/approve", {"ids": [1]}),
        (
            "post",
            f"/api/v1/activities/{activity.id}/attendance/reject",
            {"ids": [1], "reason": "x"},
        ),
        ("post", f"/api/v1/activities/{activity.id}/cancel", {"reason": "x"}),
        ("post", f"/api/v1/activities/{activity.id}/manual-checkins", {"member_id": 1}),
        ("post", f"/api/v1/activities/{activity.id}/badge-scans", {"code": "m1.1.x"}),
        ("post", f"/api/v1/activities/{activity.id}/close-checkouts", None),
        ("post", "/api/v1/activities", body),
        ("get", f"/api/v1/units/{activity_scene['a'].id}/party-attendance", None),
    ]
    for method, path, json in paths:
        for headers in (volunteer, other_organizer):
            response = getattr(client, method)(path, headers=headers, json=json)
            assert response.status_code == 403, (path, response.json)
            assert response.json["code"] == "forbidden"
        assert getattr(client, method)(path, json=json).status_code == 401
    assert client.get(f"/api/v1/activities/{activity.id}/qr", headers=street_admin).status_code == (
        200
    )


def test_kiosk_code_check_in_out_and_every_rejection(client, activity_scene, token_for):
    activity = activity_scene["activity"]
    organizer = token_for(activity_scene["organizer"])
    volunteer = token_for(activity_scene["volunteer"])
    qr = client.get(f"/api/v1/activities/{activity.id}/qr", headers=organizer)
    assert qr.status_code == 200
    assert qr.json["svg"].lstrip().startswith("<?xml") or "<svg" in qr.json["svg"]
    # TIMEBANK_BASE_URL is unset: the code names the address the kiosk was opened at
    assert qr.json["url"] == f"http://localhost/checkin/{qr.json['token']}"
    assert 0 < qr.json["expires_in"] <= 30 and qr.json["checked_in"] == 0
    token = qr.json["token"]

    def post(body, headers=volunteer):
        return client.post("/api/v1/checkins", headers=headers, json=body)

    first = post({"token": token, "activity_id": activity.id})
    assert first.status_code == 201 and first.json["result"] == "checked_in"
    assert first.json["already"] is False and first.json["code"] is None
    replay = post({"token": token})
    assert replay.status_code == 200 and replay.json["result"] == "already_checked_in"
    assert replay.json["code"] == "already_checked_in"
    assert replay.json["attendance"]["id"] == first.json["attendance"]["id"]
    assert db.session.query(CheckIn).count() == 1

    step = activities.step_of(now())
    other = create_activity(activity_scene["a"], organizer=activity_scene["organizer"])
    late = create_activity(
        activity_scene["a"],
        organizer=activity_scene["organizer"],
        starts_at=now() + timedelta(hours=5),
    )
    signup_only = create_activity(
        activity_scene["a"],
        organizer=activity_scene["organizer"],
        signup_required=True,
        starts_at=now() - timedelta(minutes=5),
    )
    db.session.commit()
    fresh = token_for(factories.create_member(activity_scene["building_a"]))
    cases = [
        # a real signature ends in "xx" once in 4096 steps: change it for sure
        ({"token": token[:-2] + ("yy" if token.endswith("xx") else "xx")}, 400, "token_invalid"),
        ({"token": "garbage"}, 400, "token_invalid"),
        ({"token": activities.kiosk_token(activity.id, step - 2)}, 409, "token_expired"),
        ({"token": activities.kiosk_token(activity.id, step + 5)}, 400, "token_invalid"),
        ({"token": token, "activity_id": other.id}, 409, "token_wrong_activity"),
        ({"token": token_now(late.id)}, 409, "outside_window"),
        ({"token": token_now(signup_only.id)}, 403, "not_signed_up"),
    ]
    for body, status, code in cases:
        response = post(body, fresh)
        assert response.status_code == status, (body, response.json)
        assert response.json["code"] == code
        assert response.mimetype == "application/problem+json"
    client.post(f"/api/v1/activities/{signup_only.id}/signup", headers=fresh)
    assert post({"token": token_now(signup_only.id)}, fresh).status_code == 201
    client.post(f"/api/v1/activities/{other.id}/cancel", headers=organizer, json={"reason": "雨"})
    cancelled = post({"token": token_now(other.id)}, fresh)
    assert cancelled.status_code == 409 and cancelled.json["code"] == "activity_cancelled"
    counts = client.get(f"/api/v1/activities/{activity.id}/qr", headers=organizer).json
    assert counts["checked_in"] == 1


def test_offline_upload_with_nonce(client, activity_scene, token_for):
    activity = activity_scene["activity"]
    volunteer = token_for(activity_scene["volunteer"])
    scanned = now() - timedelta(minutes=3)
    token = activities.kiosk_token(activity.id, activities.step_of(scanned))
    body = {"token": token, "scanned_at": scanned.isoformat(), "nonce": "phone-1-abcdef"}
    first = client.post("/api/v1/checkins", headers=volunteer, json=body)
    assert first.status_code == 201
    assert first.json["scanned_at"][:19] == scanned.replace(tzinfo=None).isoformat()[:19]
    again = client.post("/api/v1/checkins", headers=volunteer, json=body)
    assert again.status_code == 200 and again.json["already"] is True
    assert db.session.query(CheckIn).count() == 1


def test_signup_withdraw_and_full(client, activity_scene, token_for):
    activity = create_activity(
        activity_scene["a"],
        organizer=activity_scene["organizer"],
        capacity=1,
        starts_at=now() + timedelta(days=1),
    )
    db.session.commit()
    v1 = token_for(activity_scene["volunteer"])
    v2 = token_for(factories.create_member(activity_scene["building_a"]))
    assert client.post(f"/api/v1/activities/{activity.id}/signup", headers=v1).status_code == 200
    full = client.post(f"/api/v1/activities/{activity.id}/signup", headers=v2)
    assert full.status_code == 409 and full.json["code"] == "activity_full"
    out = client.post(f"/api/v1/activities/{activity.id}/withdraw", headers=v1)
    assert out.json["status"] == "withdrawn"
    assert client.post(f"/api/v1/activities/{activity.id}/signup", headers=v2).status_code == 200


def test_badge_and_manual_check_in(client, activity_scene, token_for):
    activity = activity_scene["activity"]
    organizer = token_for(activity_scene["organizer"])
    badge = client.get("/api/v1/me/badge", headers=token_for(activity_scene["volunteer"])).json
    assert (
        badge["token"].startswith(f"m{activity_scene['volunteer'].id}.") and "<svg" in badge["svg"]
    )
    scanned = client.post(
        f"/api/v1/activities/{activity.id}/badge-scans",
        headers=organizer,
        json={"code": badge["token"]},
    )
    assert scanned.status_code == 201 and scanned.json["method"] == "badge"
    forged = client.post(
        f"/api/v1/activities/{activity.id}/badge-scans",
        headers=organizer,
        json={"code": badge["token"][:-3] + "abc"},
    )
    assert forged.status_code == 400 and forged.json["code"] == "token_invalid"
    elder = factories.create_member(activity_scene["building_a"], password=None, name="李大爷")
    db.session.commit()
    manual = client.post(
        f"/api/v1/activities/{activity.id}/manual-checkins",
        headers=organizer,
        json={"member_id": elder.id},
    )
    assert manual.status_code == 201 and manual.json["attendance"]["manual"] is True


def test_review_queue_and_approval_credits_once(client, activity_scene, token_for):
    activity = create_activity(
        activity_scene["a"],
        organizer=activity_scene["organizer"],
        starts_at=now() - timedelta(hours=3),
        hours=2,
        lat=36.06,
        lng=103.83,
        radius_m=100,
        points_per_hour=6,
        requires_checkout=False,
    )
    db.session.commit()
    volunteer = activity_scene["volunteer"]
    # scanned offline during the window, uploaded now, from far away: review
    scanned = activity.starts_at + timedelta(minutes=1)
    token = activities.kiosk_token(activity.id, activities.step_of(scanned))
    checked = client.post(
        "/api/v1/checkins",
        headers=token_for(volunteer),
        json={"token": token, "scanned_at": scanned.isoformat(), "lat": 36.2, "lng": 103.83},
    )
    assert checked.status_code == 201 and checked.json["attendance"]["status"] == "review"
    organizer = token_for(activity_scene["organizer"])
    queue = client.get(
        f"/api/v1/activities/{activity.id}/attendance?status=review", headers=organizer
    )
    assert [a["review_reason"] for a in queue.json] == ["outside_radius,late_upload"]
    attendance_id = queue.json[0]["id"]
    approve = f"/api/v1/activities/{activity.id}/attendance/approve"
    for _ in range(3):
        response = client.post(approve, headers=organizer, json={"ids": [attendance_id]})
        assert response.status_code == 200
        assert response.json["decided"][0]["status"] == "approved"
        assert response.json["refused"] == [] and response.json["warnings"] == []
    assert response.json["decided"][0]["minutes"] == 105
    assert response.json["decided"][0]["points"] == 10
    balances = client.get("/api/v1/me/balances", headers=token_for(volunteer)).json
    assert balances["HOURS"] == 105 and balances["POINTS"] == 10
    reject = client.post(
        f"/api/v1/activities/{activity.id}/attendance/reject",
        headers=organizer,
        json={"ids": [attendance_id], "reason": "x"},
    )
    assert reject.status_code == 409 and reject.json["code"] == "already_approved"
    missing = client.post(approve, headers=organizer, json={"ids": [999999]})
    assert missing.status_code == 200 and missing.json["decided"] == []
    assert missing.json["refused"][0]["code"] == "attendance_not_found"
    mine = client.get("/api/v1/me/attendance", headers=token_for(volunteer)).json
    assert mine[0]["status"] == "approved"


def _run_threads(count, target):
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n):
        barrier.wait()
        try:
            target(n)
        except BaseException as error:  # noqa: BLE001 - report any failure to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.concurrent
def test_fifty_concurrent_signups_for_ten_places(app, activity_scene):
    activity = create_activity(
        activity_scene["a"],
        organizer=activity_scene["organizer"],
        capacity=10,
        starts_at=now() + timedelta(days=1),
    )
    members = [
        factories.create_member(activity_scene["building_a"], password=None) for _ in range(50)
    ]
    db.session.commit()
    activity_id, member_ids = activity.id, [m.id for m in members]
    outcomes = []

    def sign(n):
        with app.app_context():
            try:
                activities.sign_up(
                    activities.get_activity(activity_id), people.get_member(member_ids[n])
                )
                db.session.commit()
                outcomes.append("ok")
            except Exception as error:
                db.session.rollback()
                outcomes.append(getattr(error, "code", repr(error)))
            finally:
                db.session.remove()

    assert _run_threads(50, sign) == []
    assert outcomes.count("ok") == 10, outcomes
    assert outcomes.count("activity_full") == 40, outcomes
    db.session.expire_all()
    assert db.session.query(Signup).filter_by(activity_id=activity_id).count() == 10


@pytest.mark.concurrent
def test_two_hundred_concurrent_check_ins(app, activity_scene):
    activity_id = activity_scene["activity"].id
    members = [
        factories.create_member(activity_scene["building_a"], password=None) for _ in range(200)
    ]
    db.session.commit()
    member_ids = [m.id for m in members]

    def check(n):
        with app.app_context():
            try:
                result = activities.check_in(
                    people.get_member(member_ids[n]), token_now(activity_id)
                )
                db.session.commit()
                assert result.action == "checked_in"
            finally:
                db.session.remove()

    # one thread per volunteer, released together
    assert _run_threads(200, check) == []
    db.session.expire_all()
    assert db.session.query(Attendance).filter_by(activity_id=activity_id).count() == 200
    assert db.session.query(CheckIn).filter_by(activity_id=activity_id).count() == 200


@pytest.mark.concurrent
def test_the_same_member_scanning_twice_at_once_gets_one_row(app, activity_scene):
    activity_id, member_id = activity_scene["activity"].id, activity_scene["volunteer"].id
    results = []

    def check(n):
        with app.app_context():
            try:
                result = activities.check_in(people.get_member(member_id), token_now(activity_id))
                db.session.commit()
                results.append(result.action)
            finally:
                db.session.remove()

    assert _run_threads(8, check) == []
    assert sorted(results) == ["already_checked_in"] * 7 + ["checked_in"]
    db.session.expire_all()
    assert db.session.query(CheckIn).filter_by(activity_id=activity_id).count() == 1


@pytest.mark.concurrent  # /readyz reads on a connection of its own
def test_readyz_reports_the_database_and_the_migrations(client, activity_scene):
    from timebank.scheduling import operations as scheduling

    scheduling.claim_lease(scheduling.LEADER, "scheduler@test", now=now(), seconds=60)
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {
        "ready": True, "database": True, "migrations_at_head": True, "scheduler": True,
    }  # fmt: skip
    assert client.get("/api/v1/ping-db").status_code == 404


def test_attendance_list_and_bulk_approval_do_not_query_per_row(client, activity_scene, token_for):

    activity = create_activity(
        activity_scene["a"],
        organizer=activity_scene["organizer"],
        starts_at=now() - timedelta(hours=3),
        hours=2,
        requires_checkout=False,
    )
    for _ in range(30):
        member = factories.create_member(activity_scene["building_a"], password=None)
        activities.manual_check_in(
            activity, member, actor=activity_scene["organizer"], now=activity.starts_at
        )
    db.session.commit()
    headers = token_for(activity_scene["organizer"])
    ids = [a.id for a in activities.list_attendance(activity)]
    db.session.expunge_all()
    with recorded_statements() as statements:
        listed = client.get(f"/api/v1/activities/{activity.id}/attendance", headers=headers)
    assert len(listed.json) == 30 and listed.json[0]["member_name"]
    assert len(statements) < 12, statements
    approved = client.post(
        f"/api/v1/activities/{activity.id}/attendance/approve",
        headers=headers,
        json={"ids": ids},
    )
    assert approved.status_code == 200
    assert {a["minutes"] for a in approved.json["decided"]} == {120}


def test_manual_check_in_welcomes_a_member_of_another_community(client, activity_scene, token_for):
    visitor = factories.create_member(activity_scene["building_b"], name="别处的人")
    db.session.commit()
    response = client.post(
        f"/api/v1/activities/{activity_scene['activity'].id}/manual-checkins",
        headers=token_for(activity_scene["organizer"]),
        json={"member_id": visitor.id},
    )
    assert response.status_code == 201 and response.json["result"] == "checked_in"
    page = client.get(
        f"/api/v1/activities/{activity_scene['activity'].id}", headers=token_for(visitor)
    )
    assert page.status_code == 200


def test_the_documented_unit_filter_takes_its_own_query_string(client, activity_scene, token_for):
    """``GET /activities?unit_id=`` was a 422: the filter refused its own documented form."""
    headers = token_for(activity_scene["organizer"])
    other = create_activity(
        activity_scene["b"], starts_at=now() + timedelta(days=1), title="古浪路义诊"
    )
    db.session.commit()
    mine = client.get(f"/api/v1/activities?unit_id={activity_scene['a'].id}", headers=headers)
    assert mine.status_code == 200, mine.json
    ids = [a["id"] for a in mine.json["items"]]
    assert activity_scene["activity"].id in ids and other.id not in ids
    neighbour = token_for(factories.create_member(activity_scene["building_b"], name="古浪路居民"))
    theirs = client.get(f"/api/v1/activities?unit_id={activity_scene['b'].id}", headers=neighbour)
    assert theirs.status_code == 200 and other.id in [a["id"] for a in theirs.json["items"]]
    assert activity_scene["activity"].id not in [a["id"] for a in theirs.json["items"]]
