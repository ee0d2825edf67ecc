"""One ledger's log as stored: perfect-subtree hashes read from the stored nodes (levels
STRIDE, 2·STRIDE, ...), hashed up from them in between, and from the entries' own hashes
below STRIDE. Proofs and roots of any size up to the log's come from here.

Reads are batched: an algorithm runs once with a recording reader to learn which
subtrees it needs, those are fetched in a few queries, and it runs again for real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from timebank.extensions import db
from timebank.ledger.operations.sql import dbapi_cursor
from timebank.transparency import merkle
from timebank.transparency.models import STRIDE, LogHead, LogNode

BLOCK = 1 << STRIDE
#: the blocks' level as ix_transparency_nodes_entry's condition names it
BLOCK_LEVEL = sa.text(f"transparency_nodes.level = {STRIDE}")
_PLACEHOLDER = b"\x00" * 32


def ledger_entries(ledger: str, after: int, upto: int, limit: int | None = None):
    """(id, hex hash) of the ledger's entries with after < id <= upto, in id order, as
    plain tuples: a range of the entries' primary key, each joined to its account.

    Read through the DB-API cursor: building a SQLAlchemy row per entry was half the
    time of appending a million of them (bench/transparency.py)."""
    cursor, pg = dbapi_cursor()
    mark = "%s" if pg else "?"
    # SQLite's planner would rather walk the few accounts of the ledger and each one's
    # entries through the (account_id, version) index, which for a unit's issuance
    # account means most of the ledger: a unary + keeps it on the id range (proofs at
    # 1,000,000 entries went from ~100 ms to a few). PostgreSQL plans this well.
    account = "e.account_id" if pg else "+e.account_id"
    sql = (
        f"SELECT e.id, e.hash FROM entries e JOIN accounts a ON a.id = {account} "
        f"WHERE e.id > {mark} AND e.id <= {mark} AND a.ledger = {mark} ORDER BY e.id"
    )
    params: list = [after, upto, ledger]
    if limit is not None:
        sql += f" LIMIT {mark}"
        params.append(limit)
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


@dataclass
class Block:
    """The leaves of one block of BLOCK leaves (the last one may be partial)."""

    entry_ids: list[int]
    leaves: list[bytes]


class StoredTree:
    """The log of ``ledger`` as its head, nodes and entries say now."""

    def __init__(self, head: LogHead):
        self.ledger = head.ledger
        self.size = head.size
        self.last_entry_id = head.last_entry_id
        self._stored: dict[tuple[int, int], LogNode | None] = {}
        self._blocks: dict[int, Block] = {}

    # ------------------------------------------------------------ the reader

    def node(self, level: int, index: int) -> bytes:
        """The hash of perfect subtree (level, index); it must lie within the log."""
        if level and level % STRIDE == 0:
            return self._stored_node(level, index).hash
        base = level - level % STRIDE
        width = 1 << (level - base)
        if base == 0:
            nodes = [self.leaf(index * width + j) for j in range(width)]
        else:
            nodes = [self._stored_node(base, index * width + j).hash for j in range(width)]
        while len(nodes) > 1:
            nodes = [merkle.node_hash(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
        return nodes[0]

    def leaf(self, index: int) -> bytes:
        block = self.block(index >> STRIDE)
        offset = index & (BLOCK - 1)
        if offset >= len(block.leaves):
            raise LookupError(f"log {self.ledger}: leaf {index} has no entry (one was removed)")
        return block.leaves[offset]

    def run(self, algorithm: Callable[[merkle.NodeReader], object]):
        """``algorithm(reader)`` after fetching, in a few queries, every subtree it reads."""
        wanted: set[tuple[int, int]] = set()

        def record(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return _PLACEHOLDER

        algorithm(record)
        self.prefetch(wanted)
        return algorithm(self.node)

    # ------------------------------------------------------------ the API the operations use

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return self.run(lambda node: merkle.root(size, node))

    def frontier(self) -> dict[int, bytes]:
        """The right edge of the whole log: level -> perfect subtree hash."""
        levels = merkle.frontier_levels(self.size)
        wanted = {(level, (self.size >> level) - 1) for level in levels}
        self.prefetch(wanted)
        return {level: self.node(level, (self.size >> level) - 1) for level in levels}

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        return self.run(lambda node: merkle.inclusion_path(index, size, node))

    def consistency_path(self, old_size: int, new_size: int) -> list[bytes]:
        return self.run(lambda node: merkle.consistency_path(old_size, new_size, node))

    def leaf_index(self, entry_id: int) -> int | None:
        """The position of an entry of this ledger in the log; None if it is not in it."""
        if entry_id > self.last_entry_id:
            return None
        row = db.session.scalar(
            sa.select(LogNode)
            .where(
                LogNode.ledger == self.ledger,
                BLOCK_LEVEL,  # a literal, as the partial index says it
                LogNode.last_entry_id >= entry_id,
            )
            .order_by(LogNode.last_entry_id)
            .limit(1)
        )
        number = row.idx if row is not None else self.size >> STRIDE
        if row is not None:
            self._stored[(STRIDE, row.idx)] = row
        block = self.block(number)
        try:
            return (number << STRIDE) + block.entry_ids.index(entry_id)
        except ValueError:
            return None

    # ------------------------------------------------------------ fetching

    def prefetch(self, wanted: Iterable[tuple[int, int]]) -> None:
        """Fetch the stored nodes and blocks of entries that subtrees ``wanted`` need."""
        stored: set[tuple[int, int]] = set()
        blocks: set[int] = set()
        for level, index in wanted:
            if level and level % STRIDE == 0:
                stored.add((level, index))
                continue
            base = level - level % STRIDE
            width = 1 << (level - base)
            children = range(index * width, (index + 1) * width)
            if base:
                stored.update((base, child) for child in children)
            else:
                blocks.update(child >> STRIDE for child in children)
        for number in blocks:
            stored.update({(STRIDE, number), (STRIDE, number - 1)} - {(STRIDE, -1)})
        self._fetch_nodes(stored)
        for number in sorted(blocks - set(self._blocks)):
            self._blocks[number] = self._read_block(number)

    def _fetch_nodes(self, keys: set[tuple[int, int]]) -> None:
        """Fetch the stored nodes ``keys`` not fetched yet, in one query."""
        missing = keys - set(self._stored)
        if not missing:
            return
        by_level: dict[int, list[int]] = {}
        for level, index in missing:
            by_level.setdefault(level, []).append(index)
        wanted = sa.or_(
            *(sa.and_(LogNode.level == level, LogNode.idx.in_(indexes))
              for level, indexes in by_level.items())
        )  # fmt: skip
        query = sa.select(LogNode).where(LogNode.ledger == self.ledger, wanted)
        found = {(row.level, row.idx): row for row in db.session.scalars(query)}
        for key in missing:
            self._stored[key] = found.get(key)

    def _stored_node(self, level: int, index: int) -> LogNode:
        if (level, index) not in self._stored:
            self._fetch_nodes({(level, index)})
        row = self._stored[(level, index)]
        if row is None:
            raise LookupError(f"log {self.ledger}: no stored node at level {level}, #{index}")
        return row

    def block(self, number: int) -> Block:
        if number not in self._blocks:
            self._fetch_nodes({(STRIDE, number)} | ({(STRIDE, number - 1)} if number else set()))
            self._blocks[number] = self._read_block(number)
        return self._blocks[number]

    def _read_block(self, number: int) -> Block:
        """The entries of block ``number``: a stored one's range, or the partial last one
        (after the last full block, up to the head's last entry)."""
        row = self._stored.get((STRIDE, number))
        if row is not None:
            after, upto = row.first_entry_id - 1, row.last_entry_id
        elif number < self.size >> STRIDE:
            raise LookupError(f"log {self.ledger}: full block {number} has no stored node")
        else:
            previous = self._stored.get((STRIDE, number - 1)) if number else None
            if number and previous is None:
                raise LookupError(f"log {self.ledger}: block {number} follows no stored block")
            after = previous.last_entry_id if previous is not None else 0
            upto = self.last_entry_id
        rows = ledger_entries(self.ledger, after, upto)
        ids = [row[0] for row in rows]
        return Block(ids, merkle.leaves_of_entries(row[1] for row in rows))
