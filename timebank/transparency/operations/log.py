"""Appending the ledger's entries to each ledger's log, in entry-id order, only below the
horizon: the entry id under which no transaction still open can add one.

Entry ids come from a sequence, in the order postings asked for them; transactions commit
in another order. An append that took every entry it could see would skip one that an open
transaction commits a moment later with a lower id, and the log would lose it or hold it out
of order. So the appender first learns the horizon:

- PostgreSQL: it takes ``LOCK TABLE entries IN SHARE MODE`` inside a savepoint, which waits
  for every transaction that has inserted entries to end (an INSERT holds ROW EXCLUSIVE from
  before it draws its id until it commits), reads ``max(id)``, and rolls the savepoint back,
  which releases the lock at once. New postings wait only while it waits (bench/transparency.py
  measures it); ``lock_timeout`` bounds that, and a timed-out try appends nothing this time.
- SQLite: one writer at a time, and the appender is it: every entry it sees is committed
  (or its own), so the horizon is ``max(id)``.

The appender holds its head row's lock (FOR UPDATE; SQLite's write lock) so two appenders
take turns, and refuses to build on a tree that no longer hashes to its head.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg
import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.core.db import insert_unless_taken
from timebank.extensions import db
from timebank.ledger.models import LEDGERS
from timebank.ledger.operations import ENTRIES
from timebank.ledger.operations.sql import dbapi_cursor, insert_sql, is_postgres
from timebank.transparency import merkle
from timebank.transparency.errors import LogInconsistent
from timebank.transparency.models import STRIDE, LogHead
from timebank.transparency.operations.tree import StoredTree, ledger_entries

#: how long the appender waits for open posting transactions before trying next time
HORIZON_LOCK_TIMEOUT = "2s"
#: entries read and hashed at a time
CHUNK = 1 << 16
#: entries one ledger's log takes in one append at most: the first run over a ledger of
#: millions catches up over a few runs, so SQLite's one writer is never held for long
MAX_PER_RUN = 4 * CHUNK
NODE_COLUMNS = ("ledger", "level", "idx", "hash", "first_entry_id", "last_entry_id")


def entry_horizon() -> int | None:
    """The highest entry id below which every entry is final (committed, or rolled back
    for good); None when open postings did not finish within HORIZON_LOCK_TIMEOUT."""
    if not is_postgres():
        return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(ENTRIES.c.id), 0)))
    connection = db.session.connection()
    connection.exec_driver_sql("SAVEPOINT transparency_horizon")
    try:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{HORIZON_LOCK_TIMEOUT}'")
        connection.exec_driver_sql("LOCK TABLE entries IN SHARE MODE")
        horizon = connection.execute(sa.select(sa.func.coalesce(sa.func.max(ENTRIES.c.id), 0)))
        horizon = horizon.scalar()
    except sa.exc.OperationalError as error:
        if not isinstance(error.orig, psycopg.errors.LockNotAvailable):
            raise
        horizon = None
    finally:
        # releases the lock (and the lock_timeout) at once, keeping the value read
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT transparency_horizon")
        connection.exec_driver_sql("RELEASE SAVEPOINT transparency_horizon")
    return horizon


def lock_head(ledger: str) -> LogHead:
    """The ledger's head row, created empty on first use, locked for this transaction."""
    db.session.execute(
        insert_unless_taken(LogHead.__table__, LogHead.__table__.c.ledger),
        {
            "ledger": ledger,
            "size": 0,
            "last_entry_id": 0,
            "root_hash": merkle.EMPTY_ROOT.hex(),
            "updated_at": utcnow(),
        },
    )
    query = sa.select(LogHead).where(LogHead.ledger == ledger).with_for_update()
    return db.session.execute(query.execution_options(populate_existing=True)).scalar_one()


def read_head(ledger: str) -> LogHead | None:
    """The ledger's head as it is now, without a lock (None before the first append)."""
    return db.session.get(LogHead, ledger)


def append_entries(now: datetime | None = None, *, limit: int | None = MAX_PER_RUN) -> dict:
    """Append every ledger's final entries (at most ``limit`` each; None: all) to its log;
    returns how many each received (``waiting`` is 1 when open postings kept the horizon
    from being read: try later).

    Raises LogInconsistent when a log's stored nodes and entries no longer hash to its head
    (the entries or the log were changed behind the triggers' back): nothing is appended.
    """
    horizon = entry_horizon()
    if horizon is None:
        return {**dict.fromkeys(LEDGERS, 0), "waiting": 1}
    now = now or utcnow()
    return {ledger: append_ledger(ledger, horizon, now, limit=limit) for ledger in LEDGERS}


def append_ledger(ledger: str, horizon: int, now: datetime, *, limit: int | None = None) -> int:
    """Append the ledger's entries with head.last_entry_id < id <= ``horizon`` (the first
    ``limit`` of them, rounded up to a CHUNK, when given)."""
    head = lock_head(ledger)
    if horizon <= head.last_entry_id:
        return 0
    tree = StoredTree(head)
    try:
        frontier = tree.frontier()
    except LookupError as error:
        raise _inconsistent(ledger, str(error)) from None
    if merkle.frontier_root(frontier).hex() != head.root_hash:
        raise _inconsistent(ledger, "the stored tree no longer hashes to the log's head")
    batch = _Batch(tree, frontier)
    reached = horizon
    for ids, hashes in _chunks(ledger, head.last_entry_id, horizon):
        batch.add(ids, merkle.leaves_of_entries(hashes))
        if limit is not None and batch.size - head.size >= limit:
            reached = ids[-1]  # the rest next time
            break
    appended = batch.size - head.size
    head.size, head.last_entry_id = batch.size, reached
    head.root_hash = merkle.frontier_root(batch.frontier).hex()
    head.updated_at = now
    db.session.flush()
    return appended


def _inconsistent(ledger: str, detail: str) -> LogInconsistent:
    return LogInconsistent(
        "The %(ledger)s log does not match its entries: %(detail)s.",
        params={"ledger": ledger, "detail": detail},
    )


def _chunks(ledger: str, after: int, upto: int) -> Iterator[tuple[list[int], list[str]]]:
    """(ids, hex hashes) of the ledger's entries after < id <= upto, CHUNK at a time."""
    while after < upto:
        rows = ledger_entries(ledger, after, upto, CHUNK)
        if not rows:
            return
        yield [row[0] for row in rows], [row[1] for row in rows]
        after = rows[-1][0]


class _Batch:
    """Leaves appended in chunks: the right edge moves along, and every perfect subtree
    completed at a stored level is written with the entry ids it spans."""

    def __init__(self, tree: StoredTree, frontier: dict[int, bytes]):
        self.tree = tree
        self.ledger = tree.ledger
        self.size = tree.size
        self.frontier = frontier
        #: first entry id of each block (BLOCK leaves) begun in this batch
        self.block_first: dict[int, int] = {}

    def add(self, ids: list[int], leaves: list[bytes]) -> None:
        start = self.size
        for position in range(-start % (1 << STRIDE), len(ids), 1 << STRIDE):
            self.block_first[(start + position) >> STRIDE] = ids[position]
        self.frontier, completed = merkle.extend(
            start, self.frontier, leaves, keep=lambda level: level % STRIDE == 0
        )
        rows = []
        for level, first_index, hashes in completed:
            for offset, value in enumerate(hashes):
                index = first_index + offset
                last_leaf = ((index + 1) << level) - 1
                first = self._first_entry(index << (level - STRIDE))
                rows.append((self.ledger, level, index, value, first, ids[last_leaf - start]))
        if rows:
            # the DB-API cursor, as the posting hot path: SQLAlchemy's parameter processing
            # per row cost more than the hashing (bench/transparency.py)
            cursor, pg = dbapi_cursor()
            try:
                cursor.executemany(insert_sql("transparency_nodes", NODE_COLUMNS, 1, pg), rows)
            finally:
                cursor.close()
        self.size = start + len(leaves)

    def _first_entry(self, block: int) -> int:
        """The entry id of block ``block``'s first leaf: begun in this batch, stored, or
        the partial block the batch began with (its entries follow the block before)."""
        if block in self.block_first:
            return self.block_first[block]
        stored = self.tree._stored.get((STRIDE, block))
        if stored is None:
            self.tree._fetch_nodes({(STRIDE, block)})
            stored = self.tree._stored[(STRIDE, block)]
        if stored is not None:
            return stored.first_entry_id
        first = self.tree.block(block).entry_ids[0]
        self.block_first[block] = first
        return first
