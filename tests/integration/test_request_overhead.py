"""What every request pays for and need not: each saving here is guarded by a test, so it
cannot quietly come back (figures in bench/http.py)."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.activities_factories import create_activity
from tests.conftest import ON_POSTGRES
from tests.statements import recorded_statements
from timebank.activities import operations as activities
from timebank.activities.models import Activity
from timebank.activities.schemas import CheckinRequestSchema
from timebank.core.db import get_by_id
from timebank.core.errors import RateLimited
from timebank.core.throttle import ProcessMemoryStorage, Throttle
from timebank.extensions import db, limiter


def test_only_postgresql_connections_are_pinged_before_use(app):
    # a server can drop a pooled connection; a SQLite file cannot
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is ON_POSTGRES
    assert db.engine.pool._pre_ping is ON_POSTGRES


def test_the_limiter_adds_no_hook_to_requests_and_throttles_still_refuse(app):
    hooks = [
        *app.before_request_funcs.get(None, []),
        *app.after_request_funcs.get(None, []),
        *app.teardown_request_funcs.get(None, []),
    ]
    assert not [hook for hook in hooks if "flask_limiter" in repr(hook)]
    throttle = Throttle("test.overhead", "2 per minute")
    throttle.count("k")
    throttle.count("k")
    with pytest.raises(RateLimited):
        throttle.check("k")


def test_take_checks_and_counts_in_one_step_per_limit(app, monkeypatch):
    """A check-in's throttle asks the storage once per limit (a moving window's test and
    count are one operation: with Redis one round trip), counts only what is let through
    by the limit, and refuses with the wait of the limit that is full."""
    throttle = Throttle("test.take", "2 per minute; 3 per hour")
    strategy = limiter.limiter
    asked = []
    for name in ("hit", "test"):
        original = getattr(strategy, name)
        monkeypatch.setattr(
            strategy, name, lambda *a, _o=original, _n=name: asked.append(_n) or _o(*a)
        )
    throttle.take("k")
    assert asked == ["hit", "hit"]
    throttle.take("k")
    with pytest.raises(RateLimited) as refused:
        throttle.take("k")  # the minute's two are taken; the hour counts this third one
    assert 1 <= refused.value.retry_after <= 60
    with pytest.raises(RateLimited) as refused:
        throttle.take("k")  # the hour's three are taken too: its wait is the longer
    assert 60 < refused.value.retry_after <= 3600
    throttle.take("other")  # each key has its own counts


def test_counting_starts_no_thread_and_old_counts_are_dropped(app, monkeypatch):
    storage = limiter.limiter.storage
    assert isinstance(storage, ProcessMemoryStorage)
    assert any(t.name == "throttle-expiry" for t in threading.enumerate())
    started = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda t: started.append(t) or original(t))
    throttle = Throttle("test.expiry", "50 per 1 second")
    for n in range(50):
        throttle.count(f"member-{n}")
    assert started == []  # limits' own memory storage starts a timer thread for a count
    counted = [key for key in storage.events if "test.expiry" in key]
    assert len(counted) == 50 and all(storage.events[key] for key in counted)
    time.sleep(2.5)  # the window passes; the expiry thread runs once a second
    assert not any(storage.events[key] for key in counted)


def test_get_by_id_answers_from_the_session_before_asking_the_database(app, district):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    activity = create_activity(district["a"], organizer=organizer)
    db.session.commit()
    with recorded_statements() as statements:
        assert get_by_id(Activity, activity.id) is activity
        assert statements == []
        db.session.expunge_all()
        loaded = get_by_id(Activity, activity.id)
        assert loaded is not activity and loaded.title == activity.title
        assert len(statements) == 1
        assert get_by_id(Activity, activity.id + 1000) is None


def test_a_request_reuses_its_arguments_schema_and_its_session_signer(
    app, client, district, token_for, monkeypatch
):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    volunteer = factories.create_member(district["building_a"])
    activity = create_activity(
        district["a"], organizer=organizer, starts_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    db.session.commit()
    headers = token_for(volunteer)
    built = []
    original = CheckinRequestSchema.__init__
    monkeypatch.setattr(
        CheckinRequestSchema, "__init__", lambda s, *a, **k: built.append(1) or original(s, *a, **k)
    )
    token = activities.kiosk_token(activity.id, activities.step_of(datetime.now(UTC)))
    response = client.post("/api/v1/checkins", json={"token": token}, headers=headers)
    assert response.status_code == 201, response.json
    assert built == []  # webargs, given the schema class, would build one per request
    sessions = app.session_interface
    assert sessions.get_signing_serializer(app) is sessions.get_signing_serializer(app)
    signer = sessions.get_signing_serializer(app)
    monkeypatch.setattr(app, "secret_key", "another-key-" + "x" * 32)
    assert sessions.get_signing_serializer(app) is not signer  # a new key, a new signer


def test_a_request_that_only_reads_sends_no_begin_or_commit(database_url):
    import sqlalchemy as sa

    from timebank import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "WTF_CSRF_ENABLED": False}
    )

    def in_transaction() -> bool:
        db.session.scalar(sa.text("SELECT 1"))
        raw = db.session.connection().connection.dbapi_connection
        if ON_POSTGRES:
            return raw.info.transaction_status != 0  # 0: idle, outside a transaction
        return raw.in_transaction

    @app.route("/test-only/transaction", methods=["GET", "POST"])
    def transaction_state():
        return {"in_transaction": in_transaction()}

    client = app.test_client()
    # each statement of a GET stands alone (READ COMMITTED sees no more than that)...
    assert client.get("/test-only/transaction").json == {"in_transaction": False}
    # ...and anything that may write is one transaction, as ever
    assert client.post("/test-only/transaction").json == {"in_transaction": True}
    assert client.get("/test-only/transaction").json == {"in_transaction": False}
    with app.app_context():
        if ON_POSTGRES:  # the pool took the connection back as it lent it
            raw = db.engine.raw_connection()
            assert raw.dbapi_connection.autocommit is False
            raw.close()
        db.engine.dispose()


def test_a_bearer_token_request_neither_reads_nor_writes_the_cookie_session(
    client, district, make_member, token_for, login, monkeypatch
):
    from flask.sessions import SecureCookieSessionInterface

    member = make_member(district["a"])
    login(member)  # the client now sends a page session's cookie with every request
    opened = []
    original = SecureCookieSessionInterface.open_session
    monkeypatch.setattr(
        SecureCookieSessionInterface,
        "open_session",
        lambda self, app, request: opened.append(request.path) or original(self, app, request),
    )
    api = client.get("/api/v1/me", headers=token_for(member))
    assert api.status_code == 200 and opened == []
    assert "Set-Cookie" not in api.headers and "Cookie" not in api.headers.get("Vary", "")
    page = client.get("/")  # a page still knows who is logged in by the cookie
    assert page.status_code == 200 and opened == ["/"] and member.name in page.text
