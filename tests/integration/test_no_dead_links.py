"""Finding 13 of issue 21, fixed as a class: no page links anyone to a page they may not
open. A volunteer and a shop owner open their main pages, including a need answered by a
draft project, and follow every link on them: none answers 403 or 404."""

from __future__ import annotations

import pytest

from tests import factories
from tests.crawl import links
from tests.merchants_factories import create_merchant, create_offer
from tests.projects_factories import create_project
from timebank.extensions import db
from timebank.projects import operations as projects


@pytest.fixture
def scene(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    resident = factories.create_member(district["building_a"], name="王秀英")
    need = projects.file_need(
        resident=resident, filed_by=resident, title="楼道灯坏了", category="facilities",
        description="三单元二楼楼道灯不亮",
    )  # fmt: skip
    draft = create_project(district["a"], organizer=organizer, title="楼道灯维修", publish=False)
    projects.accept_need(need, draft, actor=organizer)
    shop = create_merchant(district["a"], organizer=organizer, name="老王肉菜店")
    create_offer(shop)
    db.session.commit()
    return {"volunteer": resident, "owner": shop.owner, "need": need, "draft": draft,
            "shop": shop}  # fmt: skip


@pytest.mark.parametrize("who", ["volunteer", "owner"])
def test_every_link_on_the_main_pages_opens(app, scene, who):
    client = app.test_client()
    member = scene[who]
    assert (
        client.post(
            "/login", data={"phone": member.phone, "password": factories.PASSWORD}
        ).status_code
        == 302
    )
    pages = [
        "/",
        "/needs",
        f"/needs/{scene['need'].id}",
        "/projects",
        "/resources",
        "/activities",
        "/offers",
        "/me/redeem",
        f"/merchants/{scene['shop'].id}/profile",
    ]
    seen, dead = set(), []
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        for link in links(response.get_data(as_text=True)) - seen:
            seen.add(link)
            status = client.get(link).status_code
            if status in (403, 404) or status >= 500:
                dead.append((path, link, status))
    assert len(seen) > 20
    assert dead == []
    page = client.get(f"/needs/{scene['need'].id}").get_data(as_text=True)
    assert "楼道灯维修" in page and "筹备中" in page
    assert f"/projects/{scene['draft'].id}" not in page
