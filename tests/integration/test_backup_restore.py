"""timebank backup / restore (issue 25): a backup restored into an empty database gives
the same ``ledger verify`` output, the same balances and the same audit rows, on SQLite
(the online backup API) and PostgreSQL (pg_dump --format=custom, pg_restore)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES, PGBOUNCER_URL, TEST_CONFIG, TEST_DATABASE_URL
from timebank import create_app
from timebank.extensions import db
from timebank.ledger import operations as ledger

#: what must come back identical, row for row
SNAPSHOTS = {
    "accounts": "SELECT id, ledger, balance, held, version, head_hash FROM accounts ORDER BY id",
    "entries": "SELECT id, transfer_id, account_id, amount, balance_after, version, hash "
    "FROM entries ORDER BY id",
    "audit": "SELECT id, actor_id, action, subject_member_id, target, before, after, detail, ip, "
    "created_at, request_id FROM audit_events ORDER BY id",
    "schema": "SELECT version_num FROM alembic_version",
}


def _direct(url: str) -> str:
    """The server's own URL for a database: pg_dump and pg_restore keep session state,
    which PgBouncer in transaction mode does not carry (docs/scaling.md)."""
    if not PGBOUNCER_URL:
        return url
    server = sa.make_url(TEST_DATABASE_URL)
    direct = sa.make_url(url).set(host=server.host, port=server.port)
    return direct.render_as_string(hide_password=False)


def _snapshot(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(sa.text(sql)).all() for name, sql in SNAPSHOTS.items()}
    finally:
        engine.dispose()


def _history(client, district, make_member, token_for) -> None:
    """Credits, donations and audit rows, through the API as they happen."""
    admin = make_member(district["street"], roles=("admin",))
    alice = make_member(district["building_a"])
    bob = make_member(district["building_b"])
    for n, member in enumerate((alice, bob), start=1):
        ledger.credit_from_evidence(
            member_id=member.id, member_unit_id=member.home_unit_id, unit_id=district["a"].id,
            minutes=90 * n, points=20 * n, code="earn_checkin", reference_type="attendance",
            reference_id=str(n), idempotency_key=f"attendance:{n}", actor_id=None,
        )  # fmt: skip
    db.session.commit()
    gift = {"kind": "donate", "amount": 30, "recipient_id": bob.id, "idempotency_key": "g1"}
    assert client.post("/api/v1/transfers", json=gift, headers=token_for(alice)).status_code == 201
    assert client.post("/api/v1/ledger/verify", headers=token_for(admin)).status_code == 200


@pytest.fixture
def empty_database(database_url, tmp_path):
    """The URL of an empty database beside the test's, dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url = sa.make_url(_direct(database_url))
    name = f"{url.database}_restore"

    def on_server(*statements: str) -> None:
        server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with server.connect() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement))
        finally:
            server.dispose()

    on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _verify(url: str) -> str:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **TEST_CONFIG})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["ledger", "verify"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_restored_backup_verifies_the_same_with_the_same_balances_and_audit_rows(
    app, client, database_url, empty_database, district, make_member, token_for, tmp_path
):
    _history(client, district, make_member, token_for)
    backup = tmp_path / "timebank.backup"
    made = app.test_cli_runner().invoke(
        args=["backup", str(backup), "--url", _direct(database_url)]
    )
    assert made.exit_code == 0, made.output
    assert backup.stat().st_size > 0
    restorer = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, **TEST_CONFIG})
    with restorer.app_context():
        into = ["--url", _direct(empty_database)]
        restored = restorer.test_cli_runner().invoke(args=["restore", str(backup), *into])
        again = restorer.test_cli_runner().invoke(args=["restore", str(backup), *into])
        db.engine.dispose()
    assert restored.exit_code == 0, restored.output
    assert again.exit_code == 1 and "only into an empty database" in again.output
    original = _snapshot(database_url)
    assert original["accounts"] and original["audit"]
    assert _snapshot(empty_database) == original
    assert _verify(empty_database) == _verify(database_url)
    assert _verify(database_url).startswith("OK: ")
