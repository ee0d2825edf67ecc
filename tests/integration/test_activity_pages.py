"""Activity pages through the test client (in English via /lang/en)."""

import re
from datetime import UTC, datetime, timedelta

from tests import factories
from tests.activities_factories import create_activity
from timebank.activities import operations as activities
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people


def now():
    return datetime.now(UTC)


def test_organizer_publishes_through_the_form(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    login(organizer)
    client.post("/lang/en")
    form = client.get("/activities/new")
    assert form.status_code == 200 and "Publish an activity" in form.get_data(as_text=True)
    response = client.post(
        "/activities/new",
        data={
            "title": "四点半课堂",
            "unit_id": district["grid_a"].id,
            "category": "after_school",
            "kind": "service",
            "starts_at": "2030-12-01T16:30",
            "ends_at": "2030-12-01T18:00",
            "checkin_mode": "kiosk",
            "points_per_hour": "10",
            "requires_checkout": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "四点半课堂" in detail and "2030-12-01 16:30" in detail  # local time, Asia/Shanghai
    listing = client.get("/activities").get_data(as_text=True)
    assert "四点半课堂" in listing and "After-school 4:30 class" in listing
    bad = client.post(
        "/activities/new",
        data={
            "title": "x",
            "unit_id": district["a"].id,
            "category": "patrol",
            "kind": "service",
            "starts_at": "2026-12-01T18:00",
            "ends_at": "2026-12-01T16:00",
            "checkin_mode": "kiosk",
        },
    )
    bad_page = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "Please correct the marked fields." in bad_page
    assert "The end must be after the start." in bad_page and "ends_at" not in re.sub(
        r'(id|name|for|aria-describedby)="[^"]*"', "", bad_page
    )


def test_volunteer_cannot_publish_and_pages_need_login(client, district, make_member, login):
    assert client.get("/activities").status_code == 302
    assert client.get("/checkin/1.2.abc").status_code == 302
    login(make_member(district["building_a"]))
    assert client.get("/activities/new").status_code == 403
    assert client.get("/activities").status_code == 200
    assert client.get("/scan").status_code == 200
    assert client.get("/activities/999999").status_code == 404


def test_kiosk_page_and_volunteer_check_in_page(client, app, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=now() - timedelta(minutes=5)
    )
    db.session.commit()
    login(organizer)
    client.post("/lang/en")
    kiosk = client.get(f"/activities/{activity.id}/kiosk").get_data(as_text=True)
    token = re.search(r'data-token="([^"]+)"', kiosk).group(1)
    assert "<svg" in kiosk and "Checked in" in kiosk
    state = client.get(f"/activities/{activity.id}/kiosk.json").json
    assert state["checked_in"] == 0 and state["token"] and "<svg" in state["svg"]
    client.post("/logout")

    volunteer = make_member(district["building_a"])
    login(volunteer)
    client.post("/lang/en")
    page = client.get(f"/checkin/{token}")
    assert page.status_code == 200 and "checkin-form" in page.get_data(as_text=True)
    done = client.post(f"/checkin/{token}", data={"lat": "", "lng": ""})
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "You are checked in." in text
    again = client.post(f"/checkin/{token}", data={}).get_data(as_text=True)
    assert "You were already checked in." in again
    forged = client.post("/checkin/1.2.AAAAAAAAAAAAAAAA", data={})
    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    typed = client.post("/scan/code", data={"code": state["short_code"]})
    assert typed.status_code == 302 and typed.headers["Location"].endswith(
        f"/checkin/{state['short_code']}"
    )
    mine = client.get("/me/activities").get_data(as_text=True)
    assert activity.title in mine and "Waiting for the organizer" in mine
    client.post("/logout")
    login(organizer)
    assert client.get(f"/activities/{activity.id}/kiosk.json").json["checked_in"] == 1
    forbidden = make_member(district["b"], roles=("organizer",))
    client.post("/logout")
    login(forbidden)
    assert client.get(f"/activities/{activity.id}/kiosk").status_code == 403


def test_offline_upload_endpoint(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=now() - timedelta(minutes=30)
    )
    db.session.commit()
    login(make_member(district["building_a"]))
    scanned = now() - timedelta(minutes=10)
    body = {
        "token": activities.kiosk_token(activity.id, activities.step_of(scanned)),
        "scanned_at": scanned.isoformat(),
        "nonce": "abcdef0123456789",
    }
    first = client.post("/checkin-uploads", json=body)
    assert first.status_code == 200 and first.json["code"] == "checked_in"
    assert client.post("/checkin-uploads", json=body).json["code"] == "already_checked_in"
    assert client.post("/checkin-uploads", json={"token": 7}).status_code == 422
    expired = client.post(
        "/checkin-uploads", json={**body, "nonce": "another-nonce-1", "scanned_at": None}
    )
    assert expired.status_code == 409 and expired.json["code"] == "token_expired"


def test_manual_check_in_and_bulk_approval_on_the_detail_page(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    ongoing = create_activity(
        district["a"], organizer=organizer, starts_at=now() - timedelta(minutes=20)
    )
    ended = create_activity(
        district["a"],
        organizer=organizer,
        starts_at=now() - timedelta(hours=3),
        hours=2,
        requires_checkout=False,
    )
    elder = factories.create_member(district["building_a"], password=None, name="李大爷")
    v2 = factories.create_member(district["building_a"], name="张阿姨")
    for member, minutes in ((elder, 10), (v2, 40)):
        activities.manual_check_in(
            ended, member, actor=organizer, now=ended.starts_at + timedelta(minutes=minutes)
        )
    db.session.commit()
    login(organizer)
    client.post("/lang/en")
    manual = client.post(f"/activities/{ongoing.id}/manual", data={"member": "李大爷"})
    assert manual.status_code == 302
    page = client.get(f"/activities/{ongoing.id}").get_data(as_text=True)
    assert "李大爷" in page and "(manual)" in page
    by_phone = client.post(f"/activities/{ongoing.id}/manual", data={"member": v2.phone})
    assert by_phone.status_code == 302
    assert len(activities.list_attendance(ongoing)) == 2
    factories.create_member(district["grid_a"], name="张阿姨")
    db.session.commit()
    for text, message in (
        ("13900000000", "No member has this phone number."),
        ("王五", "Nobody called 王五 lives in this unit."),
        ("张阿姨", "More than one member is called 张阿姨"),
    ):
        client.post(f"/activities/{ongoing.id}/manual", data={"member": text})
        assert message in client.get(f"/activities/{ongoing.id}").get_data(as_text=True)
    ids = [a.id for a in activities.list_attendance(ended)]
    response = client.post(
        f"/activities/{ended.id}/attendance", data={"ids": ids, "decision": "approve"}
    )
    assert response.status_code == 302
    assert "2 approved and credited." in client.get(f"/activities/{ended.id}").get_data(
        as_text=True
    )
    assert ledger.balances(elder.id)["HOURS"]["balance"] == 105
    assert ledger.balances(v2.id)["HOURS"]["balance"] == 75
    nothing = client.post(f"/activities/{ended.id}/attendance", data={"decision": "reject"})
    assert nothing.status_code == 302


def test_badge_page_and_party_page(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    member = make_member(district["building_a"], name="党员甲")
    people.register_party(member, branch="一支部")
    db.session.commit()
    login(member)
    client.post("/lang/en")
    badge = client.get("/me/badge").get_data(as_text=True)
    assert f'data-token="m{member.id}.' in badge
    assert client.get(f"/units/{district['a'].id}/party-attendance").status_code == 403
    client.post("/logout")
    login(organizer)
    client.post("/lang/en")
    party = client.get(f"/units/{district['a'].id}/party-attendance").get_data(as_text=True)
    assert "党员甲" in party and "一支部" in party


def test_chinese_is_the_default_on_activity_pages(client, district, make_member, login):
    login(make_member(district["a"], roles=("organizer",)))
    page = client.get("/activities").get_data(as_text=True)
    assert 'lang="zh-CN"' in page


def test_manual_check_in_by_phone_welcomes_walk_ins_from_other_communities(
    client, district, make_member, login
):
    """Walk-ins are welcome (as at a kiosk): a phone number finds any active member, a
    name only members of the activity's own subtree."""
    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=now() - timedelta(minutes=20)
    )
    visitor = make_member(district["building_b"], name="别处的人")
    waiting = make_member(district["building_b"], name="待审核的人", status="pending")
    login(organizer)
    client.post("/lang/en")
    client.post(f"/activities/{activity.id}/manual", data={"member": "别处的人"})
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Nobody called 别处的人 lives in this unit." in page
    client.post(f"/activities/{activity.id}/manual", data={"member": waiting.phone})
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "No member has this phone number." in page
    client.post(f"/activities/{activity.id}/manual", data={"member": visitor.phone})
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "别处的人 is checked in." in page
    assert [a.member_id for a in activities.list_attendance(activity)] == [visitor.id]
    # a second tap names the person, never "you have already checked in"
    client.post(f"/activities/{activity.id}/manual", data={"member": visitor.phone})
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "别处的人 was already checked in." in page
    assert "You have already" not in page


def test_bulk_decision_with_non_ascii_digits_is_not_a_500(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    activity = create_activity(district["a"], organizer=organizer)
    db.session.commit()
    login(organizer)
    response = client.post(
        f"/activities/{activity.id}/attendance", data={"ids": ["²"], "decision": "approve"}
    )
    assert response.status_code == 302


def test_a_garbled_code_is_refused_in_chinese(client, district, make_member, login):
    login(make_member(district["building_a"]))
    page = client.post("/checkin/garbage", data={})
    assert page.status_code == 400 and "此签到码无效。" in page.get_data(as_text=True)
    upload = client.post("/checkin-uploads", json={"token": "garbage"})
    assert upload.json["detail"] == "此签到码无效。"
    too_long = client.post("/checkin-uploads", json={"token": "x" * 400})
    assert too_long.status_code == 422 and too_long.json["detail"] == "此签到码无效。"
