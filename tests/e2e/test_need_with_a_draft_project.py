"""Finding 13 of issue 21 in Chromium: a resident opens her need, answered by a project
still being prepared; she reads that it is being prepared instead of a link to a page she
may not open. Once published, the title is a link that opens."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.projects_factories import create_project
from timebank.extensions import db
from timebank.projects import operations as projects


def test_a_need_names_its_draft_project_without_a_dead_link(app, district, live_server, browser):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    resident = factories.create_member(district["building_a"], name="王秀英")
    need = projects.file_need(
        resident=resident, filed_by=resident, title="楼道灯坏了", category="facilities",
    )  # fmt: skip
    draft = create_project(district["a"], organizer=organizer, title="楼道灯维修", publish=False)
    projects.accept_need(need, draft, actor=organizer)
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, resident)
    page.goto(f"{live_server}/needs/{need.id}")
    row = page.locator(f"#answering-projects li[data-project-id='{draft.id}']")
    expect(row).to_contain_text("楼道灯维修")
    expect(row).to_contain_text("筹备中")
    expect(row.locator("a")).to_have_count(0)

    projects.change_project_status(draft, "open", actor=organizer)
    db.session.commit()
    page.reload()
    row.locator("a").click()
    page.wait_for_url(f"{live_server}/projects/{draft.id}")
    expect(page.locator("main h1")).to_contain_text("楼道灯维修")
    assert_seen_clean(page)
