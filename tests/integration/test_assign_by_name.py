"""Finding 12 of issue 21: an organizer assigns a volunteer by name as surely as by phone:
a resident of another grid of the same community is found by name too; two of the same
name ask for the phone; someone outside the organizer's communities is not found."""

from __future__ import annotations

import pytest

from tests import factories
from tests.projects_factories import create_project
from timebank.extensions import db
from timebank.projects.models import Claim
from timebank.units import operations as units


@pytest.fixture
def scene(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    grid_2 = factories.create_unit("第2网格", "grid", district["a"])
    building_2 = factories.create_unit("102号楼", "building", grid_2)
    db.session.flush()
    # the project is the first grid's; the volunteer lives in the second grid
    project = create_project(district["grid_a"], organizer=organizer, title="疏通下水管道")
    volunteer = factories.create_member(building_2, name="韩志勇")
    stranger = factories.create_member(district["building_b"], name="马永红")
    db.session.commit()
    assert not units.is_within(volunteer.home_unit_id, project.unit_id)
    return {"organizer": organizer, "project": project, "volunteer": volunteer,
            "stranger": stranger, "building_2": building_2}  # fmt: skip


def _assign(client, project, text):
    return client.post(
        f"/projects/{project.id}/assign", data={"member": text}, follow_redirects=True
    ).get_data(as_text=True)


def test_a_resident_of_another_grid_is_assigned_by_name(scene, client, login):
    login(scene["organizer"])
    page = _assign(client, scene["project"], " 韩志勇 ")
    assert "韩志勇" in page and "flash success" in page
    claim = db.session.query(Claim).filter_by(member_id=scene["volunteer"].id).one()
    assert (claim.kind, claim.status) == ("assignment", "pending")


def test_two_of_one_name_ask_for_the_phone_and_a_stranger_is_not_found(scene, client, login):
    factories.create_member(scene["building_2"], name="韩志勇")
    db.session.commit()
    login(scene["organizer"])
    assert "不止一位，请输入手机号" in _assign(client, scene["project"], "韩志勇")
    # 古浪路社区 is not the organizer's: the name finds nobody there
    refused = _assign(client, scene["project"], "马永红")
    assert "马永红" in refused and db.session.query(Claim).count() == 0
