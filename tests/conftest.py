"""Fixtures: one app per pytest worker, and a cheap reset of its database before each test.

TIMEBANK_TEST_DATABASE_URL chooses the database; unset, the suite runs on SQLite. The
schema is migrated once per run into a template (by the controlling process, before any
worker starts), and each worker (pytest-xdist's ``gw0``, ``gw1``, or ``master`` without
it) gets a database of its own made from it:

- SQLite: before each test the template file is copied over the worker's file.
- PostgreSQL: ``CREATE DATABASE <db>_<worker> TEMPLATE <db>_template``; each test runs
  inside a transaction of the fixture's that is rolled back at its end. The session under
  test joins it with savepoints (``join_transaction_mode="create_savepoint"``), so the
  code under test commits and rolls back as it would in production.

A test whose rows other connections must see (threads, the browser tests' live server,
other processes, a second app) is marked ``concurrent``: on PostgreSQL it commits for
real, and pays for a TRUNCATE of every table at its end. When PostgreSQL is asked for
and cannot be reached, the run fails; it never skips.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import orm

os.environ["TIMEBANK_ENV"] = "testing"

from tests import factories  # noqa: E402
from timebank import create_app  # noqa: E402
from timebank.core import clock as app_clock  # noqa: E402
from timebank.extensions import db, limiter  # noqa: E402
from timebank.people import operations as people  # noqa: E402

pytest_plugins = ["pytester"]  # tests/integration/test_test_database.py runs pytest itself

TEST_DATABASE_URL = os.environ.get("TIMEBANK_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
#: a PgBouncer (transaction mode) in front of that server: the code under test connects
#: through it, while the suite makes and drops its databases on the server itself
PGBOUNCER_URL = os.environ.get("TIMEBANK_TEST_PGBOUNCER_URL", "").strip() if ON_POSTGRES else ""
if PGBOUNCER_URL:
    os.environ["TIMEBANK_PGBOUNCER"] = "1"
#: the app's configuration in every test; a test's changes to it are undone at its end
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "SERVER_NAME": None}


def pytest_report_header(config):
    where = TEST_DATABASE_URL if ON_POSTGRES else "SQLite"
    if PGBOUNCER_URL:
        where += f" through PgBouncer at {PGBOUNCER_URL}"
    return f"timebank database: {where} (one per worker, reset before each test)"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "concurrent: other connections must see the test's rows (threads, a live server, "
        "processes); on PostgreSQL it commits for real and pays for a TRUNCATE",
    )
    _load_hypothesis_profile()
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.timebank_template = workerinput["timebank_template"]
    else:
        config.timebank_template = _build_template()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist: hand the controller's migrated template to each worker."""
    node.workerinput["timebank_template"] = node.config.timebank_template


def pytest_unconfigure(config):
    template = getattr(config, "timebank_template", None)
    if template and not ON_POSTGRES and not hasattr(config, "workerinput"):
        shutil.rmtree(Path(template).parent, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """A test that hands its database to a second app, a process or a live server needs
    real commits: it is ``concurrent`` without having to say so."""
    for item in items:
        if {"database_url", "live_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.concurrent)


def _load_hypothesis_profile() -> None:
    """``dev`` (the default: quick) or ``ci`` (the full depth), by HYPOTHESIS_PROFILE."""
    from hypothesis import HealthCheck, settings

    quiet = [HealthCheck.too_slow, HealthCheck.filter_too_much]
    settings.register_profile("dev", max_examples=10, deadline=None, suppress_health_check=quiet)
    settings.register_profile("ci", max_examples=30, deadline=None, suppress_health_check=quiet)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _migrate(url: str) -> None:
    import logging

    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    logging.disable(logging.INFO)  # one line per revision, before pytest captures output
    try:
        with app.app_context():
            upgrade()
            db.engine.dispose()
    finally:
        logging.disable(logging.NOTSET)


def _postgres_url(name: str) -> str:
    return sa.make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def _postgres_admin(statements: list[str]) -> None:
    """Run ``statements`` outside a transaction on the server's ``postgres`` database."""
    engine = sa.create_engine(_postgres_url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    except sa.exc.OperationalError as error:
        pytest.exit(f"PostgreSQL at {TEST_DATABASE_URL} is not reachable: {error}", returncode=3)
    finally:
        engine.dispose()


def _base_name() -> str:
    return sa.make_url(TEST_DATABASE_URL).database


def _build_template() -> str:
    """Migrate once per run: a SQLite file, or the PostgreSQL database ``<db>_template``."""
    if ON_POSTGRES:
        name = f"{_base_name()}_template"
        _postgres_admin(
            [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"']
        )
        _migrate(_postgres_url(name))
        return name
    path = Path(tempfile.mkdtemp(prefix="timebank-template-")) / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def worker_database(request, worker_id, tmp_path_factory) -> str:
    """This worker's database URL, made from the template."""
    template = request.config.timebank_template
    if ON_POSTGRES:
        name = f"{_base_name()}_{worker_id}"
        for attempt in range(20):  # the other worker may be copying the template right now
            try:
                _postgres_admin(
                    [
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
                    ]
                )
                break
            except sa.exc.OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.25)
        if PGBOUNCER_URL:
            bouncer = sa.make_url(PGBOUNCER_URL).set(database=name)
            return bouncer.render_as_string(hide_password=False)
        return _postgres_url(name)
    return f"sqlite:///{tmp_path_factory.getbasetemp() / 'worker.sqlite3'}"


@pytest.fixture(scope="session")
def session_app(worker_database, tmp_path_factory):
    """The worker's one app; each test uses it inside an app context of its own. Its
    instance folder is the worker's own (``timebank setup --url`` records the site's
    address there), never the checkout's."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": worker_database, **TEST_CONFIG})
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    return app


class _BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session, on the connection it was given (the test's transaction)
    instead of the engine Flask-SQLAlchemy would choose."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind or self.bind or super().get_bind(mapper, clause, bind, **kwargs)


class TestDatabase:
    """The per-test reset of the worker's database (see the module's docstring)."""

    def __init__(self, app, template: str, concurrent: bool):
        self.app = app
        self.template = template
        self.concurrent = concurrent
        self.connection = None
        self.transaction = None
        self.scoped_session = db.session

    def start(self) -> None:
        if not ON_POSTGRES:
            self._copy_template()
        elif not self.concurrent:
            self.connection = db.engine.connect()
            self.connection.info["timebank_test_harness"] = True
            self.transaction = self.connection.begin()
            made = self.scoped_session
            options = {
                **made.session_factory.kw,  # the app's own options (expire_on_commit, ...)
                "bind": self.connection,
                "join_transaction_mode": "create_savepoint",
            }
            db.session = orm.scoped_session(
                orm.sessionmaker(class_=_BoundSession, **options), made.registry.scopefunc
            )

    def finish(self) -> None:
        db.session.remove()
        if self.connection is not None:
            db.session = self.scoped_session
            self.transaction.rollback()
            self.connection.info.pop("timebank_test_harness", None)
            self.connection.close()
            self.connection = self.transaction = None
        elif ON_POSTGRES:
            self._truncate()

    def reset(self) -> None:
        """Empty the database now, in the middle of a test (each hypothesis example)."""
        self.finish()
        self.start()

    def _copy_template(self) -> None:
        db.engine.dispose()  # no connection may keep the old file open
        path = Path(self.app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(self.template, path)

    def _truncate(self) -> None:
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            # The ledger's append-only triggers refuse TRUNCATE; replica mode lets the
            # test harness (and only it) empty the tables after a test that committed.
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def _is_concurrent(request) -> bool:
    return request.node.get_closest_marker("concurrent") is not None


@pytest.fixture
def test_database(session_app, request):
    """The test's database, reset before it; ``test_database.reset()`` empties it again."""
    template = request.config.timebank_template
    database = TestDatabase(session_app, template, _is_concurrent(request))
    with session_app.app_context():
        database.start()
    return database


@pytest.fixture
def app(session_app, test_database, tmp_path):
    """The worker's app, in an app context of the test's own. Whatever the test changes in
    its configuration, its extensions' caches, the throttles, the clock or its instance
    folder (``timebank setup --url`` records the site's address there) is undone."""
    config = dict(session_app.config)
    extensions = set(session_app.extensions)
    instance_path = session_app.instance_path
    session_app.instance_path = str(tmp_path / "instance")
    with session_app.app_context():
        try:
            yield session_app
        finally:
            test_database.finish()
            session_app.config.clear()
            session_app.config.update(config)
            for name in set(session_app.extensions) - extensions:
                del session_app.extensions[name]
            limiter.storage.reset()
            app_clock.set_source(None)
            session_app.instance_path = instance_path


@pytest.fixture
def database_url(app) -> str:
    """The URL of the test's database, for a test that builds a second app on it."""
    return app.config["SQLALCHEMY_DATABASE_URI"]


class Clock:
    """The app's "now" for one test: the real time moved by ``offset``, or ``frozen``."""

    def __init__(self):
        self.offset = timedelta(0)
        self.frozen: datetime | None = None

    def now(self) -> datetime:
        if self.frozen is not None:
            return self.frozen
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        if self.frozen is not None:
            self.frozen += delta
        else:
            self.offset += delta

    def freeze(self, at: datetime) -> None:
        self.frozen = at


@pytest.fixture
def clock(app):
    """Sets the app's clock (timebank.core.clock) for every module and thread at once."""
    moved = Clock()
    app_clock.set_source(moved.now)
    yield moved
    app_clock.set_source(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def district(app):
    units = factories.create_district()
    db.session.commit()
    return units


@pytest.fixture
def make_member(app):
    def make(unit, **kwargs):
        member = factories.create_member(unit, **kwargs)
        db.session.commit()
        return member

    return make


@pytest.fixture
def token_for(app):
    """Bearer-token headers for a member: ``client.get(url, headers=token_for(m))``."""

    def make(member) -> dict:
        token, _row = people.issue_token(member)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def login(client):
    """Log a member in through the login page (session cookie on ``client``)."""

    def do_login(member, password: str = factories.PASSWORD):
        response = client.post("/login", data={"phone": member.phone, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do_login


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_terminal_summary(terminalreporter, config):
    seed = config.getoption("randomly_seed", default=None)
    if seed is not None and config.getoption("randomly_reorganize", default=True):
        terminalreporter.write_line(f"tests ran in random order: --randomly-seed={seed} repeats it")
    skipped = terminalreporter.stats.get("skipped", [])
    browser_skips = [r for r in skipped if "tests/e2e/" in str(getattr(r, "nodeid", ""))]
    if browser_skips:
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(browser_skips)} Playwright tests did not run: Debian's Chromium is missing.\n"
            "Install it with `sudo apt-get install -y chromium` and run `make test` again.\n"
            "CI installs it and fails instead of skipping.",
            red=True,
        )


@pytest.fixture
def activity_scene(app, district):
    """The district, its organizer and volunteer, and an activity that began ten minutes ago."""
    from tests.activities_factories import create_activity

    organizer = factories.create_member(district["a"], roles=("organizer",), name="网格长")
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"], organizer=organizer,
        starts_at=app_clock.utcnow() - timedelta(minutes=10), hours=2,
    )  # fmt: skip
    db.session.commit()
    return {"organizer": organizer, "volunteer": volunteer, "activity": activity, **district}
