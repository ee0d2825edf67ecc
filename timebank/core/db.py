"""The declarative base, its naming convention, column types and SQLite set-up."""

from __future__ import annotations

import sqlite3
import time
from contextvars import ContextVar
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

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


def utcnow() -> datetime:
    """The server clock, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


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
def _sqlite_on_begin(conn):
    # A reader takes no lock, so GETs run beside the one writer (WAL); every other
    # transaction takes the write lock up front (see _sqlite_on_connect).
    if conn.dialect.name == "sqlite":
        if reading_request():
            conn.exec_driver_sql("BEGIN")
        else:
            begin_immediate(conn.connection.dbapi_connection)


def begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, trying again every few milliseconds while another writer holds
    the lock, up to TIMEBANK_SQLITE_BUSY_TIMEOUT_MS.

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms), so
    a queue of writers turns into long tails; short tries keep the queue moving.
    """
    timeout_ms = int(sqlite_busy_timeout_ms())
    deadline = time.monotonic() + timeout_ms / 1000
    pause = 0.0005
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
            pause = min(pause * 2, 0.004)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {timeout_ms}")


@event.listens_for(Session, "before_flush")
def _refuse_writes_in_safe_requests(session, flush_context, instances):
    if reading_request():
        from flask import request

        raise RuntimeError(f"{request.method} {request.path} must not write to the database")
