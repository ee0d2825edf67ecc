"""The inbox (API and page, the top bar's count), the admins' jobs page with "run now",
alerts on admins' home page, and `timebank jobs` / `timebank jobs run`."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.statements import recorded_statements
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.inbox.models import Notification
from timebank.scheduling import operations as scheduling
from timebank.scheduling.models import JobRun

PARAMS = {"title": "周六环境整治", "starts": "2026-03-15 09:00"}


def remind(member, key: str, kind: str = "activity_tomorrow", link="/activities"):
    written = inbox.notify(member, kind, key=key, params=PARAMS, link=link)
    db.session.commit()
    return written


@pytest.fixture
def volunteer(district, make_member):
    return make_member(district["building_a"], name="王秀英")


# ---------------------------------------------------------------- API


def test_the_api_lists_ones_own_notifications_and_marks_them_read(
    client, district, volunteer, make_member, token_for
):
    other = make_member(district["building_a"])
    first = remind(volunteer, "k1")
    remind(volunteer, "k2", kind="activity_soon")
    theirs = remind(other, "k3")
    headers = token_for(volunteer)
    page = client.get("/api/v1/me/notifications", headers=headers).json
    assert page["unread"] == 2 and page["next_cursor"] is None
    assert [n["title"] for n in page["items"]] == ["一小时后：周六环境整治", "明天：周六环境整治"]
    assert page["items"][1]["link"] == "/activities" and page["items"][1]["read"] is False
    limited = client.get("/api/v1/me/notifications?limit=1", headers=headers).json
    older = client.get(
        f"/api/v1/me/notifications?before={limited['next_cursor']}", headers=headers
    ).json
    assert [n["id"] for n in older["items"]] == [first.id]

    marked = client.post(f"/api/v1/me/notifications/{first.id}/read", headers=headers)
    assert marked.status_code == 200 and marked.json["read"] and marked.json["read_at"]
    unread = client.get("/api/v1/me/notifications?unread=true", headers=headers).json
    assert unread["unread"] == 1 and len(unread["items"]) == 1
    refused = client.post(f"/api/v1/me/notifications/{theirs.id}/read", headers=headers)
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    assert (
        client.post("/api/v1/me/notifications/2147483647/read", headers=headers).status_code == 404
    )
    all_read = client.post("/api/v1/me/notifications/read-all", headers=headers).json
    assert all_read == {"marked": 1, "unread": 0}
    assert inbox.unread_count(other.id) == 1


# ---------------------------------------------------------------- pages


def test_the_top_bar_counts_unread_notifications_with_one_query(app, client, volunteer, login):
    remind(volunteer, "k1")
    remind(volunteer, "k2", kind="activity_soon")
    login(volunteer)
    with recorded_statements() as statements:
        home = client.get("/").get_data(as_text=True)
    assert re.search(r'id="inbox-unread"[^>]*>2<', home)
    assert len([s for s in statements if "FROM notifications" in s]) == 1


def test_the_inbox_page_shows_marks_read_and_opens(client, volunteer, login):
    first = remind(volunteer, "k1", link="/activities")
    second = remind(volunteer, "k2", kind="activity_soon", link=None)
    login(volunteer)
    page = client.get("/inbox").get_data(as_text=True)
    assert "明天：周六环境整治" in page and "2 条未读" in page
    response = client.post(f"/inbox/{second.id}/read")
    assert response.status_code == 302
    page = client.get("/inbox").get_data(as_text=True)
    assert 'id="inbox-unread"' in page and "1 条未读" in page
    assert f'id="notification-{second.id}" data-kind="activity_soon" data-read="yes"' in page
    opened = client.post(f"/inbox/{first.id}/read", data={"open": "1"})
    assert opened.headers["Location"] == "/activities"
    page = client.get("/inbox").get_data(as_text=True)
    assert 'id="inbox-unread"' not in page and "0 条未读" in page
    client.post("/lang/en")
    assert "0 unread" in client.get("/inbox").get_data(as_text=True)
    for cursor in ("abc", "-1", "99999999999999999999999"):
        assert client.get(f"/inbox?before={cursor}").status_code == 200


def test_one_cannot_mark_anothers_notification(client, district, volunteer, make_member, login):
    theirs = remind(make_member(district["building_a"]), "k1")
    login(volunteer)
    assert client.post(f"/inbox/{theirs.id}/read").status_code == 403
    assert inbox.unread_count(theirs.member_id) == 1


def test_mark_all_read(client, volunteer, login):
    remind(volunteer, "k1")
    remind(volunteer, "k2")
    login(volunteer)
    client.post("/inbox/read-all")
    assert inbox.unread_count(volunteer.id) == 0
    assert "已标为已读：2 条。" in client.get("/inbox").get_data(as_text=True)


# ---------------------------------------------------------------- the jobs page and alerts


@pytest.fixture
def admin(district, make_member):
    return make_member(district["street"], roles=("admin",), name="街道管理员")


def test_admins_see_jobs_and_runs_and_run_a_job_now(client, district, admin, login, make_member):
    login(make_member(district["a"], roles=("organizer",)))
    assert client.get("/admin/jobs").status_code == 403
    assert client.post("/admin/jobs/release-holds/run").status_code == 403
    client.post("/logout")
    login(admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "定时任务" in page and "没有调度进程持有租约" in page
    assert 'id="job-expire-points"' in page and "每天 00:30" in page  # the schedule in words
    assert "每 5 分钟" in page and "every 5m" not in page and "30 0 * * *" not in page
    ran = client.post("/admin/jobs/release-holds/run")
    assert ran.status_code == 302
    [run] = db.session.scalars(sa.select(JobRun)).all()
    assert (run.job, run.trigger, run.outcome) == ("release-holds", "manual", "ok")
    assert run.runner.startswith("街道管理员 (")
    page = client.get("/admin/jobs?job=release-holds").get_data(as_text=True)
    assert "“释放超时的冻结（商户兑换）”已运行：成功。" in page and 'data-outcome="ok"' in page
    assert client.post("/admin/jobs/no-such-job/run").status_code == 302  # flashed, not a 500


def test_the_lease_holder_is_shown(client, admin, login):
    from timebank.core.clock import utcnow

    scheduling.claim_lease("scheduler", "scheduler@host:42:beef", now=utcnow(), seconds=60)
    db.session.commit()
    login(admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "当前主调度进程：scheduler@host:42:beef" in page


def test_admins_see_open_alerts_at_home_and_resolve_them(
    client, district, admin, login, make_member
):
    alert = scheduling.raise_alert(
        "ledger_verify_failed", "alert:verify-ledger:2026-03-14", "entry 7: hash mismatch"
    )
    db.session.commit()
    organizer = make_member(district["a"], roles=("organizer",))
    login(organizer)
    assert "entry 7: hash mismatch" not in client.get("/").get_data(as_text=True)
    assert (
        client.post(f"/admin/alerts/{alert.id}/resolve", data={"resolution": "x"}).status_code
        == 403
    )
    client.post("/logout")
    login(admin)
    home = client.get("/").get_data(as_text=True)
    assert "账本核验未通过" in home and "entry 7: hash mismatch" in home
    empty = client.post(f"/admin/alerts/{alert.id}/resolve", data={"resolution": ""})
    assert empty.status_code == 302 and scheduling.open_alerts()
    client.post(f"/admin/alerts/{alert.id}/resolve", data={"resolution": "恢复备份后核验通过"})
    home = client.get("/").get_data(as_text=True)
    assert "警报已处理。" in home and "没有待处理的警报。" in home
    jobs = client.get("/admin/jobs").get_data(as_text=True)
    assert "恢复备份后核验通过" in jobs


# ---------------------------------------------------------------- the CLI


def test_timebank_jobs_lists_and_runs(app):
    runner = app.test_cli_runner()
    ran = runner.invoke(args=["jobs", "run", "close-checkouts"])
    assert ran.exit_code == 0, ran.output
    assert "close-checkouts" in ran.output and "ok" in ran.output
    listing = runner.invoke(args=["jobs"])
    assert listing.exit_code == 0, listing.output
    for job in ("close-checkouts", "expire-points", "verify-ledger", "remind-approvals"):
        assert job in listing.output
    assert "{'closed': 0}" in listing.output and "nobody has held it yet" in listing.output
    twice = runner.invoke(args=["jobs", "run", "expire-points"])
    again = runner.invoke(args=["jobs", "run", "expire-points"])
    assert twice.exit_code == 0 and "expire-points" in twice.output
    assert "nothing was due" in again.output
    unknown = runner.invoke(args=["jobs", "run", "no-such-job"])
    assert unknown.exit_code != 0 and "no-such-job" in unknown.output


@pytest.mark.demo  # the demo `make run` loads on SQLite
def test_the_demo_shows_job_history_a_resolved_alert_and_notifications(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "--members", "30"]).exit_code == 0
    from timebank.people import operations as people
    from timebank.scheduling.models import Alert

    def state():
        runs = db.session.scalars(sa.select(JobRun.outcome)).all()
        notes = db.session.scalars(sa.select(Notification.key)).all()
        return sorted(runs), sorted(notes), db.session.scalar(sa.select(sa.func.count(Alert.id)))

    runs, notes, alerts = state()
    assert len(runs) > 20 and {"ok", "failed", "alert"} <= set(runs)
    assert alerts == 1 and scheduling.open_alerts() == []
    volunteer = people.find_member_by_phone("13900000000")
    # the volunteer's notices are real ones: the cancellation of an activity they signed up
    # for, and the news of their hours approved (issue 21)
    notices = inbox.list_notifications(volunteer.id)
    cancelled = [n for n in notices if n.kind == "activity_cancelled"]
    assert len(cancelled) == 1 and "爱心义剪进社区" in cancelled[0].title
    assert {n.kind for n in notices} >= {"activity_cancelled", "hours_approved"}
    assert inbox.unread_count(volunteer.id) == len([n for n in notices if n.read_at is None])
    organizer = people.find_member_by_phone("13800000001")
    assert inbox.unread_count(organizer.id) == 1
    client.post("/login", data={"phone": "13800000000", "password": "timebank-admin"})
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "核对发现是误连了培训环境的数据库" in page and 'data-outcome="failed"' in page
    assert runner.invoke(args=["demo", "--members", "30"]).exit_code == 0
    assert state() == (runs, notes, alerts)


def test_a_broken_ledger_found_by_run_now_shows_on_the_admins_home(client, district, admin, login):
    from tests.unit.test_ledger import _tamper, earn
    from timebank.ledger.models import Entry

    member = factories.create_member(district["building_a"])
    earn(member, district["a"], minutes=60, key="attendance:1")
    db.session.commit()
    entry = db.session.scalars(sa.select(Entry).order_by(Entry.id)).first()
    _tamper(
        f"UPDATE entries SET amount = 600, balance_after = 600 WHERE id = {entry.id}", "entries"
    )
    login(admin)
    client.post("/admin/jobs/verify-ledger/run")
    jobs = client.get("/admin/jobs?job=verify-ledger").get_data(as_text=True)
    assert (
        "“核验所有哈希链和余额，然后生成检查点；如有问题向管理员报警”已运行：已报警。" in jobs
        and 'data-outcome="alert"' in jobs
    )
    home = client.get("/").get_data(as_text=True)
    assert "账本核验未通过" in home and f"entry {entry.id}" in home
