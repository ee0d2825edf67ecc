"""The edge contract: every endpoint declares its action, pages and the API answer alike,
safe requests never write, and on SQLite a reader runs beside a writer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.activities_factories import create_activity
from tests.conftest import ON_POSTGRES
from tests.projects_factories import create_project, file_need
from timebank import create_app
from timebank.activities import operations as activities
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.models import Member

#: endpoints that Flask and flask-smorest provide, not ours: static files, the API docs
FRAMEWORK_ENDPOINTS = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"}


def test_every_endpoint_declares_its_action(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            if getattr(handler, "timebank_action", None) is None:
                undeclared.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not undeclared, f"declare an action (core/access.py) for: {undeclared}"


def _answer(response, *, page: bool) -> int | str:
    """What a person or a program is told, in one vocabulary: 'ok', 401, 403, 404, 409."""
    status = response.status_code
    if page and status == 302 and "/login" in response.headers["Location"]:
        return 401
    if 200 <= status < 300:
        return "ok"
    return status


def test_pages_and_the_api_give_the_same_answer(app, district, make_member):
    organizer_a = make_member(district["a"], roles=("organizer",))
    callers = {
        "anonymous": None,
        "volunteer": make_member(district["building_a"]),
        "organizer_other": make_member(district["b"], roles=("organizer",)),
        "organizer": organizer_a,
        "admin": make_member(district["street"], roles=("admin",)),
    }
    start = datetime.now(UTC) - timedelta(minutes=5)
    activity = create_activity(district["a"], organizer=organizer_a, starts_at=start)
    cancelled = create_activity(district["a"], organizer=organizer_a, starts_at=start)
    activities.cancel_activity(cancelled, actor=organizer_a, reason="下雨")
    need = file_need(callers["volunteer"])
    project = create_project(district["a"], organizer=organizer_a)
    draft = create_project(district["a"], organizer=organizer_a, publish=False)
    db.session.commit()
    a, b = district["a"].id, district["b"].id
    pairs = [
        (f"/needs/{need.id}", f"/api/v1/needs/{need.id}"),
        (f"/projects/{project.id}", f"/api/v1/projects/{project.id}"),
        (f"/projects/{draft.id}", f"/api/v1/projects/{draft.id}"),
        ("/projects/2147483647", "/api/v1/projects/2147483647"),
        (f"/units/{a}/hour-logs", f"/api/v1/units/{a}/hour-logs"),
        ("/me/projects", "/api/v1/me/projects"),
        (f"/activities/{activity.id}", f"/api/v1/activities/{activity.id}"),
        (f"/activities/{activity.id}/kiosk", f"/api/v1/activities/{activity.id}/qr"),
        (f"/activities/{cancelled.id}/kiosk", f"/api/v1/activities/{cancelled.id}/qr"),
        ("/activities/2147483647", "/api/v1/activities/2147483647"),
        ("/units", "/api/v1/units"),
        (f"/units/{a}", f"/api/v1/units/{a}"),
        (f"/units/{b}", f"/api/v1/units/{b}"),
        (f"/units/{a}/members", f"/api/v1/units/{a}/members"),
        (f"/units/{a}/party-attendance", f"/api/v1/units/{a}/party-attendance"),
        (f"/units/{a}/pending-credits", f"/api/v1/pending-credits?unit_id={a}"),
        ("/me/statement", "/api/v1/me/transfers"),
        ("/me/badge", "/api/v1/me/badge"),
        ("/inbox", "/api/v1/me/notifications"),
    ]
    differences = []
    for name, member in callers.items():
        browser, program = app.test_client(), app.test_client()
        headers = {}
        if member is not None:
            sent = browser.post(
                "/login", data={"phone": member.phone, "password": factories.PASSWORD}
            )
            assert sent.status_code == 302
            token, _row = people.issue_token(member)
            db.session.commit()
            headers = {"Authorization": f"Bearer {token}"}
        for page_url, api_url in pairs:
            page = _answer(browser.get(page_url), page=True)
            api = _answer(program.get(api_url, headers=headers), page=False)
            if page != api:
                differences.append(f"{name}: {page_url} -> {page}, {api_url} -> {api}")
    assert not differences, "\n".join(differences)


def test_a_safe_request_never_writes(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})

    @app.get("/test-only/write-in-a-get")
    def write_in_a_get():
        db.session.add(Member(phone="13711112222", name="x", home_unit_id=1))
        db.session.flush()
        return "written"

    response = app.test_client().get("/test-only/write-in-a-get")
    assert response.status_code == 500
    with app.app_context():
        written = db.session.scalar(sa.select(Member.id).where(Member.phone == "13711112222"))
        db.engine.dispose()
    assert written is None


@pytest.mark.concurrent
@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL readers never wait for writers")
def test_on_sqlite_a_get_runs_while_another_request_holds_the_write_lock(
    app, district, make_member, token_for
):
    """A writer holds SQLite's write lock (BEGIN IMMEDIATE, uncommitted); a GET in another
    thread reads in a deferred transaction and finishes before the writer lets go."""
    member = make_member(district["building_a"])
    headers = token_for(member)
    db.session.commit()
    holding, answered = threading.Event(), threading.Event()
    result = {}

    def writer():
        with app.app_context():
            factories.create_member(district["building_a"])  # BEGIN IMMEDIATE, then a write
            db.session.flush()
            holding.set()
            result["reader_finished_first"] = answered.wait(timeout=10)
            db.session.commit()
            db.session.remove()

    def reader():
        holding.wait(timeout=10)
        response = app.test_client().get("/api/v1/me/balances", headers=headers)
        result["status"] = response.status_code
        answered.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert result == {"reader_finished_first": True, "status": 200}
