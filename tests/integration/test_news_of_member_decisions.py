"""Issue 21, news of every decision about a person (the resident's and volunteer's part):
membership approved or turned down, the invitation of a member an organizer added by hand
or from a roster (how to log in), and hours approved or not. Each goes to the inbox in the
person's language and by their channel (here SMS) after the commit, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import sms
from tests.activities_factories import check_in, create_activity
from tests.projects_factories import T0, running_project
from timebank.activities import operations as activities
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.people import operations as people
from timebank.projects import operations as projects


@pytest.fixture
def by_sms(app):
    app.config.update(TIMEBANK_NOTIFY_CHANNELS="sms", TIMEBANK_SMS_ADAPTER="tests.sms:CaptureSms")
    app.extensions.pop("timebank_notify_channels", None)
    sms.SENT.clear()
    yield sms.SENT
    app.extensions.pop("timebank_notify_channels", None)


def news(member, kind):
    db.session.expire_all()
    return [n for n in inbox.list_notifications(member.id) if n.kind == kind]


def texts_to(phone):
    return [message for to, message in sms.SENT if to == phone]


def test_membership_approved_and_turned_down(app, district, make_member, by_sms):
    organizer = make_member(district["a"], roles=("organizer",))
    accepted = make_member(district["building_a"], status="pending", name="王秀英")
    refused = make_member(district["building_a"], status="pending", name="李四")
    people.approve_member(accepted, actor=organizer)
    people.reject_member(refused, actor=organizer, reason="不在本社区居住")
    assert texts_to(accepted.phone) == []  # nothing leaves before the commit
    db.session.commit()
    [welcome] = news(accepted, "membership_approved")
    assert welcome.title == "欢迎加入时间银行"
    assert welcome.body == (
        "王秀英，您在上坎社区的注册申请已通过，您现在是志愿者了。请用手机号和密码登录。"
    )
    assert texts_to(accepted.phone) == [f"{welcome.title}: {welcome.body}"]
    [no] = news(refused, "membership_rejected")
    assert no.title == "您的注册申请未获批准"
    assert no.body == "李四，您在上坎社区的注册申请未获批准。原因：不在本社区居住"


def test_a_member_added_by_hand_or_by_roster_is_told_how_to_log_in(
    app, client, district, make_member, login, by_sms
):
    organizer = make_member(district["a"], roles=("organizer",))
    login(organizer)
    added = client.post(
        f"/units/{district['a'].id}/members",
        data={"m-name": "王小新", "m-phone": "13655550011", "m-has_smartphone": "y"},
    )
    assert added.status_code == 302
    member = people.find_member_by_phone("13655550011")
    [invitation] = news(member, "member_invited")
    assert invitation.title == "您已加入上坎社区时间银行"
    assert "王小新，上坎社区已把您登记为志愿者。" in invitation.body
    assert "http://localhost/login/code" in invitation.body or "/login/code" in invitation.body
    assert "点击“发送验证码”" in invitation.body and invitation.link == "/login/code"
    [text] = texts_to("13655550011")
    assert text.startswith("您已加入上坎社区时间银行: ") and "/login/code" in text

    # a roster: the kept rows are invited, a rejected row is not
    roster = "姓名,手机号\n张三,13655550012\n重复,13655550011\n李四,1234\n".encode()
    client.post(
        f"/units/{district['a'].id}/members/import",
        data={"i-file": (__import__("io").BytesIO(roster), "名单.csv")},
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    imported = people.find_member_by_phone("13655550012")
    assert len(news(imported, "member_invited")) == 1
    assert len(texts_to("13655550012")) == 1
    assert len(texts_to("13655550011")) == 1  # the repeated phone heard nothing more


def test_the_invitation_is_texted_even_where_notices_go_to_the_log_only(app, district, make_member):
    app.config.update(TIMEBANK_NOTIFY_CHANNELS="log", TIMEBANK_SMS_ADAPTER="tests.sms:CaptureSms")
    app.extensions.pop("timebank_notify_channels", None)
    sms.SENT.clear()
    organizer = make_member(district["a"], roles=("organizer",))
    people.create_member(
        phone="13655550014", name="王小新", home_unit_id=district["building_a"].id,
        roles=[("volunteer", district["building_a"].id)], actor=organizer,
    )  # fmt: skip
    pending = make_member(district["building_a"], status="pending")
    people.approve_member(pending, actor=organizer)
    db.session.commit()
    app.extensions.pop("timebank_notify_channels", None)
    [text] = texts_to("13655550014")
    assert "/login/code" in text
    assert texts_to(pending.phone) == []  # other news follow the deployment's channels


def test_no_invitation_for_members_the_system_creates(app, district, by_sms):
    member = people.create_member(
        phone="13655550013", name="演示", home_unit_id=district["building_a"].id
    )
    db.session.commit()
    assert news(member, "member_invited") == [] and texts_to("13655550013") == []


def test_attendance_approved_or_not_is_news_with_what_was_credited(
    app, district, make_member, by_sms
):
    organizer = make_member(district["a"], roles=("organizer",))
    starts = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=starts, points_per_hour=10
    )
    served = make_member(district["building_a"])
    absent = make_member(district["building_a"])
    english = make_member(district["building_a"])
    people.set_locale(english, "en")
    rows = []
    for member in (served, absent, english):
        row = check_in(member, activity, at=starts)
        row.checked_out_at = starts + timedelta(minutes=95)
        rows.append(row)
    db.session.commit()
    activities.approve_valid_attendance(
        activity, [rows[0].id, rows[2].id], actor=organizer, now=starts + timedelta(hours=3)
    )
    activities.reject_attendance(
        activity, [rows[1].id], actor=organizer, reason="未在现场", now=starts + timedelta(hours=3)
    )
    db.session.commit()
    [credited] = news(served, "hours_approved")
    assert credited.title == "时长已入账：周六环境整治"
    assert credited.body == (
        "您 2026-12-05 在「周六环境整治」的 1小时30分钟 服务已审批通过，已记入您的时间银行。"
        "获得积分：15 积分。"
    )
    assert credited.link == "/me/statement"
    [in_english] = news(english, "hours_approved")
    assert in_english.body == (
        "1 h 30 min for 周六环境整治 on 2026-12-05 were approved and are in your time bank "
        "now. Points credited: 15 points."
    )
    [no] = news(absent, "attendance_rejected")
    assert no.body.endswith("未记入时长。原因：未在现场")
    assert len(texts_to(served.phone)) == 1 and len(texts_to(absent.phone)) == 1
    # approving again (a retry) tells nobody twice
    activities.approve_valid_attendance(activity, [rows[0].id], actor=organizer)
    db.session.commit()
    assert len(news(served, "hours_approved")) == 1 and len(texts_to(served.phone)) == 1


def test_hour_logs_approved_are_news(app, district, make_member, by_sms):
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"])
    project = running_project(district["a"], organizer, members=[volunteer], hours=4)
    log = projects.log_hours(
        member=volunteer, logged_by=volunteer, project=project, minutes=90,
        served_on=(T0 + timedelta(hours=8)).date(), description="疏通下水井",
        now=T0 + timedelta(hours=5),
    )  # fmt: skip
    db.session.commit()
    projects.approve_hour_logs([log.id], actor=organizer)
    db.session.commit()
    [credited] = news(volunteer, "hours_approved")
    assert credited.title == "时长已入账：下水管道疏通" and "1小时30分钟" in credited.body
