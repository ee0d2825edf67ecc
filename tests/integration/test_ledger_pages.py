"""Ledger pages through the test client: the statement in words and local time, the
four-eyes queue with names and reasons, award, correction and donation pages, and the
admins' ledger check."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.activities_factories import T0, earn
from timebank.activities import operations as activities
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Transfer
from timebank.units import operations as units


def _attend_and_credit(member, unit, organizer, *, minutes=90, points=15):
    activity = earn(
        member, unit, organizer, title="四点半课堂", minutes=minutes, points=points, at=T0
    )
    db.session.commit()
    return activity


def test_statement_says_each_line_in_words_with_local_time(client, district, make_member, login):
    alice = make_member(district["building_a"], name="王秀英")
    organizer = make_member(district["a"], roles=("organizer",))
    _attend_and_credit(alice, district["a"], organizer)
    # a credit at 02:30 in Shanghai is 18:30 UTC the day before
    [line] = [t for t in db.session.scalars(sa.select(Transfer)) if t.ledger == "HOURS"]
    login(alice)
    zh = client.get("/me/statement").get_data(as_text=True)
    assert "参加活动「四点半课堂」" in zh and "+1小时30分钟" in zh and "+15 积分" in zh
    assert "余额" in zh and "#" not in re.sub(r"&#\d+;|#[\w-]+\"|href=\"[^\"]*\"", "", zh)
    local = line.created_at.astimezone(activities.local_zone()).strftime("%Y-%m-%d %H:%M")
    assert local in zh
    client.post("/lang/en")
    en = client.get("/me/statement?ledger=POINTS").get_data(as_text=True)
    history = en[en.index('id="history"') :]
    assert "Served at “四点半课堂”" in history and "+15 points" in history
    assert "h 30 min" not in history  # only the points


def test_statement_local_date_crosses_midnight(app, client, district, make_member, login):
    from timebank.ledger.statement import describe

    alice = make_member(district["building_a"])
    late = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)  # 02:30 on 1 December in Shanghai
    line = ledger.StatementLine(1, 1, "HOURS", 60, 60, "earn_service", None, None, None,
                                "unit:1:issuance", late)  # fmt: skip
    with app.test_request_context("/"):
        [shown] = describe([line])
        from flask import render_template_string

        assert render_template_string("{{ t|local_time }}", t=shown.created_at) == (
            "2026-12-01 02:30"
        )
    assert alice


def test_award_page_queue_names_reason_and_same_queue(client, district, make_member, login):
    alice = make_member(district["building_a"], name="王秀英")
    first = make_member(district["a"], roles=("organizer",), name="李组织")
    second = make_member(district["street"], roles=("organizer",), name="赵主任")
    login(first)
    client.post("/lang/en")
    form = client.get(f"/members/{alice.id}/award").get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', form).group(1)
    body = {"ledger": "POINTS", "points": "30", "memo": "网格模范志愿者", "key": key}
    asked = client.post(f"/members/{alice.id}/award", data=body)
    assert asked.status_code == 302
    again = client.post(f"/members/{alice.id}/award", data=body)  # a double tap: one request
    assert again.status_code == 302
    assert len(ledger.list_pending_credits(units.subtree_ids_select(district["a"].id))) == 1
    empty = client.post(f"/members/{alice.id}/award", data={**body, "points": "0", "key": ""})
    assert empty.status_code == 200 and "Give an amount above zero." in empty.get_data(True)
    queue = client.get(f"/units/{district['a'].id}/pending-credits").get_data(as_text=True)
    assert "王秀英" in queue and "30 points" in queue and "Asked by 李组织" in queue
    assert "another organizer approves it" in queue and "POINTS" not in queue.replace(
        'data-ledger="POINTS"', ""
    )
    client.post("/logout")
    login(second)
    client.post("/lang/en")
    [pending] = ledger.list_pending_credits(units.subtree_ids_select(district["a"].id))
    street_queue = f"/units/{district['street'].id}/pending-credits"
    rejected = client.post(
        f"/pending-credits/{pending.id}/reject",
        data={"queue": str(district["street"].id), "reason": "请附活动照片"},
    )
    assert rejected.headers["Location"].endswith(street_queue)
    page = client.get(street_queue).get_data(as_text=True)
    assert "请附活动照片" in page and "Rejected" in page and "by 赵主任" in page
    client.post("/logout")
    login(first)
    mine = client.get("/me/statement").get_data(as_text=True)
    assert "请附活动照片" in mine


def test_reject_through_the_api_keeps_the_reason(client, district, make_member, token_for):
    alice = make_member(district["building_a"])
    first = make_member(district["a"], roles=("organizer",))
    second = make_member(district["a"], roles=("organizer",))
    pending = ledger.request_manual_credit(
        ledger="HOURS", code="award", member_id=alice.id, member_unit_id=alice.home_unit_id,
        unit_id=district["a"].id, amount=60, memo="义剪", idempotency_key="k1",
        requested_by_id=first.id,
    ).pending  # fmt: skip
    db.session.commit()
    answer = client.post(
        f"/api/v1/pending-credits/{pending.id}/reject",
        json={"reason": "重复申请"},
        headers=token_for(second),
    )
    assert answer.status_code == 200 and answer.json["reject_reason"] == "重复申请"
    assert answer.json["status"] == "rejected"


def test_correction_page_takes_back_at_once(client, district, make_member, login):
    alice = make_member(district["building_a"], name="王秀英")
    organizer = make_member(district["a"], roles=("organizer",))
    _attend_and_credit(alice, district["a"], organizer, minutes=120, points=20)
    hours = db.session.scalar(sa.select(Transfer).where(Transfer.ledger == "HOURS"))
    login(organizer)
    client.post("/lang/en")
    statement = client.get(f"/members/{alice.id}/statement").get_data(as_text=True)
    assert "Statement of 王秀英" in statement and f"/transfers/{hours.id}/correct" in statement
    page = client.get(f"/transfers/{hours.id}/correct").get_data(as_text=True)
    assert "posts at once" in page
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    done = client.post(
        f"/transfers/{hours.id}/correct",
        data={"hours": "0", "minutes": "30", "memo": "多记了半小时", "key": key},
    )
    assert done.status_code == 302
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 90
    client.post("/logout")
    login(alice)
    assert client.get(f"/transfers/{hours.id}/correct").status_code == 403


def test_donation_page_to_a_member_and_to_a_pool(client, district, make_member, login):
    alice = make_member(district["building_a"])
    mother = make_member(district["building_b"], name="张桂兰")
    organizer = make_member(district["a"], roles=("organizer",))
    _attend_and_credit(alice, district["a"], organizer, minutes=180, points=0)
    login(alice)
    client.post("/lang/en")
    page = client.get("/me/donate").get_data(as_text=True)
    assert "3 h" in page and "上坎社区" in page and "101号楼" not in page
    asked = {"to": "member", "phone": mother.phone, "hours": "1", "minutes": "0"}
    # the first tap shows the recipient, masked, and gives nothing yet
    shown = client.post("/me/donate", data=asked)
    assert shown.status_code == 200 and "张**" in shown.get_data(as_text=True)
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 0
    given = client.post("/me/donate", data={**asked, "confirmed": "yes"})
    assert given.status_code == 302
    assert ledger.balances(mother.id)["HOURS"]["balance"] == 60
    nobody = client.post("/me/donate", data={"to": "member", "phone": "13900000000", "hours": "1"})
    assert "Nobody active has this phone number." in nobody.get_data(as_text=True)
    pooled = client.post(
        "/me/donate",
        data={
            "to": "pool",
            "pool_unit_id": str(district["a"].id),
            "minutes": "30",
            "confirmed": "yes",
        },
    )
    assert pooled.status_code == 302
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 90
    statement = client.get("/me/statement").get_data(as_text=True)
    assert "Hours given to 张桂兰" in statement and "Hours given to the pool of 上坎社区" in (
        statement
    )


def test_ledger_check_page_for_admins_only(client, district, make_member, login):
    admin = make_member(district["street"], roles=("admin",))
    organizer = make_member(district["a"], roles=("organizer",))
    alice = make_member(district["building_a"])
    _attend_and_credit(alice, district["a"], organizer)
    login(organizer)
    assert client.get("/ledger/integrity").status_code == 403
    client.post("/logout")
    login(admin)
    client.post("/lang/en")
    assert client.post("/ledger/checkpoints").status_code == 302
    page = client.post("/ledger/integrity").get_data(as_text=True)
    assert "The ledger is intact: 4 entries" in page and "2 checkpoints" in page
    zh_page = client.post("/lang/zh_CN") and client.get("/ledger/integrity").get_data(True)
    assert "检查点" in zh_page
