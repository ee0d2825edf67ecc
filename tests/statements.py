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


#: the modules that speak plain SQL on the session's DB-API cursor (ledger/operations/sql.py)
RAW_SQL_MODULES = (
    "timebank.ledger.operations.history",
    "timebank.ledger.operations.posting",
    "timebank.transparency.operations.log",
    "timebank.transparency.operations.tree",
)


class _RecordingCursor:
    """A DB-API cursor that writes down what it executes (``executemany``: once)."""

    def __init__(self, cursor, statements: list[str]):
        self._cursor, self._statements = cursor, statements

    def execute(self, sql, *args):
        self._statements.append(" ".join(sql.split()))
        return self._cursor.execute(sql, *args)

    def executemany(self, sql, *args):
        self._statements.append(" ".join(sql.split()))
        return self._cursor.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


@contextmanager
def recorded_statements(*, lock: bool = False, raw: bool = False) -> Iterator[list[str]]:
    """Yield the list of statements the block sends through the engine, whitespace
    collapsed. ``raw``: also the ledger's plain SQL on the DB-API cursor (which goes past
    the engine), so a count is the whole price. ``lock``: also BEGIN_IMMEDIATE where a
    SQLite transaction takes the write lock."""
    import importlib

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
        if raw:
            for name in RAW_SQL_MODULES:
                module = importlib.import_module(name)
                opened = module.dbapi_cursor

                def recording(opened=opened):
                    cursor, pg = opened()
                    return _RecordingCursor(cursor, statements), pg

                patch.setattr(module, "dbapi_cursor", recording)
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


@contextmanager
def statements_built() -> Iterator[list]:
    """Yield the list of statements the block built and keyed for the compiled cache. A hot
    path builds each statement once (at import, or on first use) and runs it with bound
    parameters after: building one and working out its cache key cost more than running
    it (issue 24)."""
    from sqlalchemy.sql import cache_key
    from sqlalchemy.sql.elements import _IdentifiedClause

    built: list = []
    generate = cache_key.HasCacheKey._generate_cache_key

    def keyed(statement):
        if not isinstance(statement, _IdentifiedClause):  # the harness's savepoints (PG)
            built.append(statement)
        return generate(statement)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache_key.HasCacheKey, "_generate_cache_key", keyed)
        yield built
