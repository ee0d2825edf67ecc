"""Plain SQL shared by the ledger's operations: the tables, and the DB-API cursor of the
session's own connection.

The posting hot path speaks plain SQL on that cursor (same transaction): SQLAlchemy's
per-statement cost was most of a posting's time (bench/ledger.py). Statements are written
once with %s and adapted for sqlite3.
"""

from __future__ import annotations

from collections.abc import Sequence

from timebank.extensions import db
from timebank.ledger.models import Account, Entry, PointLot, Transfer

ACCOUNTS = Account.__table__
ENTRIES = Entry.__table__
TRANSFERS = Transfer.__table__
LOTS = PointLot.__table__


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def dbapi_cursor():
    """(DB-API cursor of the session's connection, is PostgreSQL)."""
    connection = db.session.connection()
    return connection.connection.driver_connection.cursor(), connection.dialect.name == "postgresql"


def placeholders(count: int, pg: bool) -> str:
    return ", ".join(["%s" if pg else "?"] * count)


def insert_sql(table: str, columns: Sequence[str], rows: int, pg: bool, returning=False) -> str:
    values = ", ".join([f"({placeholders(len(columns), pg)})"] * rows)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"
    return sql + " RETURNING id" if returning else sql
