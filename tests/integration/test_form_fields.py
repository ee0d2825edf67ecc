"""Every field of every form says honestly whether it must be filled (issue 21, finding 9):
an optional field never renders ``required`` (the browser would demand it, as it demanded
a shop's latitude marked 可选), a required one does, and no attribute renders the word
"None". Checked three ways: every field of every Form class rendered on its own; the pages
that show forms, as their users see them; and the templates, which may pass ``required``
only as a literal ``true`` or a condition, never a value that may be None."""

from __future__ import annotations

import importlib
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from wtforms import SelectFieldBase
from wtforms.validators import DataRequired, InputRequired

import timebank
from tests import factories
from tests.merchants_factories import create_merchant
from timebank.core.web import Form
from timebank.extensions import db

SKIPPED_TYPES = {"CSRFTokenField", "HiddenField", "SubmitField"}


def all_form_classes() -> list[type[Form]]:
    for module in pkgutil.walk_packages(timebank.__path__, "timebank."):
        importlib.import_module(module.name)
    found, stack = [], [Form]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            stack.append(sub)
    return sorted(set(found), key=lambda c: (c.__module__, c.__qualname__))


def is_required(field) -> bool:
    return any(isinstance(v, DataRequired | InputRequired) for v in field.validators)


def fields_of(form_class):
    form = form_class(formdata=None)
    for field in form:
        if field.type in SKIPPED_TYPES:
            continue
        if isinstance(field, SelectFieldBase) and getattr(field, "choices", ()) is None:
            field.choices = []  # set by the view before it renders
        yield field


def test_every_field_of_every_form_renders_required_only_when_it_is(app):
    classes = all_form_classes()
    assert len(classes) >= 40  # the test must see the forms, or it proves nothing
    wrong = []
    optional_seen = 0
    with app.test_request_context("/"):
        for form_class in classes:
            for field in fields_of(form_class):
                html = str(field())
                rendered = re.search(r"\srequired(?:[\s>=/]|$)", html) is not None
                optional_seen += not is_required(field)
                if '="None"' in html or rendered != is_required(field):
                    wrong.append((form_class.__qualname__, field.name, html[:120]))
    assert wrong == []
    assert optional_seen >= 30


# ---------------------------------------------------------------- the pages


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "select", "textarea"):
            self.controls.append(dict(attrs, tag=tag))


def controls(html: str) -> list[dict]:
    parser = Controls()
    parser.feed(html)
    return parser.controls


def optional_only_names() -> set[str]:
    """Field names that are optional in every form that has them."""
    required, optional = set(), set()
    for form_class in all_form_classes():
        form = form_class(formdata=None)
        for field in form:
            (required if is_required(field) else optional).add(field.name)
    return optional - required


@pytest.fixture
def shop_scene(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    merchant = create_merchant(district["a"], organizer=organizer)
    member = factories.create_member(district["building_a"], name="王秀英")
    db.session.commit()
    return {
        "organizer": organizer, "owner": merchant.owner, "member": member,
        "merchant": merchant.id, "unit": district["a"].id,
    }  # fmt: skip


def test_the_shop_forms_demand_only_what_they_need(app, shop_scene):
    """The four shop forms of the finding, and the pages around them."""
    merchant, unit = shop_scene["merchant"], shop_scene["unit"]
    pages = {
        "member": ["/merchants/apply", "/offers", "/me/redeem", "/"],
        "owner": [f"/merchants/{merchant}", f"/merchants/{merchant}/edit",
                  f"/merchants/{merchant}/counter"],
        "organizer": [f"/units/{unit}/merchants", f"/units/{unit}/offers",
                      f"/units/{unit}/settlement", "/"],
    }  # fmt: skip
    optional = optional_only_names()
    assert {"lat", "lng", "discount_yuan", "percent_off", "cap_yuan", "item_name"} <= optional
    wrong, seen = [], 0
    with app.app_context():
        for who, paths in pages.items():
            with app.test_client() as client:
                login = {"phone": shop_scene[who].phone, "password": factories.PASSWORD}
                assert client.post("/login", data=login).status_code == 302
                for path in paths:
                    response = client.get(path)
                    assert response.status_code == 200, (who, path)
                    for c in controls(response.get_data(as_text=True)):
                        seen += 1
                        value = c.get("required", "absent")
                        if value in ("None", "False", "false") or (
                            value != "absent" and c.get("name") in optional
                        ):
                            wrong.append((who, path, c.get("name"), value))
    assert seen > 40
    assert wrong == []


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
#: required= given a value that is not a literal true or a condition known to be a bool
PASSED_ON = re.compile(r"required=(?!true\b|not locked\b|reset\b)([\w.]+)")


def test_no_template_passes_a_value_that_may_be_none_as_required():
    offences = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in PASSED_ON.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offences == []
