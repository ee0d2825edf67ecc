"""Notifications: written once per key in the recipient's language, delivered through the
channels after the commit (never after a rollback), counted and marked read."""

from __future__ import annotations

import logging

import pytest
from flask_babel import gettext

from tests import channels, factories
from tests.sms import SENT as SMS_SENT
from tests.statements import recorded_statements
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.inbox.kinds import KINDS
from timebank.people import operations as people

PARAMS = {"title": "周六环境整治", "starts": "2026-03-15 09:00"}


@pytest.fixture
def members(app):
    d = factories.create_district()
    zh = factories.create_member(d["building_a"], name="王秀英")
    en = factories.create_member(d["building_a"], name="Bob Li")
    people.set_locale(en, "en")
    db.session.commit()
    return zh, en


@pytest.fixture
def captured(app):
    app.config["TIMEBANK_NOTIFY_CHANNELS"] = "log,tests.channels:CaptureChannel"
    channels.SENT.clear()
    return channels.SENT


def test_written_in_the_recipients_language_else_the_deployments(app, members):
    zh, en = members
    first = inbox.notify(zh, "activity_tomorrow", key="k1", params=PARAMS, link="/activities/1")
    second = inbox.notify(en, "activity_tomorrow", key="k2", params=PARAMS, link="/activities/1")
    assert (first.locale, first.title) == ("zh_CN", "明天：周六环境整治")
    assert (second.locale, second.title) == ("en", "Tomorrow: 周六环境整治")
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    third = inbox.notify(zh, "activity_tomorrow", key="k3", params=PARAMS)
    assert third.title == "Tomorrow: 周六环境整治"


def test_inside_a_request_the_recipients_language_wins(app, members):
    zh, en = members
    with app.test_request_context(method="POST", headers={"Accept-Language": "en"}):
        written = inbox.notify(zh, "activity_soon", key="k1", params=PARAMS)
        assert gettext("Inbox") == "Inbox"  # the page stays in the reader's language
    assert written.title == "一小时后：周六环境整治"


def test_one_notification_per_key(app, members):
    zh, _en = members
    assert inbox.notify(zh, "activity_soon", key="remind:1:2:hour_before", params=PARAMS)
    assert inbox.notify(zh, "activity_soon", key="remind:1:2:hour_before", params=PARAMS) is None
    db.session.commit()
    assert inbox.unread_count(zh.id) == 1


def test_delivered_through_every_channel_after_the_commit_only(app, members, captured, caplog):
    zh, _en = members
    inbox.notify(zh, "activity_soon", key="k1", params=PARAMS, link="/activities/7")
    assert captured == []
    db.session.rollback()
    assert captured == []
    inbox.notify(zh, "activity_soon", key="k1", params=PARAMS, link="/activities/7")
    with caplog.at_level(logging.INFO, logger="timebank.notify"):
        db.session.commit()
    [message] = captured
    assert (message.phone, message.title) == (zh.phone, "一小时后：周六环境整治")
    assert message.url == "http://127.0.0.1:5000/activities/7"
    assert any("一小时后" in r.getMessage() for r in caplog.records)  # the log channel


def test_a_failing_channel_is_logged_and_the_others_still_send(app, members, caplog):
    app.config["TIMEBANK_NOTIFY_CHANNELS"] = (
        "tests.channels:BrokenChannel,tests.channels:CaptureChannel"
    )
    channels.SENT.clear()
    zh, _en = members
    inbox.notify(zh, "activity_soon", key="k1", params=PARAMS)
    with caplog.at_level(logging.ERROR, logger="timebank.notify"):
        db.session.commit()
    assert len(channels.SENT) == 1
    assert "could not send" in caplog.text
    assert inbox.unread_count(zh.id) == 1


def test_the_sms_channel_sends_through_the_sms_adapter(app, members):
    app.config.update(TIMEBANK_NOTIFY_CHANNELS="sms", TIMEBANK_SMS_ADAPTER="tests.sms:CaptureSms")
    zh, _en = members
    inbox.notify(zh, "activity_cancelled", key="k1", params={**PARAMS, "reason": "下雨"})
    db.session.commit()
    # Chinese sentences follow one another with no space
    assert SMS_SENT[-1] == (
        zh.phone,
        "已取消：周六环境整治: 您报名的 周六环境整治（2026-03-15 09:00）已取消。原因：下雨",
    )


def test_unread_count_and_marking_read(app, members):
    zh, en = members
    for n in range(3):
        inbox.notify(zh, "activity_soon", key=f"k{n}", params=PARAMS)
    inbox.notify(en, "activity_soon", key="other", params=PARAMS)
    db.session.commit()
    newest = inbox.list_notifications(zh.id)
    assert [n.key for n in newest] == ["k2", "k1", "k0"]
    assert inbox.list_notifications(zh.id, before=newest[0].id, limit=1)[0].key == "k1"
    first_read = utcnow()
    inbox.mark_read(newest[0], now=first_read)
    inbox.mark_read(newest[0])
    assert newest[0].read_at == first_read
    assert inbox.unread_count(zh.id) == 2
    assert [n.key for n in inbox.list_notifications(zh.id, unread_only=True)] == ["k1", "k0"]
    assert inbox.mark_all_read(zh.id) == 2
    assert inbox.unread_count(zh.id) == 0 and inbox.unread_count(en.id) == 1


def test_every_kind_reads_in_chinese(app, members):
    zh, _en = members
    params = {**PARAMS, "reason": "下雨", "quarter": "2026 Q1", "days": 2, "registrations": 1,
              "attendance": 0, "credits": 0, "hour_logs": 0, "shops": 0, "organizer": "李建华",
              "day": "2026-03-14", "shop": "老王肉菜店", "month": "2026-11", "yuan": "1.00",
              "points": 10, "reference": "ZH-1", "offer": "满30元减5元", "n": 10, "name": "王秀英",
              "hours": "1小时", "note": "买菜", "minutes": 90, "earned_points": 15,
              "unit": "上坎社区", "url": "http://example.org/login/code"}  # fmt: skip
    for kind in KINDS:
        title, body = inbox.render(kind, params, "zh_CN")
        english = inbox.render(kind, params, "en")
        assert title != english[0] and body != english[1], kind


def test_many_at_once_each_in_its_language_once_per_key_sent_after_the_commit(
    app, members, captured
):
    zh, en = members
    inbox.notify(zh, "activity_soon", key="k1", params=PARAMS)  # written before
    notices = [
        inbox.Notice(zh, "activity_soon", "k1", PARAMS),
        inbox.Notice(zh, "activity_tomorrow", "k2", PARAMS, "/activities/1"),
        inbox.Notice(en, "activity_tomorrow", "k3", PARAMS),
    ]
    with recorded_statements() as statements:
        written = inbox.notify_many(notices)
    assert sorted(written) == ["k2", "k3"]
    # the keys read in one query, the new ones written in one
    assert [s.split()[0] for s in statements] == ["SELECT", "INSERT"], statements
    assert captured == []
    db.session.commit()
    assert sorted((m.member_id, m.title) for m in captured) == sorted(
        [(zh.id, "一小时后：周六环境整治"), (zh.id, "明天：周六环境整治"),
         (en.id, "Tomorrow: 周六环境整治")]
    )  # fmt: skip
    assert [m.url for m in captured if m.title.startswith("明天")] == [
        "http://127.0.0.1:5000/activities/1"
    ]
    assert inbox.notify_many(notices) == []  # again: nothing more
    assert inbox.unread_count(zh.id) == 2 and inbox.unread_count(en.id) == 1
    with pytest.raises(ValueError, match="unknown notification kind"):
        inbox.notify_many([inbox.Notice(zh, "no_such_kind", "k4")])
