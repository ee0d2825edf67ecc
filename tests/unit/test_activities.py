"""Activities: publishing, sign-up, rotating codes, scans, hours, approval (no HTTP)."""

from datetime import timedelta

import pytest

from tests import factories
from tests.activities_factories import T0, create_activity
from timebank.activities import operations as activities
from timebank.activities.models import CheckIn
from timebank.core import access
from timebank.core.access import Target
from timebank.core.errors import DomainError, InvalidInput
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people


@pytest.fixture
def d(app):
    return factories.create_district()


def code_error(callable_, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as error:
        callable_(*args, **kwargs)
    return error.value.code


# ---------------------------------------------------------------- publishing


def test_organizer_publishes_in_subtree_only(d):
    # the edges ask the access registry before calling create_activity
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(d["grid_a"], organizer=organizer, capacity=10)
    assert activity.status == "published" and activity.unit_id == d["grid_a"].id
    assert access.may(organizer, "activities.manage", Target(unit=d["grid_a"].id))
    assert not access.may(organizer, "activities.manage", Target(unit=d["b"].id))
    volunteer = factories.create_member(d["a"])
    assert not access.may(volunteer, "activities.manage", Target(unit=d["a"].id))
    assert access.may(volunteer, "activities.view", Target(unit=d["b"].id))


def test_invalid_activity_fields(d):
    organizer = factories.create_member(d["a"], roles=("organizer",))
    cases = [
        ({"category": "juggling"}, "category"),
        ({"hours": -1}, "ends_at"),
        ({"lat": 36.0}, "radius_m"),
        ({"lat": 95.0, "lng": 1.0, "radius_m": 100}, "lat"),
        ({"capacity": 0}, "capacity"),
        ({"points_per_hour": -5}, "points_per_hour"),
        ({"kind": "picnic"}, "kind"),
        ({"checkin_mode": "telepathy"}, "checkin_mode"),
        ({"title": "  "}, "title"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInput) as error:
            create_activity(d["a"], organizer=organizer, **kwargs)
        assert field in error.value.errors, (kwargs, error.value.errors)


def test_list_filters_by_unit_date_category_and_visibility(d):
    organizer = factories.create_member(d["street"], roles=("organizer",))
    a1 = create_activity(d["a"], organizer=organizer, category="cleanup")
    a2 = create_activity(
        d["grid_a"], organizer=organizer, category="free_haircut", starts_at=T0 + timedelta(days=3)
    )
    b1 = create_activity(d["b"], organizer=organizer, category="cleanup")
    street = create_activity(d["street"], organizer=organizer, category="patrol")
    assert {a.id for a in activities.list_activities(organizer)} == {a1.id, a2.id, b1.id, street.id}
    volunteer = factories.create_member(d["building_a"])
    assert {a.id for a in activities.list_activities(volunteer)} == {a1.id, a2.id, street.id}
    assert [a.id for a in activities.list_activities(organizer, unit_id=d["a"].id)] == [
        a1.id,
        a2.id,
    ]
    assert [a.id for a in activities.list_activities(organizer, category="free_haircut")] == [a2.id]
    in_three_days = (T0 + timedelta(days=3)).date()
    assert [
        a.id
        for a in activities.list_activities(
            organizer, date_from=in_three_days, date_to=in_three_days
        )
    ] == [a2.id]


# ---------------------------------------------------------------- sign-up


def test_signup_capacity_withdraw_and_rejoin(d):
    activity = create_activity(d["a"], capacity=2, signup_required=True)
    now = T0 - timedelta(days=1)
    v1, v2, v3 = (factories.create_member(d["building_a"]) for _ in range(3))
    activities.sign_up(activity, v1, now=now)
    activities.sign_up(activity, v1, now=now)  # idempotent
    activities.sign_up(activity, v2, now=now)
    assert code_error(activities.sign_up, activity, v3, now=now) == "activity_full"
    activities.withdraw(activity, v2, now=now)
    activities.sign_up(activity, v3, now=now)
    assert activities.active_signup_count(activity.id) == 2
    assert code_error(activities.sign_up, activity, v2, now=now) == "activity_full"
    walk_in = factories.create_member(
        d["building_b"]
    )  # another community: welcome, if a place is left
    assert code_error(activities.sign_up, activity, walk_in, now=now) == "activity_full"
    assert code_error(activities.sign_up, activity, v2, now=T0 + timedelta(hours=3)) in (
        "activity_over",
        "activity_full",
    )


# ---------------------------------------------------------------- codes and steps


def test_token_is_compact_url_safe_and_bound_to_activity(d):
    activity = create_activity(d["a"])
    code = activities.current_code(activity, now=T0 + timedelta(seconds=5))
    assert len(code["token"]) < 40
    assert code["url"].endswith("/checkin/" + code["token"])
    assert code["expires_in"] == pytest.approx(25)
    assert set(code["token"]) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
    )
    verified = activities.verify_kiosk_code(code["token"], now=T0 + timedelta(seconds=5))
    assert verified.subject_id == activity.id


def test_rejected_codes_keep_their_codes_statuses_and_words(d):
    # core/codes.py checks signatures and steps (tests/unit/test_codes.py); these are the
    # errors the API and pages have always given, keyed by their English words
    activity = create_activity(d["a"])
    other = create_activity(d["a"])
    step = activities.step_of(T0)
    token = activities.kiosk_token(activity.id, step)
    badge = activities.badge_token(1, step)
    short = activities.kiosk_short_code(activity.id, step)
    kiosk, badge_scan = activities.verify_kiosk_code, activities.verify_badge_code
    assert kiosk(token, now=T0 + timedelta(seconds=59.999)).step == step
    assert badge_scan(badge, now=T0 + timedelta(seconds=59.999)).subject_id == 1
    not_valid = "This check-in code is not valid."
    cases = [
        (kiosk, token[:-1] + ("A" if token[-1] != "A" else "B"), {}, "token_invalid", not_valid),
        (kiosk, "1.2.3", {}, "token_invalid", not_valid),
        (kiosk, badge, {}, "token_invalid", not_valid),
        (
            kiosk,
            activities.kiosk_token(activity.id, step + 1),
            {"now": T0 + timedelta(seconds=29)},
            "token_invalid",
            "This check-in code is not valid yet; check the phone's clock.",
        ),
        (
            kiosk,
            token,
            {"now": T0 + timedelta(seconds=60)},
            "token_expired",
            "This check-in code has expired; scan the screen again.",
        ),
        (
            kiosk,
            token,
            {"expected_activity_id": other.id},
            "token_wrong_activity",
            "This code belongs to another activity.",
        ),
        (
            kiosk,
            short,
            {"now": T0 + timedelta(seconds=60)},
            "token_invalid",
            "This code is wrong or has expired; type the code on the screen.",
        ),
        (badge_scan, token, {}, "token_invalid", "This is not a member's badge code."),
        (badge_scan, badge[:-1] + "?", {}, "token_invalid", "This is not a member's badge code."),
        (
            badge_scan,
            badge,
            {"now": T0 + timedelta(seconds=60)},
            "token_expired",
            "This check-in code has expired; scan the screen again.",
        ),
    ]
    for verify, code, kwargs, error_code, message in cases:
        with pytest.raises(DomainError) as error:
            verify(code, **{"now": T0, **kwargs})
        status = 409 if error_code != "token_invalid" else 400
        assert (error.value.code, error.value.status, error.value.message) == (
            error_code,
            status,
            message,
        ), code


def test_the_wire_format_is_pinned(app, monkeypatch):
    # kiosks and phones in the field make and read these bytes: any change breaks them
    monkeypatch.setitem(app.config, "SECRET_KEY", "wire-format-pin")
    assert activities.kiosk_token(42, 59_000_000) == "42.59000000.PzqkRyqm-uS0s9Sj"
    assert activities.kiosk_short_code(42, 59_000_000) == "42-208918"
    assert activities.badge_token(7, 59_000_000) == "m7.59000000.1lnKzVbxrPARHwn0"
    assert activities.kiosk_token(2147483647, 999999999999) == (
        "2147483647.999999999999.M5XSgS1o_6GGTwbX"
    )
    assert activities.kiosk_short_code(1, 0) == "1-843751"
    assert activities.badge_token(1, 0) == "m1.0.FcMMi54EjtnsaCMA"
    assert activities.step_of(T0) == 59_115_960


def test_short_code_for_typing(d):
    activity = create_activity(d["a"])
    short = activities.current_code(activity, now=T0)["short_code"]
    assert short.startswith(f"{activity.id}-") and len(short.split("-")[1]) == 6
    verified = activities.verify_kiosk_code(short, now=T0 + timedelta(seconds=45))
    assert verified.subject_id == activity.id and verified.typed
    # six digits can be guessed: a typed code checks in, but for the organizer's review
    result = activities.check_in(factories.create_member(d["a"]), short, now=T0)
    assert result.action == "checked_in" and result.attendance.status == "review"
    assert result.attendance.review_reason == "typed_code"
    assert (
        code_error(activities.verify_kiosk_code, short, now=T0 + timedelta(seconds=60))
        == "token_invalid"
    )


# ---------------------------------------------------------------- scans


def scan(activity, member, at, **kwargs):
    token = activities.kiosk_token(activity.id, activities.step_of(at))
    return activities.check_in(member, token, now=at, **kwargs)


def test_check_in_then_out_and_replays(d):
    activity = create_activity(d["a"])
    volunteer = factories.create_member(d["building_a"])
    first = scan(activity, volunteer, T0 + timedelta(minutes=1))
    assert first.action == "checked_in" and first.attendance.status == "pending"
    again = scan(activity, volunteer, T0 + timedelta(minutes=1, seconds=10))
    assert again.action == "already_checked_in" and again.attendance.id == first.attendance.id
    out = scan(activity, volunteer, T0 + timedelta(minutes=64))
    assert out.action == "checked_out"
    assert out.attendance.checked_out_at == T0 + timedelta(minutes=64)
    late = scan(activity, volunteer, T0 + timedelta(minutes=90))
    assert late.action == "already_checked_out"
    assert db.session.query(CheckIn).count() == 2


def test_without_checkout_a_second_scan_is_already_checked_in(d):
    activity = create_activity(d["a"], requires_checkout=False)
    volunteer = factories.create_member(d["building_a"])
    scan(activity, volunteer, T0)
    assert scan(activity, volunteer, T0 + timedelta(minutes=50)).action == "already_checked_in"


def test_outside_window_not_signed_up_cancelled_and_party(d):
    activity = create_activity(d["a"], signup_required=True)
    volunteer = factories.create_member(d["building_a"])
    assert code_error(scan, activity, volunteer, T0) == "not_signed_up"
    activities.sign_up(activity, volunteer, now=T0 - timedelta(days=1))
    assert code_error(scan, activity, volunteer, T0 - timedelta(minutes=31)) == "outside_window"
    assert code_error(scan, activity, volunteer, T0 + timedelta(hours=2, seconds=1)) == (
        "outside_window"
    )
    assert scan(activity, volunteer, T0 - timedelta(minutes=30)).action == "checked_in"
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activities.cancel_activity(activity, actor=organizer, reason="rain")
    other = factories.create_member(d["building_a"])
    assert code_error(scan, activity, other, T0) == "activity_cancelled"
    party = create_activity(d["a"], kind="party", category="party_day")
    assert code_error(scan, party, other, T0) == "not_party_member"
    people.register_party(other, branch="一支部")
    assert scan(party, other, T0).action == "checked_in"


def test_offline_scan_is_credited_at_the_proven_time(d):
    activity = create_activity(d["a"])
    volunteer = factories.create_member(d["building_a"])
    scanned = T0 + timedelta(minutes=5, seconds=3)
    token = activities.kiosk_token(activity.id, activities.step_of(scanned))
    later = T0 + timedelta(hours=20)
    result = activities.check_in(volunteer, token, now=later, scanned_at=scanned, nonce="n-1")
    assert result.action == "checked_in"
    assert result.attendance.checked_in_at == scanned
    # only the phone vouches for the time: a late upload waits for an organizer
    assert result.attendance.status == "review"
    assert "late_upload" in result.attendance.review_reason
    assert result.checkin.received_at == later
    # the re-upload of the same scan changes nothing, even a day later
    again = activities.check_in(
        volunteer, token, now=later + timedelta(hours=10), scanned_at=scanned, nonce="n-1"
    )
    assert again.already and again.checkin.id == result.checkin.id
    # scanned_at must match the code's step (within one step)
    other = factories.create_member(d["building_a"])
    assert (
        code_error(
            activities.check_in,
            other,
            token,
            now=later,
            scanned_at=scanned + timedelta(seconds=60),
        )
        == "token_expired"
    )
    assert (
        code_error(
            activities.check_in, other, token, now=later, scanned_at=scanned - timedelta(minutes=1)
        )
        == "token_invalid"
    )
    # more than 24 h old
    assert (
        code_error(
            activities.check_in, other, token, now=scanned + timedelta(hours=25), scanned_at=scanned
        )
        == "token_expired"
    )
    # scanned_at in the future
    with pytest.raises(InvalidInput):
        activities.check_in(
            other, token, now=T0, scanned_at=T0 + timedelta(minutes=10), nonce="n-2"
        )


def test_location_outside_radius_or_missing_goes_to_review(d):
    activity = create_activity(d["a"], lat=36.0611, lng=103.8343, radius_m=200)
    near, far, silent = (factories.create_member(d["building_a"]) for _ in range(3))
    ok = scan(activity, near, T0, lat=36.0615, lng=103.8345)
    assert ok.attendance.status == "pending" and ok.checkin.distance_m < 200
    away = scan(activity, far, T0, lat=36.07, lng=103.84)
    assert away.attendance.status == "review"
    assert away.attendance.review_reason == "outside_radius"
    assert away.checkin.distance_m > 1000
    blind = scan(activity, silent, T0)
    assert blind.attendance.status == "review" and blind.attendance.review_reason == "no_location"
    assert {a.id for a in activities.list_attendance(activity, status="review")} == {
        away.attendance.id,
        blind.attendance.id,
    }


def test_haversine():
    # Lanzhou to Xi'an is about 505 km
    assert activities.haversine_m(36.0611, 103.8343, 34.3416, 108.9398) == pytest.approx(
        505_000, rel=0.02
    )
    assert activities.haversine_m(1, 1, 1, 1) == 0


def test_badge_and_manual_check_in(d):
    activity = create_activity(d["a"], checkin_mode="badge")
    organizer = factories.create_member(d["a"], roles=("organizer",))
    volunteer = factories.create_member(d["building_a"])
    badge = activities.current_badge(volunteer, now=T0)["token"]
    result = activities.scan_badge(activity, badge, actor=organizer, now=T0 + timedelta(seconds=40))
    assert result.action == "checked_in" and result.checkin.method == "badge"
    assert result.checkin.actor_id == organizer.id
    assert (
        code_error(activities.scan_badge, activity, badge, actor=organizer, now=T0 + timedelta(60))
        == "token_expired"
    )
    assert not access.may(volunteer, "activities.manage", activities.activity_target(activity.id))
    elder = factories.create_member(d["building_a"], password=None)
    manual = activities.manual_check_in(activity, elder, actor=organizer, now=T0)
    assert manual.attendance.manual and manual.checkin.method == "manual"
    walk_in = factories.create_member(d["building_b"], password=None)
    assert activities.manual_check_in(activity, walk_in, actor=organizer, now=T0).action == (
        "checked_in"
    )


# ---------------------------------------------------------------- hours


def test_hours_are_the_overlap_rounded_down(app, d):
    activity = create_activity(d["a"], hours=2)
    minutes = activities.service_minutes
    assert minutes(activity, T0 - timedelta(minutes=20), T0 + timedelta(minutes=59)) == 45
    assert minutes(activity, T0 + timedelta(minutes=10), T0 + timedelta(hours=5)) == 105
    assert minutes(activity, T0, T0 + timedelta(minutes=14, seconds=59)) == 0
    assert minutes(activity, T0, None) == 120
    app.config["TIMEBANK_HOUR_ROUNDING_MINUTES"] = 1
    assert minutes(activity, T0, T0 + timedelta(minutes=59)) == 59


def test_close_missing_checkouts_at_window_end(d):
    activity = create_activity(d["a"], hours=2)
    volunteer = factories.create_member(d["building_a"])
    scan(activity, volunteer, T0 + timedelta(minutes=30))
    assert activities.close_missing_checkouts(activity, now=T0 + timedelta(hours=1)) == 0
    assert activities.close_missing_checkouts(activity, now=T0 + timedelta(hours=2)) == 1
    attendance = activities.list_attendance(activity)[0]
    assert attendance.checkout_auto_closed and attendance.checked_out_at == activity.ends_at
    assert activities.close_missing_checkouts(activity, now=T0 + timedelta(hours=3)) == 0


def test_the_scheduler_sweep_closes_every_ended_activity_once(d):
    organizer = factories.create_member(d["a"], roles=("organizer",))
    ended = [create_activity(d["a"], organizer=organizer, hours=1) for _ in range(2)]
    running = create_activity(d["a"], organizer=organizer, hours=5)
    for activity in (*ended, running):
        scan(activity, factories.create_member(d["building_a"]), T0 + timedelta(minutes=5))
    assert activities.close_all_missing_checkouts(now=T0 + timedelta(hours=2)) == 2
    assert activities.close_all_missing_checkouts(now=T0 + timedelta(hours=2)) == 0
    assert activities.list_attendance(running)[0].checked_out_at is None


# ---------------------------------------------------------------- approval


def test_approval_credits_once_and_rejection(d):
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(d["a"], organizer=organizer, points_per_hour=10, checkin_bonus=5)
    v1, v2, v3 = (factories.create_member(d["building_a"]) for _ in range(3))
    a1 = scan(activity, v1, T0).attendance
    scan(activity, v1, T0 + timedelta(minutes=95))
    a2 = scan(activity, v2, T0 + timedelta(minutes=10)).attendance
    a3 = scan(activity, v3, T0 + timedelta(minutes=10)).attendance
    assert (
        code_error(
            activities.approve_attendance,
            activity,
            [a2.id],
            actor=organizer,
            now=T0 + timedelta(hours=1),
        )
        == "checkout_missing"
    )
    end = T0 + timedelta(hours=2, minutes=5)
    activities.reject_attendance(activity, [a3.id], actor=organizer, reason="not seen", now=end)
    approved = activities.approve_attendance(activity, [a1.id, a2.id], actor=organizer, now=end)
    assert [a.status for a in approved] == ["approved", "approved"]
    assert a1.minutes == 90 and a1.points == 15 + 5
    assert a2.minutes == 105 and a2.checkout_auto_closed
    assert ledger.balances(v1.id)["HOURS"]["balance"] == 90
    assert ledger.balances(v1.id)["POINTS"]["balance"] == 20
    # approving again, in bulk or one by one, credits nothing more
    activities.approve_attendance(activity, [a1.id, a2.id], actor=organizer, now=end)
    activities.approve_attendance(activity, [a1.id], actor=organizer, now=end)
    assert ledger.balances(v1.id)["HOURS"]["balance"] == 90
    assert ledger.balances(v2.id)["HOURS"]["balance"] == 105
    assert code_error(
        activities.approve_attendance, activity, [a3.id], actor=organizer, now=end
    ) == ("attendance_rejected")
    assert ledger.balances(v3.id)["HOURS"]["balance"] == 0
    assert code_error(
        activities.reject_attendance, activity, [a1.id], actor=organizer, reason="x", now=end
    ) == ("already_approved")
    assert not access.may(v1, "attendance.approve", activities.activity_target(activity.id))


def test_cancel_credits_nobody_new_and_keeps_credits(d):
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(d["a"], organizer=organizer, requires_checkout=False)
    v1, v2 = (factories.create_member(d["building_a"]) for _ in range(2))
    a1 = scan(activity, v1, T0).attendance
    a2 = scan(activity, v2, T0).attendance
    end = T0 + timedelta(hours=2)
    activities.approve_attendance(activity, [a1.id], actor=organizer, now=end)
    activities.cancel_activity(activity, actor=organizer, reason="storm", now=end)
    assert code_error(
        activities.approve_attendance, activity, [a2.id], actor=organizer, now=end
    ) == ("activity_cancelled")
    assert ledger.balances(v1.id)["HOURS"]["balance"] == 120
    assert ledger.balances(v2.id)["HOURS"]["balance"] == 0
    assert a1.status == "approved"


def test_bulk_approval_of_a_hundred(d):
    organizer = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(d["a"], organizer=organizer, requires_checkout=False, hours=1)
    ids = []
    for _ in range(100):
        member = factories.create_member(d["building_a"], password=None)
        ids.append(scan(activity, member, T0).attendance.id)
    end = T0 + timedelta(hours=1)
    rows = activities.approve_attendance(activity, ids, actor=organizer, now=end)
    assert len(rows) == 100 and all(r.status == "approved" for r in rows)
    assert all(ledger.balances(r.member_id)["HOURS"]["balance"] == 60 for r in rows[:5])
    activities.approve_attendance(activity, ids, actor=organizer, now=end)  # a retry
    assert ledger.balances(rows[0].member_id)["HOURS"]["balance"] == 60
    with pytest.raises(InvalidInput):
        activities.approve_attendance(activity, list(range(1, 300)), actor=organizer, now=end)


def test_nobody_approves_their_own_attendance(d):
    organizer = factories.create_member(d["a"], roles=("organizer", "volunteer"))
    colleague = factories.create_member(d["a"], roles=("organizer",))
    activity = create_activity(d["a"], organizer=organizer, points_per_hour=10)
    own = scan(activity, organizer, T0).attendance
    scan(activity, organizer, T0 + timedelta(minutes=60))
    end = T0 + timedelta(hours=2, minutes=5)
    assert (
        code_error(activities.approve_attendance, activity, [own.id], actor=organizer, now=end)
        == "four_eyes"
    )
    assert ledger.balances(organizer.id)["HOURS"]["balance"] == 0
    activities.approve_attendance(activity, [own.id], actor=colleague, now=end)
    assert ledger.balances(organizer.id)["HOURS"]["balance"] == 60
