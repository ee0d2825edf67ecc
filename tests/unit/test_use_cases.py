"""One use case per action (issue 20): read every writing endpoint's code and check that
it only parses, calls a use case (``@use_case``, core/usecases.py) and renders.

- every page and API endpoint that writes calls a use case;
- none does the glue a use case owns: a lookup of another module's facts
  (``core.names.lookup``, ``access.target_of``), which is where a donation the page
  refused drifted into one the API accepted;
- for every action a page and the API both offer, they call the same use cases and ask
  ``access`` the same questions (save the few each side alone offers, listed below with
  the reason), and the actions reachable from both are counted.

The code is read, not run (``ast``): a call is followed into helpers of the same view
module, and through module-level tables of them (POST /transfers' kinds).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from timebank.core import access
from timebank.core.names import lookup
from timebank.core.usecases import is_use_case

WRITING = ("POST", "PUT", "PATCH", "DELETE")
#: writing endpoints that call no use case, and why
NO_USE_CASE = {
    "people.logout": "ends the page session (a cookie): nothing in the database",
    "activities.scan_code": "turns a typed code into the check-in page's address",
    "ledger_api.DonationPreview": "reads only: whom a donation would reach, before "
    "POST /transfers gives (a POST to keep the phone out of the URL)",
}
#: per action, the use cases only one side offers, and why (checked both ways: an entry
#: that stops being one-sided fails, so the list stays true)
ONE_SIDED = {
    "ledger.donate": {
        "ledger.donate": "pages: the donate page gives after its confirmation; the API "
        "gives with POST /transfers (ledger.transfers) and only previews under ledger.donate"
    },
    "attendance.approve": {
        "activities.close_missing_checkouts": "API: a client closes check-outs early; a "
        "page's approval closes them itself"
    },
    "hour_logs.log": {
        "projects.attach_photo": "API: a phone adds the photo after the log; the page sends "
        "it with the log"
    },
    "me.session": {"people.revoke_token": "API tokens; a page ends its session by logging out"},
    "merchants.approve": {
        "merchants.apply_merchant": "pages: an organizer adds a shop from the unit's page "
        "(merchants.approve); the API does it with POST /merchants and owner_phone"
    },
    "merchants.settle": {
        "merchants.build_statement": "API: one shop's statement rebuilt alone; the page "
        "rebuilds the whole unit's month"
    },
    "site.public": {
        "people.set_locale": "pages: the language of the session",
        "people.issue_token": "API: a login answers a bearer token; a page's sets its session",
    },
}
#: what the glue check looks for
GLUE = {lookup: "core.names.lookup", access.target_of: "access.target_of"}
AUTHORIZE = {access.authorize, access.authorize_anywhere}


@dataclass
class Reading:
    """What one endpoint's code does."""

    use_cases: set[str] = field(default_factory=set)
    glue: set[str] = field(default_factory=set)
    authorizes: set[str] = field(default_factory=set)


def _resolve(node: ast.expr, scope: dict):
    """The object a name or a dotted name refers to in ``scope`` (None if unknown)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in scope:
        return None
    found = scope[node.id]
    for part in reversed(parts):
        if not isinstance(found, types.ModuleType | type):
            return None
        found = getattr(found, part, None)
    return found


def _functions_in(value):
    """Functions a referenced object stands for: itself, or a table of them."""
    if isinstance(value, types.FunctionType):
        return [inspect.unwrap(value)]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        found = []
        for item in value:  # a table's rows may be tuples: (operation, message)
            found += _functions_in(item)
        return found
    return []


def read(function, reading: Reading | None = None, seen: set | None = None) -> Reading:
    reading = reading if reading is not None else Reading()
    seen = seen if seen is not None else set()
    function = inspect.unwrap(function)
    if function in seen:
        return reading
    seen.add(function)
    try:
        [definition] = ast.parse(textwrap.dedent(inspect.getsource(function))).body
    except (OSError, TypeError, ValueError):
        return reading
    # the body only: a decorator's target (``@page(..., target=...)``) is the registry's
    # role check, which the edge makes
    tree = ast.Module(body=definition.body, type_ignores=[])
    scope = function.__globals__
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name | ast.Attribute):
            continue
        for found in _functions_in(_resolve(node, scope)):
            if is_use_case(found):
                reading.use_cases.add(f"{found.__module__}.{found.__qualname__}")
            elif found in GLUE:
                reading.glue.add(GLUE[found])
            elif found in AUTHORIZE:
                continue
            elif found.__module__ == function.__module__ and not hasattr(found, "view_class"):
                read(found, reading, seen)  # a helper of the same view module
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _resolve(node.func, scope) in AUTHORIZE:
            first = node.args[1] if len(node.args) > 1 else None
            name = first.value if isinstance(first, ast.Constant) else "(computed)"
            reading.authorizes.add(name)
    return reading


@dataclass
class Endpoint:
    name: str
    kind: str  #: page or api
    method: str
    action: str
    reading: Reading


def writing_endpoints(app) -> list[Endpoint]:
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(set(rule.methods or ()) & set(WRITING)):
            view_class = getattr(view, "view_class", None)
            if view_class is not None:
                function = getattr(view_class, method.lower(), None)
                kind = "api"
            else:
                function, kind = view, "page"
            if function is None:
                continue
            action = getattr(function, "timebank_action", None) or view.timebank_action
            found.append(Endpoint(rule.endpoint, kind, method, action, read(function)))
    return found


@pytest.fixture(scope="module")
def endpoints(session_app):
    return writing_endpoints(session_app)


def test_every_writing_endpoint_calls_a_use_case(endpoints):
    missing = sorted(
        f"{e.method} {e.name}"
        for e in endpoints
        if not e.reading.use_cases and e.name not in NO_USE_CASE
    )
    assert not missing, f"these only glue, or call no @use_case: {missing}"


def test_no_endpoint_does_the_glue_of_a_use_case(endpoints):
    glued = sorted(f"{e.name}: {sorted(e.reading.glue)}" for e in endpoints if e.reading.glue)
    assert not glued, f"move these lookups into the use case: {glued}"


def _short(name: str) -> str:
    """timebank.ledger.operations.requests.donate -> ledger.donate"""
    parts = name.split(".")
    return f"{parts[1]}.{parts[-1]}"


def _by_action(endpoints, kind):
    use_cases, questions = defaultdict(set), defaultdict(set)
    for e in endpoints:
        if e.kind == kind:
            use_cases[e.action] |= {_short(u) for u in e.reading.use_cases}
            questions[e.action] |= e.reading.authorizes | {e.action}
    return use_cases, questions


def test_a_page_and_the_api_doing_one_thing_call_the_same_use_case(endpoints):
    """For every action both a page and the API offer: the same use cases, asking access
    the same questions. The donation is the first example: page and API both call
    ``ledger.donate``, which owns the recipient's lookup and the pools one may give to."""
    pages, page_questions = _by_action(endpoints, "page")
    apis, api_questions = _by_action(endpoints, "api")
    drift = []
    for action in sorted(pages.keys() & apis.keys()):
        alone = ONE_SIDED.get(action, {})
        only_page = pages[action] - apis[action] - alone.keys()
        only_api = apis[action] - pages[action] - alone.keys()
        if only_page or only_api:
            drift.append(f"{action}: page only {sorted(only_page)}, API only {sorted(only_api)}")
        if page_questions[action] != api_questions[action]:
            drift.append(
                f"{action}: the page asks {sorted(page_questions[action])}, "
                f"the API {sorted(api_questions[action])}"
            )
        for name in alone:
            if (name in pages[action]) == (name in apis[action]):
                drift.append(f"{action}: {name} is listed as one-sided but is not")
    assert not drift, "\n".join(drift)
    assert "ledger.donate" in pages["ledger.donate"] and "ledger.donate" in apis["ledger.transfers"]


def test_count_of_actions_a_page_and_the_api_share(endpoints, capsys):
    """The figure the report gives: use cases reachable from a page and from the API."""
    pages = set().union(*(e.reading.use_cases for e in endpoints if e.kind == "page"))
    apis = set().union(*(e.reading.use_cases for e in endpoints if e.kind == "api"))
    shared = sorted(pages & apis)
    with capsys.disabled():
        print(f"\n{len(shared)} actions reachable from both a page and the API")
    assert len(shared) >= 40, shared
