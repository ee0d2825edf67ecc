"""A request reads each member's roles and guardianships once (people/auth.py
``grants_of``), and what it writes to them is seen at once: the memo is dropped by a flush
that touches them, by a bulk statement that says so, and by a rollback."""

from flask import g

from tests import factories, merchants_factories
from tests.statements import recorded_statements
from timebank.core import access
from timebank.core.access import Target
from timebank.core.privacy import shown_name
from timebank.extensions import db
from timebank.merchants import operations as merchants
from timebank.people import operations as people


def test_a_list_of_members_asks_for_the_caller_s_grants_once(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    residents = [factories.create_member(district["building_a"]) for _ in range(6)]
    db.session.commit()
    with app.test_request_context("/"):
        g.actor = organizer
        with recorded_statements() as statements:
            assert [shown_name(m) for m in residents] == [m.name for m in residents]
        # the organizer's roles and wards, and the line above the residents' building: not
        # one roles query and one guardianship query per resident, as before
        assert len(statements) == 2
        with recorded_statements() as statements:
            assert [shown_name(m) for m in residents] == [m.name for m in residents]
        assert statements == []


def test_staff_see_masked_names_and_ask_once_a_customer(app, district):
    shop = merchants_factories.create_merchant(district["a"])
    residents = [factories.create_member(district["building_a"]) for _ in range(3)]
    db.session.commit()
    with app.test_request_context("/"):
        g.actor = people.get_member(shop.owner_id)
        with recorded_statements() as statements:
            shown = [shown_name(m) for m in residents]
        assert shown == [m.name[0] + "*" * (len(m.name) - 1) for m in residents]
        # the owner's grants (no organizer role: no unit line needed), then each resident's
        # own roles (an organizer acts in public, unmasked)
        assert len(statements) == 1 + len(residents)


def test_a_role_granted_in_the_request_counts_at_once(app, district):
    volunteer = factories.create_member(district["building_a"])
    db.session.commit()
    target = Target(unit=district["building_a"].id)
    with app.test_request_context("/", method="POST"):
        assert not access.may(volunteer, "members.manage", target)
        people.grant_role(volunteer, "organizer", district["a"].id)  # flushed
        assert access.may(volunteer, "members.manage", target)
        assert access.is_official(volunteer)
        db.session.rollback()  # the grant is gone, and so is what the request read
        assert not access.may(volunteer, "members.manage", target)
        assert not access.is_official(volunteer)


def test_a_guardianship_confirmed_in_the_request_counts_at_once(app, district):
    ward = factories.create_member(district["building_a"], has_smartphone=False)
    guardian = factories.create_member(district["building_a"])
    organizer = factories.create_member(district["a"], roles=("organizer",))
    second = factories.create_member(district["a"], roles=("organizer",))
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        row = people.add_guardian(ward, guardian, relation="女儿", actor=organizer)
        assert access.wards_of(guardian) == []
        assert not access.may(guardian, "me.ledger", Target(member=ward.id))
        people.decide_guardianship(row, confirm=True, actor=second)
        assert access.wards_of(guardian) == [ward.id]
        assert access.may(guardian, "me.ledger", Target(member=ward.id))


def test_staff_removed_with_a_bulk_delete_lose_the_shop_at_once(app, district):
    shop = merchants_factories.create_merchant(district["a"])
    owner = people.get_member(shop.owner_id)
    clerk = factories.create_member(district["building_a"])
    db.session.commit()
    target = Target(merchant=shop.id)
    with app.test_request_context("/", method="POST"):
        merchants_factories.make_staff(shop, clerk)
        assert access.may(clerk, "redemptions.counter", target)
        merchants.remove_staff(shop, member_id=clerk.id, actor=owner)  # DELETE ... WHERE
        assert not access.may(clerk, "redemptions.counter", target)


def test_outside_a_request_every_question_asks_the_database(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    db.session.commit()
    target = Target(unit=district["building_a"].id)
    assert access.request_memo() is None  # the CLI and jobs: nothing is remembered
    with recorded_statements() as statements:
        assert access.may(organizer, "members.manage", target)
        assert access.may(organizer, "members.manage", target)
    assert len(statements) == 4  # grants and the unit's line, each time


def test_each_request_reads_afresh(app, client, district, token_for):
    # one app context (and so one g) may serve many requests in tests: the memo is the
    # request's own
    organizer = factories.create_member(district["a"], roles=("organizer",))
    volunteer = factories.create_member(district["building_a"])
    db.session.commit()
    headers = token_for(volunteer)
    url = f"/api/v1/units/{district['a'].id}/members"
    assert client.get(url, headers=headers).status_code == 403
    people.grant_role(volunteer, "organizer", district["a"].id, granted_by=organizer)
    db.session.commit()
    assert client.get(url, headers=headers).status_code == 200
