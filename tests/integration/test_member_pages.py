"""Members' pages through the test client: the list says its filter and pages, a member's
record (correct, suspend, reinstate, move, roles, guardians, dual report), joining with a
building, the home page's balance and ward actions, and the top bar."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from timebank.core.audit import AuditEvent
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.models import Guardianship


def test_list_names_its_filter_searches_and_pages(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    waiting = make_member(district["building_a"], name="待审居民", status="pending")
    for n in range(55):
        factories.create_member(district["grid_a"], name=f"居民{n:02d}")
    db.session.commit()
    login(organizer)
    client.post("/lang/en")
    url = f"/units/{district['a'].id}/members"
    approved = client.post(f"/members/{waiting.id}/approve", data={"unit": str(district["a"].id)})
    # nobody else waits: back to the whole list, not to an empty filtered one
    assert approved.headers["Location"].endswith(url)
    filtered = client.get(f"{url}?status=pending").get_data(as_text=True)
    assert "Members with status “pending” (0)" in filtered and 'id="clear-filter"' in filtered
    everyone = client.get(url).get_data(as_text=True)
    assert "All members (57)" in everyone and "Page 1 of 2" in everyone
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and "居民54" in second
    found = client.get(f"{url}?q=居民07").get_data(as_text=True)
    assert "matching “居民07” (1)" in found and "居民08" not in found
    by_phone = client.get(f"{url}?q={waiting.phone}").get_data(as_text=True)
    assert "待审居民" in by_phone and "(1)" in by_phone


def test_member_record_edit_suspend_reinstate_move(client, district, make_member, login):
    organizer = make_member(district["street"], roles=("organizer",))
    alice = make_member(district["building_a"], name="王秀英")
    login(organizer)
    client.post("/lang/en")
    page = client.get(f"/members/{alice.id}").get_data(as_text=True)
    assert "Correct the record" in page and "Request an award" in page and "Give a role" in page
    client.post(
        f"/members/{alice.id}/edit",
        data={"e-name": "王秀英", "e-phone": "13912345678", "e-has_smartphone": ""},
    )
    db.session.expire_all()
    alice = people.get_member(alice.id)
    assert alice.phone == "13912345678" and alice.has_smartphone is False
    refused = client.post(f"/members/{alice.id}/suspend", data={"s-reason": ""})
    assert refused.status_code == 302
    client.post(f"/members/{alice.id}/suspend", data={"s-reason": "冒用他人身份"})
    db.session.expire_all()
    assert people.get_member(alice.id).status == "suspended"
    assert "Reinstate" in client.get(f"/members/{alice.id}").get_data(as_text=True)
    client.post(f"/members/{alice.id}/reinstate")
    client.post(f"/members/{alice.id}/move", data={"mv-unit_id": str(district["building_b"].id)})
    db.session.expire_all()
    alice = people.get_member(alice.id)
    assert alice.status == "active" and alice.home_unit_id == district["building_b"].id
    moves = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "member.move"))
    [move] = list(moves)
    assert move.actor_id == organizer.id and move.target == f"unit:{district['building_b'].id}"
    assert str(district["building_a"].id) in move.before


def test_move_needs_both_homes_in_scope(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    alice = make_member(district["building_a"])
    login(organizer)
    client.post("/lang/en")
    answer = client.post(
        f"/members/{alice.id}/move", data={"mv-unit_id": str(district["building_b"].id)}
    )
    assert answer.status_code == 302
    assert "You do not have permission" in client.get(f"/members/{alice.id}").get_data(as_text=True)
    assert people.get_member(alice.id).home_unit_id == district["building_a"].id


def test_roles_guardian_and_dual_report_from_the_page(client, district, make_member, login):
    organizer = make_member(district["a"], roles=("organizer",))
    second = make_member(district["a"], roles=("organizer",))
    grandma = make_member(district["building_a"], name="张奶奶", has_smartphone=False)
    daughter = make_member(district["building_b"], name="张女儿")
    login(organizer)
    client.post("/lang/en")
    client.post(
        f"/members/{daughter.id}/role",
        data={"r-role": "volunteer", "r-unit_id": str(district["grid_a"].id)},
    )
    client.post(
        f"/members/{daughter.id}/role",
        data={"r-role": "organizer", "r-unit_id": str(district["grid_a"].id)},
    )  # only admins grant other roles: refused
    client.post(
        f"/members/{grandma.id}/guardian", data={"g-phone": daughter.phone, "g-relation": "女儿"}
    )
    row = db.session.scalar(sa.select(Guardianship))
    assert row.status == "pending"
    page = client.get(f"/members/{grandma.id}").get_data(as_text=True)
    assert "A second organizer confirms it here." in page  # not the one who asked
    neighbour = make_member(district["building_a"], name="党员邻居")
    client.post(
        f"/members/{neighbour.id}/party",
        data={
            "p-branch": "兰州石化公司第二党支部",
            "p-reported_unit_id": str(district["a"].id),
            "p-reported_on": "2026-03-01",
        },
    )
    db.session.expire_all()
    assert people.get_member(neighbour.id).party.reported_unit_id == district["a"].id
    client.post("/logout")
    login(second)
    client.post("/lang/en")
    assert "Confirm" in client.get(f"/members/{grandma.id}").get_data(as_text=True)
    confirmed = client.post(f"/members/{grandma.id}/guardians/{daughter.id}/confirm")
    assert confirmed.headers["Location"].endswith(f"/members/{grandma.id}")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Guardianship)).status == "active"
    roles = {(r.role, r.unit_id) for r in people.get_member(daughter.id).roles}
    assert ("volunteer", district["grid_a"].id) in roles and (
        "organizer",
        district["grid_a"].id,
    ) not in roles


def test_home_shows_balance_scan_and_acting_for_each_ward(client, district, make_member, login):
    grandma = make_member(district["building_a"], name="张奶奶", has_smartphone=False)
    daughter = make_member(district["building_b"], name="张女儿")
    people.add_guardian(grandma, daughter, relation="女儿", actor=None)  # system: active
    db.session.commit()
    login(daughter)
    client.post("/lang/en")
    home = client.get("/").get_data(as_text=True)
    assert 'id="scan-button"' in home and "0 min" in home and "0 points" in home
    assert "Show their badge" in home and f"/me/badge?for={grandma.id}" in home
    badge = client.get(f"/me/badge?for={grandma.id}").get_data(as_text=True)
    assert "张奶奶" in badge and "You are showing the badge of 张奶奶." in badge
    mine = client.get(f"/me/activities?for={grandma.id}").get_data(as_text=True)
    assert "You are acting for 张奶奶." in mine
    statement = client.get(f"/me/statement?for={grandma.id}").get_data(as_text=True)
    assert "You are acting for 张奶奶." in statement and f"/me/donate?for={grandma.id}" in statement
    # a volunteer sees no grid tree link; an organizer does
    assert 'data-nav="units"' not in home
    client.post("/logout")
    login(make_member(district["a"], roles=("organizer",)))
    assert 'data-nav="units"' in client.get("/").get_data(as_text=True)


def test_joining_asks_for_the_building(client, district, make_member):
    link = people.renew_join_link(district["a"].id, actor=None)
    db.session.commit()
    page = client.get(f"/join/{link.code}").get_data(as_text=True)
    assert "101号楼" in page and "201号楼" not in page
    answer = client.post(
        f"/join/{link.code}",
        data={
            "name": "新居民",
            "phone": "13811112222",
            "unit_id": str(district["building_a"].id),
        },
    )
    assert answer.status_code == 302
    member = people.find_member_by_phone("13811112222")
    assert member.home_unit_id == district["building_a"].id
    elsewhere = client.post(
        f"/join/{link.code}",
        data={
            "name": "外来者",
            "phone": "13811113333",
            "unit_id": str(district["building_b"].id),
        },
    )
    assert elsewhere.status_code == 200 and people.find_member_by_phone("13811113333") is None


def test_the_api_keeps_the_trees_shape_and_joins_a_building(client, district, make_member,
                                                           token_for):  # fmt: skip
    admin = make_member(district["street"], roles=("admin",))
    wrong = client.post(
        "/api/v1/units",
        headers=token_for(admin),
        json={"name": "错位街道", "kind": "street", "parent_id": district["grid_a"].id},
    )
    assert wrong.status_code == 422 and wrong.json["code"] == "unit_kind_not_allowed"
    link = people.renew_join_link(district["a"].id, actor=None)
    db.session.commit()
    joined = client.post(
        "/api/v1/join",
        json={
            "code": link.code, "phone": "13822223333", "name": "楼里的人",
            "unit_id": district["building_a"].id,
        },
    )  # fmt: skip
    assert joined.status_code == 202, joined.json
    assert people.find_member_by_phone("13822223333").home_unit_id == district["building_a"].id


def test_the_unit_form_offers_only_the_kinds_that_fit(client, district, make_member, login):
    login(make_member(district["street"], roles=("organizer",)))
    client.post("/lang/en")
    street = client.get(f"/units/{district['street'].id}").get_data(as_text=True)
    assert '<option selected value="community">' in street and 'value="building"' not in street
    grid = client.get(f"/units/{district['grid_a'].id}").get_data(as_text=True)
    assert '<option selected value="building">' in grid and 'value="street"' not in grid


def test_a_guardian_signs_a_ward_up_from_the_activity(client, district, make_member, login):
    from datetime import UTC, datetime, timedelta

    from tests.activities_factories import create_activity
    from timebank.activities import operations as activities

    grandma = make_member(district["building_a"], name="张奶奶", has_smartphone=False)
    daughter = make_member(district["building_b"], name="张女儿")
    stranger = make_member(district["building_b"])
    people.add_guardian(grandma, daughter, relation="女儿", actor=None)
    activity = create_activity(district["a"], title="重阳节茶话会",
                               starts_at=datetime.now(UTC) + timedelta(days=3))  # fmt: skip
    db.session.commit()
    login(daughter)
    client.post("/lang/en")
    listing = client.get(f"/activities?for={grandma.id}").get_data(as_text=True)
    assert "You are acting for 张奶奶" in listing and f"/activities/{activity.id}?for=" in listing
    detail = client.get(f"/activities/{activity.id}?for={grandma.id}").get_data(as_text=True)
    assert f"/activities/{activity.id}/signup?for={grandma.id}" in detail
    done = client.post(f"/activities/{activity.id}/signup?for={grandma.id}")
    assert done.headers["Location"].endswith(f"?for={grandma.id}")
    assert activities.get_signup(activity.id, grandma.id).status == "signed_up"
    assert activities.get_signup(activity.id, daughter.id) is None
    client.post("/logout")
    login(stranger)
    assert client.get(f"/activities/{activity.id}?for={grandma.id}").status_code == 403
