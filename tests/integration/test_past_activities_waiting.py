"""Finding 15 of issue 21: the organizer's list of past activities says which ones have
check-outs to approve or check-ins held, with the same counts as the to-do home; a
volunteer's list says nothing of it."""

from __future__ import annotations

from tests import factories
from tests.todo_factories import todo_scene
from timebank.extensions import db


def test_past_activities_say_what_waits_for_the_organizer(app, client, login):
    scene = todo_scene()
    ended = scene["ended"].id
    login(scene["organizer"])
    upcoming = client.get("/activities").get_data(as_text=True)
    assert 'id="past-waiting"' in upcoming
    past = client.get("/activities?when=past").get_data(as_text=True)
    row = past.split(f'data-activity-id="{ended}"', 1)[1].split("</li>", 1)[0]
    assert 'data-to-approve="1"' in row and 'data-held="1"' in row
    assert "1 条签退待审批" in row and f'href="/activities/{ended}#attendance"' in row
    client.post("/logout")
    volunteer = factories.create_member(scene["d"]["building_a"], name="张志明")
    db.session.commit()
    login(volunteer)
    past = client.get("/activities?when=past").get_data(as_text=True)
    assert "data-waiting" not in past and 'id="past-waiting"' not in past
