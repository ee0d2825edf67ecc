"""Finding 12 of issue 21 in Chromium: the organizer of 上坎社区 assigns, by name, a
volunteer who lives in another grid of the community than the project's; the project
page says so, and the volunteer sees the assignment waiting for an answer."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.projects_factories import create_project
from timebank.extensions import db


def test_an_organizer_assigns_a_volunteer_of_another_grid_by_name(
    app, district, live_server, browser
):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    grid_2 = factories.create_unit("第2网格", "grid", district["a"])
    building_2 = factories.create_unit("102号楼", "building", grid_2)
    db.session.flush()
    project = create_project(district["grid_a"], organizer=organizer, title="疏通下水管道")
    volunteer = factories.create_member(building_2, name="韩志勇")
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, organizer)
    page.goto(f"{live_server}/projects/{project.id}")
    page.fill("#assign-member", "韩志勇")
    page.click("#assign")
    expect(page.locator(".flash.success")).to_contain_text("韩志勇")

    mine = phone(browser, "zh")
    log_in(mine, live_server, volunteer)
    mine.goto(f"{live_server}/projects/{project.id}")
    expect(mine.locator("#accept-assignment")).to_be_visible()
    assert_seen_clean(page, mine)
