"""The SQL a block of a test sends, for tests that count statements or check their order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from timebank.core import db as core_db
from timebank.extensions import db

#: stands in the record where a SQLite transaction takes the write lock
BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"
#: on PostgreSQL each test runs in a transaction of the fixture's, and every transaction
#: the code under test begins is a savepoint in it: bookkeeping of the harness, not work
HARNESS = ("SAVEPOINT sa_savepoint_", "RELEASE SAVEPOINT sa_savepoint_",
           "ROLLBACK TO SAVEPOINT sa_savepoint_")  # fmt: skip


@contextmanager
def recorded_statements(*, lock: bool = False) -> Iterator[list[str]]:
    """Yield the list of statements the block sends through the engine, whitespace
    collapsed (the ledger's raw SQL goes past it). ``lock``: also BEGIN_IMMEDIATE where a
    SQLite transaction takes the write lock."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.startswith(HARNESS) and _harness(conn):
            return
        statements.append(" ".join(statement.split()))

    with pytest.MonkeyPatch.context() as patch:
        if lock:
            original = core_db.begin_immediate

            def marked(dbapi_connection):
                statements.append(BEGIN_IMMEDIATE)
                original(dbapi_connection)

            patch.setattr(core_db, "begin_immediate", marked)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)


def _harness(conn) -> bool:
    """True when ``conn`` is the test's own connection, whose transaction the fixture owns."""
    from tests.conftest import ON_POSTGRES

    return ON_POSTGRES and conn.info.get("timebank_test_harness", False)


def verbs(statements: list[str]) -> list[str]:
    """``SELECT``, ``INSERT``, ... of each statement (and BEGIN_IMMEDIATE as it is)."""
    return [s if s == BEGIN_IMMEDIATE else s.split()[0].upper() for s in statements]
