"""The three lists' pages through the test client (English via /lang/en unless said)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from tests.projects_factories import JPEG, PNG, file_need
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.projects.models import HourLog, Need
from timebank.units import operations as units


@pytest.fixture
def s(app, district, make_member, tmp_path):
    app.config["TIMEBANK_PHOTO_DIR"] = str(tmp_path / "photos")
    a, home = district["a"], district["building_a"]
    return {
        "d": district,
        "organizer": make_member(a, roles=("organizer",), name="上坎网格长"),
        "volunteer": make_member(home, name="王秀英"),
        "other": make_member(home, name="刘建国"),
    }


def as_member(client, login, member, lang="en"):
    client.post("/logout")
    login(member)
    client.post(f"/lang/{lang}")


def live_project(s, *, places=3, started=False, **kwargs):
    start = utcnow() + (timedelta(hours=-1) if started else timedelta(days=1))
    project = projects.create_project(
        actor=s["organizer"],
        unit_id=s["d"]["a"].id,
        title=kwargs.pop("title", "老人助餐"),
        category=kwargs.pop("category", "elderly_care"),
        places=places,
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        points_per_hour=10,
        publish=True,
        now=start - timedelta(days=2),
        **kwargs,
    )
    db.session.commit()
    return project


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_lists_filter_by_unit_category_and_state(client, login, s):
    vol, d = s["volunteer"], s["d"]
    file_need(vol, title="污水外溢")
    file_need(vol, title="路灯不亮", category="facilities", unit_id=d["a"].id)
    declined = file_need(vol, title="想装电梯", category="facilities")
    projects.decline_need(declined, actor=s["organizer"], reason="不属于社区范围")
    live_project(s, title="路灯维修", category="facilities")
    projects.offer_resource(actor=vol, title="会修电器", category="skills", availability="周末")
    db.session.commit()
    as_member(client, login, vol)
    everything = text(client.get("/needs"))
    assert all(t in everything for t in ("污水外溢", "路灯不亮", "想装电梯", "Needs"))
    facilities = text(client.get("/needs?category=facilities&status=open"))
    assert (
        "路灯不亮" in facilities and "污水外溢" not in facilities and "想装电梯" not in facilities
    )
    in_a_only = text(client.get(f"/needs?unit_id={d['a'].id}"))
    assert "路灯不亮" in in_a_only
    assert "污水外溢" in in_a_only  # building_a lies in community a
    grid_b = text(client.get(f"/needs?unit_id={d['grid_b'].id}"))
    assert "污水外溢" not in grid_b
    assert "路灯维修" in text(client.get("/projects?category=facilities&status=open"))
    assert "路灯维修" not in text(client.get("/projects?status=verified"))
    assert "会修电器" in text(client.get("/resources?category=skills&status=available"))
    assert "会修电器" not in text(client.get("/resources?category=venue"))


def test_a_grid_worker_files_for_a_resident_in_a_few_taps(client, login, s, make_member):
    d = s["d"]
    resident = make_member(d["building_a"], name="独居的赵奶奶", password=None)
    resident.has_smartphone = False
    db.session.commit()
    as_member(client, login, s["volunteer"])
    assert "Nobody to file for" in text(client.get("/needs/for-resident"))
    as_member(client, login, s["organizer"])
    form = text(client.get("/needs/for-resident"))
    assert "独居的赵奶奶" in form and 'name="urgency"' in form and "<label" in form
    sent = client.post(
        "/needs/for-resident",
        data={
            "resident_id": resident.id,
            "category": "elderly_care",
            "title": "每天需要送午饭",
            "urgency": "high",
        },
    )
    assert sent.status_code == 302
    need = db.session.query(Need).one()
    assert (need.resident_id, need.filed_by_id, need.urgency) == (
        resident.id,
        s["organizer"].id,
        "high",
    )
    page = text(client.get(f"/needs/{need.id}"))
    assert "Filed by 上坎网格长 for 独居的赵奶奶" in page and resident.phone in page
    # someone else's resident: refused
    stranger = make_member(d["building_b"], name="古浪路的老人", password=None)
    refused = client.post(
        "/needs/for-resident",
        data={"resident_id": stranger.id, "category": "other", "title": "x", "urgency": "normal"},
    )
    assert refused.status_code == 200 and "Not a valid choice" in text(refused)
    guardian = s["volunteer"]
    people.add_guardian(resident, guardian, relation="邻居", actor=None)
    db.session.commit()
    as_member(client, login, guardian)
    assert "独居的赵奶奶" in text(client.get("/needs/for-resident"))


def test_the_project_page_offers_buttons_by_role(client, login, s, make_member):
    project = live_project(s, places=2)
    org = units.create_organization(
        unit_id=s["d"]["a"].id, name="兰州石化公司", kind="company", contact=None
    )
    contact = make_member(s["d"]["building_a"], name="石化李主席")
    projects.add_organization_member(org, contact, role="contact", actor=None)
    db.session.commit()
    url = f"/projects/{project.id}"
    as_member(client, login, s["volunteer"])
    page = text(client.get(url))
    assert 'id="claim"' in page and 'id="organizer-tools"' not in page
    assert "Claim for 兰州石化公司" not in page
    as_member(client, login, contact)
    assert "Claim for 兰州石化公司" in text(client.get(url))
    as_member(client, login, s["organizer"])
    page = text(client.get(url))
    assert (
        'id="organizer-tools"' in page and 'id="assign"' in page and 'id="move-in_progress"' in page
    )
    other_org = make_member(s["d"]["b"], roles=("organizer",))
    as_member(client, login, other_org)
    assert 'id="organizer-tools"' not in text(client.get(url))


def test_claim_assign_answer_and_withdraw_through_the_pages(client, login, s):
    project = live_project(s, places=2)
    url = f"/projects/{project.id}"
    as_member(client, login, s["volunteer"])
    assert client.post(f"{url}/claim").status_code == 302
    assert "You serve on this project." in text(client.get(url))
    as_member(client, login, s["organizer"])
    client.post(f"{url}/assign", data={"member": s["other"].phone})
    page = text(client.get(url))
    assert "Waiting for an answer" in page and "Staffed" in page
    as_member(client, login, s["other"])
    mine = text(client.get("/me/projects"))
    claim_id = re.search(r'data-claim-id="(\d+)" data-status="pending"', mine).group(1)
    declined = client.post(f"/assignments/{claim_id}/decline", data={"reason": ""})
    assert declined.status_code == 302
    assert "Give a reason." in text(client.get("/me/projects"))
    client.post(f"/assignments/{claim_id}/decline", data={"reason": "那天要带孙子"})
    assert "Declined" in text(client.get(url)) and "那天要带孙子" in text(client.get(url))
    as_member(client, login, s["volunteer"])
    client.post(f"{url}/withdraw", data={"reason": "出差"})
    page = text(client.get(url))
    assert "Withdrawn" in page and 'id="claim"' in page
    history = page[page.index('id="history"') :]
    for event in (
        "Claimed a place",
        "Assigned",
        "Declined the assignment",
        "Withdrew",
        "Open for claims → Staffed",
        "Staffed → Open for claims",
    ):
        assert event in history, event


def test_hours_with_a_photo_and_the_bulk_approval_queue(client, login, s, make_member):
    organizer, volunteer, other = s["organizer"], s["volunteer"], s["other"]
    project = live_project(s, started=True)
    for member in (volunteer, other, organizer):
        projects.claim_place(project, member, now=project.starts_at - timedelta(hours=1))
    projects.change_project_status(project, "in_progress", actor=organizer)
    db.session.commit()
    day = projects.local_date(utcnow()).isoformat()
    as_member(client, login, volunteer)
    form = text(client.get(f"/hour-logs/new?project_id={project.id}"))
    assert 'enctype="multipart/form-data"' in form and 'accept="image/*"' in form
    fake = client.post(
        f"/hour-logs/new?project_id={project.id}",
        data={
            "served_on": day,
            "minutes": "60",
            "description": "给独居老人送午饭",
            "photo": (io.BytesIO(b"GIF89a" + b"\x00" * 64), "photo.jpg"),
        },
    )
    assert fake.status_code == 200 and "must be a JPEG, PNG or WebP" in text(fake)
    sent = client.post(
        f"/hour-logs/new?project_id={project.id}",
        data={
            "served_on": day,
            "minutes": "60",
            "description": "给独居老人送午饭",
            "photo": (io.BytesIO(JPEG), "午饭.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, text(sent)
    too_much = client.post(
        f"/hour-logs/new?project_id={project.id}",
        data={"served_on": day, "minutes": "240", "description": "还是送饭"},
    )
    assert "At most 240 minutes a day" in text(too_much)
    logged = db.session.query(HourLog).one()
    assert logged.photo_type == "image/jpeg"
    projects.log_hours(
        member=other,
        logged_by=other,
        project=project,
        served_on=logged.served_on,
        minutes=45,
        description="陪老人聊天",
    )
    own = projects.log_hours(
        member=organizer,
        logged_by=organizer,
        project=project,
        served_on=logged.served_on,
        minutes=30,
        description="协调",
    )
    db.session.commit()
    as_member(client, login, organizer)
    queue_url = f"/units/{s['d']['a'].id}/hour-logs"
    assert client.get("/hour-logs/queue").headers["Location"].endswith(queue_url)
    queue = text(client.get(queue_url))
    assert "给独居老人送午饭" in queue and "陪老人聊天" in queue and "Photo" in queue
    photo = client.get(f"/hour-logs/{logged.id}/photo")
    assert photo.data == JPEG and photo.mimetype == "image/jpeg"
    ids = [str(log.id) for log in db.session.query(HourLog).order_by(HourLog.id)]
    decided = client.post(queue_url, data={"ids": ids, "decision": "approve"})
    assert decided.status_code == 302
    after = text(client.get(queue_url))
    assert "2 approved and credited." in after
    assert f"#{own.id}: Nobody decides on their own or their ward" in after
    assert ledger.balances(volunteer.id)["HOURS"]["balance"] == 60
    as_member(client, login, volunteer)
    mine = text(client.get("/me/hour-logs"))
    assert "60 min, 10 points credited" in mine
    statement = text(client.get("/me/statement"))
    assert "Served in “" in statement and "hour_log" not in statement


def test_a_photo_is_never_read_from_outside_its_folder(client, login, s, tmp_path):
    project = live_project(s, started=True)
    volunteer = s["volunteer"]
    projects.claim_place(project, volunteer, now=project.starts_at - timedelta(hours=1))
    projects.change_project_status(project, "in_progress", actor=s["organizer"])
    log = projects.log_hours(
        member=volunteer,
        logged_by=volunteer,
        project=project,
        served_on=projects.local_date(utcnow()),
        minutes=30,
        description="巡查",
        photo=PNG,
    )
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    log.photo_name = "../secret.png"
    db.session.commit()
    as_member(client, login, volunteer)
    assert client.get(f"/hour-logs/{log.id}/photo").status_code == 404


def test_a_need_is_resolved_then_confirmed_and_rated_on_its_page(client, login, s):
    organizer, volunteer = s["organizer"], s["volunteer"]
    need = file_need(volunteer, title="飞线充电")
    project = live_project(s, need_ids=[need.id], title="飞线充电整治", category="safety")
    for status in ("in_progress", "done", "verified"):
        projects.change_project_status(project, status, actor=organizer)
    db.session.commit()
    as_member(client, login, s["other"])
    assert 'id="confirm"' not in text(client.get(f"/needs/{need.id}"))
    as_member(client, login, volunteer)
    page = text(client.get(f"/needs/{need.id}"))
    assert "Resolved" in page and "飞线充电整治" in page and 'id="confirm"' in page
    client.post(f"/needs/{need.id}/confirm", data={"rating": "4", "feedback": "楼道安全了"})
    page = text(client.get(f"/needs/{need.id}"))
    assert "★★★★☆" in page and "楼道安全了" in page and 'id="confirm"' not in page


def test_an_organizer_declines_merges_and_accepts_needs_on_the_page(client, login, s):
    organizer, volunteer = s["organizer"], s["volunteer"]
    first, duplicate, third = (
        file_need(volunteer, title=t) for t in ("污水外溢", "下水冒水", "垃圾分类屋")
    )
    project = live_project(s)
    db.session.commit()
    as_member(client, login, organizer)
    client.post(f"/needs/{duplicate.id}/merge", data={"into_id": first.id})
    client.post(f"/needs/{third.id}/accept", data={"project_id": project.id})
    client.post(f"/needs/{first.id}/decline", data={"reason": "已由物业处理"})
    db.session.expire_all()
    assert (first.status, duplicate.status, third.status) == ("declined", "merged", "accepted")
    assert "Merged into" in text(client.get(f"/needs/{duplicate.id}"))
    assert client.post(f"/needs/{third.id}/decline", data={"reason": "x"}).status_code == 302
    assert "cannot go from Accepted to Declined" in text(client.get(f"/needs/{third.id}"))
    as_member(client, login, volunteer)
    assert client.post(f"/needs/{third.id}/decline", data={"reason": "x"}).status_code == 403


def test_pages_are_chinese_by_default(client, login, s):
    project = live_project(s)
    login(s["volunteer"])
    listing = text(client.get("/projects"))
    assert 'lang="zh-CN"' in listing and "服务项目" in listing and "老人助餐" in listing
    page = text(client.get(f"/projects/{project.id}"))
    assert "认领一个岗位" in page and "开放认领" in page
    assert "提交需求" in text(client.get("/needs"))
