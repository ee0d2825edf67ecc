"""Every field a person fills on the main pages has a name a screen reader reads out: a
<label> around it or pointing at it (for=), or an aria-label / aria-labelledby (issue 11,
accessibility basics). Hidden fields and buttons need none."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest

from tests.activities_factories import check_in, create_activity, earn
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people

UNNAMED = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    """The form controls of a page, each with whether something names it."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.open_labels = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and (attrs.get("type") or "text").lower() in UNNAMED:
                return
            self.controls.append(dict(attrs, tag=tag, in_label=self.open_labels > 0))

    def handle_endtag(self, tag):
        if tag == "label" and self.open_labels:
            self.open_labels -= 1

    def unnamed(self) -> list[dict]:
        def named(c):
            labelledby = c.get("aria-labelledby", "").split()
            return (
                c["in_label"]
                or (c.get("id") and c["id"] in self.label_for)
                or (c.get("aria-label") or "").strip()
                or (labelledby and all(i in self.ids for i in labelledby))
            )

        return [c for c in self.controls if not named(c)]


def unnamed_controls(html: str) -> list[dict]:
    parser = Controls()
    parser.feed(html)
    return parser.unnamed()


def test_the_parser_finds_an_unnamed_field():
    page = """<form><label>名字 <input name=a></label><label for=b>电话</label><input id=b name=b>
      <input name=c aria-label="搜索"><input type=hidden name=d><button type=submit>好</button>
      <select name=e></select><textarea id=f aria-labelledby=nowhere></textarea></form>"""
    assert [c["name"] for c in unnamed_controls(page) if "name" in c] == ["e"]
    assert [c["tag"] for c in unnamed_controls(page)] == ["select", "textarea"]


@pytest.fixture
def scene(app, district, make_member):
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"])
    make_member(district["building_a"], status="pending")
    admin = make_member(district["street"], roles=("admin",))
    guardian = make_member(district["building_a"])
    people.add_guardian(volunteer, guardian, relation="女儿", actor=None)
    earn(volunteer, district["a"], organizer, title="四点半课堂", minutes=60, points=10,
         at=utcnow() - timedelta(days=2))  # fmt: skip
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=utcnow() + timedelta(days=1)
    )
    link = people.renew_join_link(district["a"].id, actor=organizer)
    check_in(volunteer, activity, at=utcnow())
    db.session.commit()
    return {
        "organizer": organizer, "volunteer": volunteer, "admin": admin, "guardian": guardian,
        "activity": activity.id, "unit": district["a"].id, "join": link.code,
    }  # fmt: skip


def pages_of(scene) -> dict[str, list[str]]:
    """Who opens which pages: each person's main forms."""
    unit, activity, volunteer = scene["unit"], scene["activity"], scene["volunteer"].id
    return {
        "nobody": ["/login", "/login/code", "/login/code?reset=1", f"/join/{scene['join']}",
                   "/join/verify?phone=13700000000"],
        "volunteer": ["/", "/activities", f"/activities/{activity}", "/me/statement",
                      "/me/activities", "/me/security", "/me/donate", "/scan", "/me/redeem",
                      "/offers", "/projects", "/needs", "/resources", "/me/hour-logs"],
        "guardian": ["/", f"/me/donate?for={volunteer}", f"/activities?for={volunteer}"],
        "organizer": ["/", "/activities/new", f"/activities/{activity}",
                      f"/activities/{activity}/edit", f"/units/{unit}/members",
                      f"/members/{volunteer}", f"/members/{volunteer}/award",
                      f"/units/{unit}/pending-credits", f"/units/{unit}", "/units",
                      f"/units/{unit}/poster", f"/units/{unit}/merchants"],
        "admin": ["/", "/ledger/integrity", "/admin/jobs"],
    }  # fmt: skip


def test_every_field_of_the_main_pages_has_a_label(app, scene):
    unnamed = []
    for who, paths in pages_of(scene).items():
        client = app.test_client()
        if who != "nobody":
            from tests import factories

            login = {"phone": scene[who].phone, "password": factories.PASSWORD}
            assert client.post("/login", data=login).status_code == 302
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            unnamed += [
                (who, path, c["tag"], c.get("name"))
                for c in unnamed_controls(response.get_data(as_text=True))
            ]
    assert unnamed == []
