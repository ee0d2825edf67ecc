"""An activity page says what state the activity is in and where it is (issue 21, finding
4): a cancelled one offers no 报名 whatever the way in (the cancellation notice, a ward's
link), and says so; every page names the place; the live one offers check-in."""

from datetime import timedelta

from tests import factories
from tests.activities_factories import create_activity
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox.models import Notification


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_cancelled_activity_opened_from_the_notice_offers_no_sign_up(client, district, login):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    stranger = factories.create_member(district["building_a"])
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() + timedelta(days=2)
    )
    activities.sign_up(activity, volunteer)
    activities.cancel_activity(activity, actor=organizer, reason="暴雨预警")
    db.session.commit()
    [notice] = db.session.query(Notification).filter_by(member_id=volunteer.id).all()
    login(volunteer)
    page = text(client.get(notice.link))
    assert 'id="cancelled-notice"' in page and "这个活动已取消" in page and "原因：暴雨预警" in page
    assert 'id="signup"' not in page and 'id="withdraw"' not in page
    assert "checkin-link" not in page
    client.post("/logout")
    for member in (stranger, organizer):
        login(member)
        page = text(client.get(f"/activities/{activity.id}"))
        assert 'id="signup"' not in page and 'id="cancelled-notice"' in page
        client.post("/logout")
    login(stranger)
    client.post("/lang/en")
    page = text(client.get(f"/activities/{activity.id}"))
    assert "This activity was cancelled: do not come, nothing to sign up for." in page


def test_the_page_and_the_list_say_where(client, district, login):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    volunteer = factories.create_member(district["building_a"])
    soon = utcnow() + timedelta(days=1)
    placed = create_activity(
        district["a"], organizer=organizer, starts_at=soon, address=" 上坎社区活动室，幸福路12号 "
    )
    unplaced = create_activity(district["a"], organizer=organizer, starts_at=soon, title="无地址")
    db.session.commit()
    assert placed.address == "上坎社区活动室，幸福路12号"
    login(volunteer)
    page = text(client.get(f"/activities/{placed.id}"))
    assert "地点：上坎社区活动室，幸福路12号" in page
    # no address typed: the community it belongs to
    assert "地点：上坎社区" in text(client.get(f"/activities/{unplaced.id}"))
    assert "地点：上坎社区活动室，幸福路12号" in text(client.get("/activities"))
    client.post("/lang/en")
    assert "Where: 上坎社区活动室，幸福路12号" in text(client.get(f"/activities/{placed.id}"))


def test_the_address_is_set_on_the_form_and_the_api_and_changes_after_check_ins(
    client, district, login, token_for, activity_scene
):
    organizer, activity = activity_scene["organizer"], activity_scene["activity"]
    login(organizer)
    response = client.post(
        "/activities/new",
        data={
            "title": "四点半课堂", "unit_id": district["grid_a"].id, "category": "after_school",
            "kind": "service", "starts_at": "2030-12-01T16:30", "ends_at": "2030-12-01T18:00",
            "checkin_mode": "kiosk", "address": "西固区第一小学三楼教室",
        },
    )  # fmt: skip
    assert response.status_code == 302, text(response)
    assert "地点：西固区第一小学三楼教室" in text(client.get(response.headers["Location"]))
    too_long = client.post(
        f"/activities/{activity.id}/edit",
        data={"title": activity.title, "category": "cleanup", "address": "长" * 201},
    )
    assert too_long.status_code == 200
    # the place in words is free to change even after someone checked in
    activities.manual_check_in(activity, member=activity_scene["volunteer"], actor=organizer)
    db.session.commit()
    headers = token_for(organizer)
    changed = client.patch(
        f"/api/v1/activities/{activity.id}", json={"address": "社区广场"}, headers=headers
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["address"] == "社区广场"
    refused = client.patch(
        f"/api/v1/activities/{activity.id}", json={"address": "x" * 201}, headers=headers
    )
    assert refused.status_code == 422


def test_the_live_activity_offers_check_in(client, district, login, activity_scene):
    volunteer, live = activity_scene["volunteer"], activity_scene["activity"]
    later = create_activity(
        district["a"], organizer=activity_scene["organizer"],
        starts_at=utcnow() + timedelta(days=3),
    )  # fmt: skip
    badge = create_activity(
        district["a"], organizer=activity_scene["organizer"],
        starts_at=utcnow() - timedelta(minutes=5), checkin_mode="badge",
    )  # fmt: skip
    db.session.commit()
    login(volunteer)
    page = text(client.get(f"/activities/{live.id}"))
    assert 'id="checkin-link" href="/scan"' in page and "活动正在进行：到场后请签到。" in page
    assert 'id="signup"' in page  # besides the sign-up
    assert "checkin-link" not in text(client.get(f"/activities/{later.id}"))
    assert 'id="checkin-link" href="/me/badge"' in text(client.get(f"/activities/{badge.id}"))
    client.post("/lang/en")
    assert "Happening now: check in when you arrive." in text(client.get(f"/activities/{live.id}"))
