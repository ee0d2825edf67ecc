import logging
from datetime import date, timedelta

import pytest

from tests import factories
from timebank.core import access
from timebank.core.access import Target
from timebank.core.errors import AuthenticationRequired, Conflict, DomainError, InvalidInput
from timebank.extensions import db
from timebank.people import operations as people


def test_phone_is_normalized_and_validated(app):
    assert people.normalize_phone("+86 138-0000-1234") == "13800001234"
    assert people.normalize_phone("１３８００００１２３４") == "13800001234"  # full-width
    for bad in ("12345", "23800001234", "1380000123x", "", None, "138٠٠٠٠١٢٣٤"):
        with pytest.raises(InvalidInput):
            people.normalize_phone(bad)


def test_phone_is_unique(app):
    d = factories.create_district()
    factories.create_member(d["a"], phone="13811112222")
    with pytest.raises(Conflict) as error:
        factories.create_member(d["b"], phone="138 1111 2222")
    assert error.value.code == "phone_taken"


def test_password_is_hashed_with_argon2id(app):
    d = factories.create_district()
    member = factories.create_member(d["a"], password="a-long-secret")
    assert member.password_hash.startswith("$argon2id$")
    assert people.authenticate(member.phone, "a-long-secret") is member
    with pytest.raises(AuthenticationRequired):
        people.authenticate(member.phone, "wrong-password")
    with pytest.raises(InvalidInput):
        factories.create_member(d["a"], password="short")


def test_pending_member_cannot_log_in(app):
    d = factories.create_district()
    member = factories.create_member(d["a"], status="pending")
    with pytest.raises(DomainError) as error:
        people.authenticate(member.phone, factories.PASSWORD)
    assert error.value.code == "account_not_active"


def test_roles_cover_the_subtree_only(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    admin = factories.create_member(d["street"], roles=("admin",))
    volunteer = factories.create_member(d["building_a"])
    assert access.may(organizer, "units.create", Target(unit=d["building_a"].id))
    assert not access.may(organizer, "units.create", Target(unit=d["b"].id))
    assert not access.may(organizer, "units.create", Target(unit=d["street"].id))
    assert access.may(admin, "units.create", Target(unit=d["building_b"].id))
    assert not access.may(volunteer, "units.create", Target(unit=d["building_a"].id))
    assert access.scope_roots(organizer, "members.view") == [d["a"].id]


def test_dual_report_lists_reported_and_not(app):
    d = factories.create_district()
    reported = factories.create_member(d["building_a"], name="党员甲")
    silent = factories.create_member(d["building_a"], name="党员乙")
    factories.create_member(d["building_a"], name="群众丙")
    people.register_party(
        reported,
        branch="兰州石化第二党支部",
        reported_unit_id=d["a"].id,
        reported_on=date(2024, 3, 5),
    )
    people.register_party(silent, branch="西固区税务局党支部")
    names = lambda rows: [m.name for m in rows]  # noqa: E731
    assert names(people.list_members(d["a"].id, party="reported")) == ["党员甲"]
    assert names(people.list_members(d["a"].id, party="not_reported")) == ["党员乙"]
    assert len(people.list_members(d["a"].id, party="member")) == 2
    with pytest.raises(InvalidInput):
        people.register_party(silent, branch="x", reported_unit_id=d["a"].id, reported_on=None)
    with pytest.raises(InvalidInput):
        people.register_party(
            silent,
            branch="x",
            reported_unit_id=d["a"].id,
            reported_on=date.today() + timedelta(days=30),
        )


def test_join_verify_approve(app, caplog):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    link = people.renew_join_link(d["a"].id, actor=organizer)
    with caplog.at_level(logging.WARNING, logger="timebank.sms"):
        sent = people.start_registration(code=link.code, phone="13912345678", name="新居民")
        db.session.commit()  # the SMS goes out after the commit
    assert sent == {"sent": True, "phone": "139****5678"}
    member = people.find_member_by_phone("13912345678")
    assert member.status == "unverified"
    [record] = [r for r in caplog.records if r.name == "timebank.sms"]
    code = record.getMessage().split("验证码 ")[1][:6]
    with pytest.raises(InvalidInput) as wrong:
        people.verify_phone(
            phone="13912345678",
            code="000000" if code != "000000" else "111111",
            password="resident-pass",
        )
    assert wrong.value.code == "code_invalid"
    people.verify_phone(phone="13912345678", code=code, password="resident-pass")
    assert member.status == "pending"
    other = factories.create_member(d["b"], roles=("organizer",))
    assert not access.may(other, "members.approve", people.member_target(member.id))
    assert access.may(organizer, "members.approve", people.member_target(member.id))
    people.approve_member(member, actor=organizer)
    assert member.status == "active"
    assert ("volunteer", d["a"].id) in {(r.role, r.unit_id) for r in member.roles}


def test_sms_is_not_sent_when_the_transaction_rolls_back(app, caplog):
    d = factories.create_district()
    link = people.renew_join_link(d["a"].id, actor=None)
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="timebank.sms"):
        people.start_registration(code=link.code, phone="13912340000", name="甲")
        db.session.rollback()
    assert not [r for r in caplog.records if r.name == "timebank.sms"]


def test_roster_import_reports_each_rejected_row(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    factories.create_member(d["a"], phone="13600000009")
    csv_text = (
        "姓名,手机号,单位,党支部,报到日期\n"
        "李秀英,13600000001,101号楼,,\n"
        "王强,13600000002,,兰州石化第二党支部,2024-04-01\n"
        "重复,13600000001,,,\n"
        "坏号码,12345,,,\n"
        "已注册,13600000009,,,\n"
        "外区,13600000003,201号楼,,\n"
        "日期错,13600000004,,某支部,2024/13/01\n"
        "未来,13600000005,,某支部,2099-01-01\n"
    )
    rows = people.read_roster("roster.csv", csv_text.encode("utf-8-sig"))
    report = people.import_roster(d["a"].id, rows, actor=organizer)
    assert [c["row"] for c in report.created] == [2, 3]
    assert [r["row"] for r in report.rejected] == [4, 5, 6, 7, 8, 9]
    reasons = {r["row"]: r["reason"] for r in report.rejected}
    assert "twice" in reasons[4]
    assert "11-digit" in reasons[5]
    assert "already registered" in reasons[6]
    assert "No unit 201号楼" in reasons[7]
    assert "date" in reasons[8]
    assert "future" in reasons[9]
    # a rejected row leaves nothing behind, even when it failed after the member was made
    assert people.find_member_by_phone("13600000005") is None
    wang = people.find_member_by_phone("13600000002")
    assert wang.party.reported_unit_id == d["a"].id


def test_roster_import_reads_xlsx(app):
    from io import BytesIO

    from openpyxl import Workbook

    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "phone", "unit"])
    sheet.append(["赵敏", 13600000011, "第1网格"])
    sheet.append(["钱伟", "bad", None])
    buffer = BytesIO()
    workbook.save(buffer)
    rows = people.read_roster("roster.xlsx", buffer.getvalue())
    report = people.import_roster(d["a"].id, rows, actor=organizer)
    assert len(report.created) == 1 and len(report.rejected) == 1
    assert people.find_member_by_phone("13600000011").home_unit_id == d["grid_a"].id
    with pytest.raises(InvalidInput):
        people.read_roster("roster.xlsx", b"not a zip")
    with pytest.raises(InvalidInput):
        people.read_roster("roster.pdf", b"x")


def test_guardian_acts_for_ward(app):
    d = factories.create_district()
    ward = factories.create_member(d["building_a"], password=None, name="老人")
    daughter = factories.create_member(d["building_b"], name="女儿")
    stranger = factories.create_member(d["building_b"])
    people.add_guardian(ward, daughter, relation="女儿", actor=None)
    assert people.guardian_may_act_for(daughter, ward.id) is ward
    with pytest.raises(DomainError) as error:
        people.guardian_may_act_for(stranger, ward.id)
    assert error.value.code == "not_guardian"
    with pytest.raises(InvalidInput):
        people.add_guardian(ward, ward, relation="self", actor=None)


def test_rejecting_a_registration_needs_a_reason(app):
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",))
    pending = factories.create_member(d["a"], status="pending")
    with pytest.raises(InvalidInput):
        people.reject_member(pending, actor=organizer, reason="  ")
    assert pending.status == "pending"
    people.reject_member(pending, actor=organizer, reason="不是本社区居民")
    assert pending.status == "rejected"


def test_count_members_over_several_subtrees_counts_each_once(app):
    d = factories.create_district()
    factories.create_member(d["building_a"], status="pending")
    factories.create_member(d["building_b"], status="pending")
    factories.create_member(d["building_b"])
    assert people.count_members([d["a"].id, d["grid_a"].id], status="pending") == 1
    assert people.count_members([d["a"].id, d["b"].id], status="pending") == 2
    assert people.count_members([d["street"].id]) == 3
    assert people.count_members([]) == 0
