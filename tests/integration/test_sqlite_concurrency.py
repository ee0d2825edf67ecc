"""Concurrent writers: SQLite's BEGIN IMMEDIATE keeps 'database is locked' away."""

import threading

import pytest

from tests import factories
from tests.conftest import ON_POSTGRES
from timebank.extensions import db
from timebank.units import operations as units

pytestmark = pytest.mark.concurrent


def test_every_transaction_begins_immediate_on_sqlite(app):
    if ON_POSTGRES:
        pytest.skip("a SQLite-only detail; PostgreSQL locks rows instead")
    statements = []
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        raw.set_trace_callback(statements.append)  # what SQLite itself runs
        try:
            conn.exec_driver_sql("SELECT 1")
            conn.commit()
        finally:
            raw.set_trace_callback(None)
    assert statements.index("BEGIN IMMEDIATE") < statements.index("SELECT 1")
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


def test_a_writer_waits_for_the_lock_and_gives_up_after_the_busy_timeout(app):
    """The write lock is retried every few milliseconds (SQLite's own handler backs off to
    100 ms): a second writer gets it once the first commits, or fails cleanly after
    TIMEBANK_SQLITE_BUSY_TIMEOUT_MS."""
    if ON_POSTGRES:
        pytest.skip("a SQLite-only detail; PostgreSQL locks rows instead")
    import sqlalchemy as sa

    holder = db.engine.connect()
    holder.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: the write lock is held
    outcome = {}

    def second_writer():
        with app.app_context():
            try:
                with db.engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
                    conn.commit()
                outcome["second"] = "wrote"
            except sa.exc.OperationalError as error:
                outcome["second"] = str(error.orig)

    app.config["TIMEBANK_SQLITE_BUSY_TIMEOUT_MS"] = 200
    waiting = threading.Thread(target=second_writer)
    waiting.start()
    waiting.join()
    assert "locked" in outcome["second"]  # gave up after the timeout, with the cause
    app.config["TIMEBANK_SQLITE_BUSY_TIMEOUT_MS"] = 10_000
    waiting = threading.Thread(target=second_writer)
    waiting.start()
    holder.commit()  # the lock is let go while the second writer waits
    holder.close()
    waiting.join()
    assert outcome["second"] == "wrote"
