"""Finding 17 of issue 21: Chinese that reads as Chinese. Numbers inside their counters
("已核验 2548 条分录"), 名称 for the name of a unit or an organization, an amount said once,
a heading said once, full-width punctuation in every Chinese message, a sign-up said
once, and the reasons a check-in is held listed with 、."""

from __future__ import annotations

import re
from datetime import timedelta

from babel.messages.pofile import read_po

from tests import factories
from tests.activities_factories import create_activity
from tests.e2e.pages import CATALOG
from tests.todo_factories import todo_scene
from timebank.activities.models import Attendance
from timebank.core.clock import utcnow
from timebank.extensions import db

ASCII_BESIDE_CHINESE = re.compile(r"[\u4e00-\u9fff][,:;!?]|[,:;!?][\u4e00-\u9fff]")


def text(response) -> str:
    return response.get_data(as_text=True)


def seen(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_no_chinese_message_uses_ascii_punctuation_beside_chinese():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    wrong = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wrong += [s for s in strings if s and ASCII_BESIDE_CHINESE.search(s)]
    assert wrong == []


def test_the_jobs_page_puts_numbers_inside_their_counters(client, login, district):
    admin = factories.create_member(district["street"], roles=("admin",), name="街道管理员")
    factories.job_run_an_hour_ago(
        "verify-ledger", outcome="ok",
        counts={"entries": 2548, "transfers": 760, "checkpoints": 2},
    )  # fmt: skip
    db.session.commit()
    login(admin)
    page = seen(text(client.get("/admin/jobs")))
    assert "处理结果：已核验 2548 条分录、转账 760 笔、生成检查点 2 个" in page
    assert "条分录已核验" not in page
    client.post("/lang/en")
    assert "2548 entries verified, 760 transfers, 2 checkpoints" in seen(
        text(client.get("/admin/jobs"))
    )


def test_a_unit_and_an_organization_have_a_name_not_a_persons_name(client, login, district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    login(organizer)
    page = text(client.get(f"/units/{district['a'].id}"))
    labels = re.findall(r"<label[^>]*>\s*([^<]+?)\s*<input[^>]*name=\"(?:u-)?name\"", page)
    assert labels and set(labels) == {"名称"}, labels
    assert "姓名" not in page


def test_an_award_waiting_says_its_amount_once_and_reasons_are_listed(client, login):
    scene = todo_scene()
    login(scene["organizer"])
    pending = seen(text(client.get(f"/units/{scene['d']['a'].id}/pending-credits")))
    assert "1小时" in pending and "(时长)" not in pending and "(积分)" not in pending
    held = db.session.query(Attendance).filter_by(status="review").one()
    held.review_reason = "outside_radius,late_upload"
    db.session.commit()
    detail = seen(text(client.get(f"/activities/{scene['ended'].id}")))
    assert "在活动范围以外扫码、扫码后过了一段时间才提交" in detail


def test_headings_greeting_and_sign_up_are_said_once(client, login, district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() + timedelta(days=1)
    )
    db.session.commit()
    login(volunteer)
    home = seen(text(client.get("/")))
    assert "您好，王秀英" in home and "您好,王秀英" not in home
    needs = text(client.get("/needs"))
    heading = seen(re.search(r"<h1>.*?</h1>", needs, re.S).group(0)).strip()
    assert heading == "需求清单"
    signed = client.post(f"/activities/{activity.id}/signup", follow_redirects=True)
    assert seen(text(signed)).count("报名成功。") == 1
    again = seen(text(client.get(f"/activities/{activity.id}")))
    assert "报名成功。" not in again and "您已报名此活动。" in again
