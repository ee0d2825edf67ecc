"""A database that is down or a lock that cannot be had: 503 with Retry-After, never 500.

``database_refusal(error)`` reads what the driver raised (SQLAlchemy wraps it) and names
the DomainError the edge answers with, or None for a real bug. Nothing was committed in
either case, so a client retries with the same idempotency key.
"""

from __future__ import annotations

import sqlite3

import psycopg
import sqlalchemy as sa

from timebank.core.errors import DatabaseBusy, DatabaseUnavailable, DomainError

#: seconds a client should wait before retrying
RETRY_BUSY, RETRY_UNAVAILABLE = 1, 5
#: PostgreSQL SQLSTATEs of "not now": lock_not_available (lock_timeout), query_canceled
#: (statement_timeout), serialization_failure, deadlock_detected, too_many_connections
_BUSY_STATES = frozenset({"55P03", "57014", "40001", "40P01", "53300"})
#: the server is going away or not yet there: admin_shutdown, crash_shutdown,
#: cannot_connect_now
_DOWN_STATES = frozenset({"57P01", "57P02", "57P03"})


def database_refusal(error: BaseException) -> DomainError | None:
    """DatabaseBusy or DatabaseUnavailable (with ``retry_after``) for an error that says
    the database cannot serve this request now; None for any other error."""
    if isinstance(error, sa.exc.TimeoutError):  # every pooled connection in use
        return DatabaseBusy(retry_after=RETRY_BUSY)
    # the ledger's hot path runs its own DB-API cursor: its errors come unwrapped
    if isinstance(error, sa.exc.DBAPIError):
        original, invalidated = error.orig, error.connection_invalidated
    elif isinstance(error, sqlite3.Error | psycopg.Error):
        original, invalidated = error, False
    else:
        return None
    if isinstance(original, sqlite3.OperationalError):
        text = str(original)
        if "locked" in text or "busy" in text:
            return DatabaseBusy(retry_after=RETRY_BUSY)
        if "unable to open" in text or "disk I/O" in text:
            return DatabaseUnavailable(retry_after=RETRY_UNAVAILABLE)
        return None
    state = getattr(original, "sqlstate", None) or ""
    if state in _BUSY_STATES:
        return DatabaseBusy(retry_after=RETRY_BUSY)
    if invalidated or state in _DOWN_STATES or state.startswith("08"):
        return DatabaseUnavailable(retry_after=RETRY_UNAVAILABLE)
    if isinstance(original, psycopg.OperationalError) and not state:
        # psycopg could not connect at all (refused, timed out): it gives no SQLSTATE
        return DatabaseUnavailable(retry_after=RETRY_UNAVAILABLE)
    return None
