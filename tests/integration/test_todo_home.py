"""The organizer's home lists what waits for them (reminders/todo.py), with counts and a
link to each queue; a volunteer's home has no such list."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.todo_factories import todo_scene
from timebank.extensions import db


@pytest.fixture
def scene(app):
    return todo_scene()


def _counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def test_the_organizers_home_lists_every_queue_with_counts_and_links(scene, client, login):
    login(scene["organizer"])
    page = client.get("/").get_data(as_text=True)
    assert 'id="todo"' in page and "待办事项" in page
    assert _counts(page) == {
        "checkouts": 1, "held": 1, "credits": 1, "hour_logs": 1, "registrations": 1, "shops": 1,
    }  # fmt: skip
    unit = scene["d"]["a"].id
    ended = scene["ended"].id
    for link in (
        f"/activities/{ended}#attendance",
        f"/units/{unit}/pending-credits",
        f"/units/{unit}/hour-logs",
        f"/units/{unit}/members?status=pending",
        f"/units/{unit}/merchants",
    ):
        assert f'href="{link}"' in page, link
    # each link opens a page the organizer may see
    for link in re.findall(r'<li data-queue="\w+">.*?href="([^"#]+)', page, re.S):
        assert client.get(link).status_code == 200, link
    # what the organizer asked for is not theirs to decide: it waits for the second one
    assert "待第二位组织者审批的奖励" in page


def test_an_organizer_with_nothing_waiting_is_told_so_and_a_volunteer_sees_no_list(
    scene, client, login
):
    login(scene["other"])
    page = client.get("/").get_data(as_text=True)
    assert 'id="todo-empty"' in page and "没有待办事项" in page and "data-count" not in page
    client.post("/logout")
    volunteer = factories.create_member(scene["d"]["building_a"], name="张志明")
    db.session.commit()
    login(volunteer)
    assert 'id="todo"' not in client.get("/").get_data(as_text=True)
