"""Concurrent writers: SQLite's BEGIN IMMEDIATE keeps 'database is locked' away."""

import threading

import pytest

from tests import factories
from tests.conftest import ON_POSTGRES
from timebank.extensions import db
from timebank.units import operations as units


def test_every_transaction_begins_immediate_on_sqlite(app):
    if ON_POSTGRES:
        pytest.skip("a SQLite-only detail; PostgreSQL locks rows instead")
    statements = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            conn.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert statements[0] == "BEGIN IMMEDIATE"
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_two_threads_writing_concurrently_never_lock(app):
    root = factories.create_unit("并发街道", "street")
    db.session.commit()
    root_id = root.id  # threads must not touch the main thread's session
    db.session.commit()  # reading root.id began a transaction; end it before the writers run
    errors: list[BaseException] = []
    per_thread = 40

    def writer(thread_no: int):
        with app.app_context():
            try:
                for i in range(per_thread):
                    # read, then write, in one transaction: the pattern that deadlocks
                    # a deferred SQLite transaction in WAL mode
                    units.list_units(within=[root_id])
                    units.create_unit(name=f"t{thread_no}-{i}", kind="community", parent_id=root_id)
                    db.session.commit()
            except BaseException as error:  # noqa: BLE001 - report any failure to the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(units.list_units(within=[root_id])) == 1 + 2 * per_thread
