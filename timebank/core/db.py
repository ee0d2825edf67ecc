"""The declarative base, its naming convention, column types and SQLite set-up."""

from __future__ import annotations

import functools
import sqlite3
import time
from contextvars import ContextVar
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.pool import Pool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware.

    SQLite has no time zones; storing naive UTC on both databases keeps comparisons
    and indexes identical, and the decorator refuses naive input so no local time
    slips in unnoticed.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def get_by_id(model, ident: int, query: sa.Select | None = None):
    """``session.get(model, ident)`` for the hot paths: the object already in the session,
    else one SELECT built once per model. ``session.get`` builds and keys a new SELECT on
    every call, which costs twice as much as running one. ``query``: a SELECT of the
    model built once with loader options, its id the bound parameter ``ident``."""
    from timebank.extensions import db

    session = db.session()
    found = session.identity_map.get(identity_key(model, ident))
    if found is not None and not sa.inspect(found).expired:
        return found
    if query is None:
        return session.execute(_by_id(model), {"ident": ident}).scalar_one_or_none()
    return session.execute(query, {"ident": ident}).unique().scalar_one_or_none()


@functools.cache
def _by_id(model) -> sa.Select:
    return sa.select(model).where(model.id == sa.bindparam("ident"))


def insert_unless_taken(table: sa.Table, returning: sa.Column) -> sa.Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING returning`` for the database in use:
    a row a unique constraint refuses returns nothing instead of raising. An error would
    end a PostgreSQL transaction, so catching one needs a savepoint, which costs more
    than the insert; PostgreSQL waits for a concurrent insert of the same key to commit."""
    from timebank.extensions import db

    return _insert_unless_taken(db.engine.dialect.name, table, returning)


@functools.cache
def _insert_unless_taken(dialect: str, table: sa.Table, returning: sa.Column) -> sa.Insert:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing().returning(returning)


def sqlite_busy_timeout_ms() -> int:
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config.get("TIMEBANK_SQLITE_BUSY_TIMEOUT_MS", 10000)
    return 10000


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """WAL, foreign keys and a busy timeout; transactions begun by us, not by pysqlite."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # pysqlite's own BEGIN is deferred; a deferred reader that later writes gets
    # SQLITE_BUSY in WAL mode despite busy_timeout, so we emit BEGIN IMMEDIATE ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(sqlite_busy_timeout_ms())}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


#: set by core.uow.read_phase: the transaction begun now only reads (no write lock)
reading_phase: ContextVar[bool] = ContextVar("timebank_reading_phase", default=False)


def reading_request() -> bool:
    """True inside a request with a safe method, or a read phase: it never writes."""
    if reading_phase.get():
        return True
    from flask import has_request_context, request

    return has_request_context() and request.method in SAFE_METHODS


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    """A request that only reads runs each statement on its own, as PostgreSQL's READ
    COMMITTED would anyway (each statement sees what was committed when it began): no
    BEGIN and COMMIT to send. On SQLite every other transaction takes the write lock up
    front (see _sqlite_on_connect); a reader takes none, so GETs run beside the writer."""
    dbapi_connection = conn.connection.dbapi_connection
    if reading_request():
        if conn.dialect.name == "postgresql":
            dbapi_connection.autocommit = True  # until the pool takes it back
    elif conn.dialect.name == "sqlite":
        begin_immediate(dbapi_connection)


def one_transaction(conn: sa.Connection) -> None:
    """The rest of a reading request reads in one transaction, as a server-side cursor
    needs (and a check that must see one moment of the ledger wants)."""
    dbapi_connection = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql" and dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


@event.listens_for(Pool, "checkin")
def _end_autocommit(dbapi_connection, connection_record):
    if getattr(dbapi_connection, "autocommit", False) is True and not dbapi_connection.closed:
        dbapi_connection.autocommit = False


def begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, trying again within a millisecond while another writer holds the
    lock, up to TIMEBANK_SQLITE_BUSY_TIMEOUT_MS.

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms), so
    a queue of writers turns into long tails, and the lock lies idle while they sleep. A
    failed try costs microseconds; short pauses keep the queue moving.
    """
    timeout_ms = int(sqlite_busy_timeout_ms())
    deadline = time.monotonic() + timeout_ms / 1000
    pause = 0.0001
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(pause)
            pause = min(pause * 2, 0.001)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {timeout_ms}")


@event.listens_for(Session, "before_flush")
def _refuse_writes_in_safe_requests(session, flush_context, instances):
    if reading_request():
        from flask import request

        raise RuntimeError(f"{request.method} {request.path} must not write to the database")
