"""Fixtures: an app on a freshly migrated database for each test, on SQLite or PostgreSQL.

TIMEBANK_TEST_DATABASE_URL chooses the database. Unset: a SQLite file per test, copied
from one migrated template. Set to PostgreSQL: the schema is migrated once per run and
every table is truncated before each test. When PostgreSQL is asked for and cannot be
reached, the run fails; it never skips.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ["TIMEBANK_ENV"] = "testing"

from tests import factories  # noqa: E402
from timebank import create_app  # noqa: E402
from timebank.extensions import db  # noqa: E402
from timebank.people import operations as people  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TIMEBANK_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def pytest_report_header(config):
    return f"timebank database: {TEST_DATABASE_URL if ON_POSTGRES else 'SQLite (file per test)'}"


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per run: a template SQLite file, or the PostgreSQL test database."""
    if ON_POSTGRES:
        engine = sa.create_engine(TEST_DATABASE_URL)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        except sa.exc.OperationalError as error:
            pytest.exit(
                f"PostgreSQL at {TEST_DATABASE_URL} is not reachable: {error}", returncode=3
            )
        finally:
            engine.dispose()
        _migrate(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


def _truncate_postgres() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name != "alembic_version"]
    with db.engine.begin() as conn:
        # The ledger's append-only triggers refuse TRUNCATE; replica mode lets the
        # test harness (and only it) start each test from empty tables.
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database_url(database_template, tmp_path) -> str:
    if ON_POSTGRES:
        return database_template
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        if ON_POSTGRES:
            _truncate_postgres()
        yield app
        db.session.remove()
        db.engine.dispose()


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


def pytest_terminal_summary(terminalreporter):
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
    from datetime import UTC, datetime, timedelta

    from tests.activities_factories import create_activity

    organizer = factories.create_member(district["a"], roles=("organizer",), name="网格长")
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"], organizer=organizer,
        starts_at=datetime.now(UTC) - timedelta(minutes=10), hours=2,
    )  # fmt: skip
    db.session.commit()
    return {"organizer": organizer, "volunteer": volunteer, "activity": activity, **district}
