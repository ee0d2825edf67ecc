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


@contextmanager
def recorded_statements(*, lock: bool = False) -> Iterator[list[str]]:
    """Yield the list of statements the block sends through the engine, whitespace
    collapsed (the ledger's raw SQL goes past it). ``lock``: also BEGIN_IMMEDIATE where a
    SQLite transaction takes the write lock."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
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


def verbs(statements: list[str]) -> list[str]:
    """``SELECT``, ``INSERT``, ... of each statement (and BEGIN_IMMEDIATE as it is)."""
    return [s if s == BEGIN_IMMEDIATE else s.split()[0].upper() for s in statements]
