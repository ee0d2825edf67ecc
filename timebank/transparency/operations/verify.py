"""``ledger verify``'s part for the transparency log: each ledger's log is recomputed from
its entries and compared, subtree by subtree, with what is stored, and every signed
checkpoint (and cosignature) with the roots and keys. The first difference is named."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from timebank.core import signing
from timebank.extensions import db
from timebank.ledger.models import LEDGERS
from timebank.transparency import merkle
from timebank.transparency.models import (
    STRIDE,
    Cosignature,
    LogNode,
    SignedCheckpoint,
    WitnessKey,
)
from timebank.transparency.operations import notes
from timebank.transparency.operations.checkpoints import checkpoint_signature_ok
from timebank.transparency.operations.log import CHUNK, read_head
from timebank.transparency.operations.tree import ledger_entries


@dataclass
class LogReport:
    leaves: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    problem: str | None = None


def verify_logs(progress: Callable[[int], None] | None = None) -> dict[str, LogReport]:
    """Each ledger's log checked against its entries and its signed checkpoints; a report
    with a ``problem`` stops the check there."""
    reports = {}
    for ledger in LEDGERS:
        reports[ledger] = report = _LogCheck(ledger, progress).run()
        if report.problem:
            break
    return reports


def ledger_check(report) -> str | None:
    """The check ``verify_ledger`` runs after its own (registered by create_app): adds the
    logs' counts to the report and returns the first problem."""
    logs = verify_logs()
    report.extra["transparency"] = {
        ledger: {"leaves": r.leaves, "checkpoints": r.checkpoints, "cosignatures": r.cosignatures}
        for ledger, r in logs.items()
    }
    return next((r.problem for r in logs.values() if r.problem), None)


@dataclass
class _LogCheck:
    ledger: str
    progress: Callable[[int], None] | None
    report: LogReport = field(default_factory=LogReport)
    stored: dict[tuple[int, int], LogNode] = field(default_factory=dict)
    block_first: dict[int, int] = field(default_factory=dict)
    roots: dict[int, bytes] = field(default_factory=dict)

    def run(self) -> LogReport:
        head = read_head(self.ledger)
        checkpoints = list(
            db.session.scalars(
                sa.select(SignedCheckpoint)
                .where(SignedCheckpoint.ledger == self.ledger)
                .order_by(SignedCheckpoint.tree_size, SignedCheckpoint.id)
            )
        )
        self.stored = {
            (node.level, node.idx): node
            for node in db.session.scalars(sa.select(LogNode).where(LogNode.ledger == self.ledger))
        }
        size, last_entry = (head.size, head.last_entry_id) if head else (0, 0)
        wanted = sorted({c.tree_size for c in checkpoints if c.tree_size <= size} | {size})
        problem = self._replay(last_entry, wanted, size)
        if problem is None and head is not None and self.roots[size].hex() != head.root_hash:
            problem = f"{self.ledger} log: its head's root differs from its {size} leaves'"
        problem = problem or self._leftover_nodes() or self._checkpoints(checkpoints, size)
        self.report.problem = problem
        return self.report

    def _replay(self, last_entry: int, sizes: list[int], size: int) -> str | None:
        """Rebuild the tree from the entries, comparing each stored subtree as it completes
        and noting the root at every size in ``sizes``."""
        frontier: dict[int, bytes] = {}
        count, after, stops = 0, 0, iter(sizes)
        stop = next(stops)
        if stop == 0:
            self.roots[0] = merkle.EMPTY_ROOT
            stop = next(stops, None)
        while after < last_entry:
            rows = ledger_entries(self.ledger, after, last_entry, CHUNK)
            if not rows:
                break
            after, fetched = rows[-1][0], len(rows)
            while rows:
                take = len(rows) if stop is None else min(len(rows), stop - count)
                piece, rows = rows[:take], rows[take:]
                frontier, problem = self._extend(count, frontier, piece)
                if problem:
                    return problem
                count += len(piece)
                if count == stop:
                    self.roots[stop] = merkle.frontier_root(frontier)
                    stop = next(stops, None)
            if self.progress is not None:
                self.progress(fetched)
        self.report.leaves = count
        if count != size:
            return (
                f"{self.ledger} log: its head says {size} leaves, but {count} entries of the "
                f"ledger are at or below entry {last_entry}: an entry was removed or added"
            )
        return None

    def _extend(self, start: int, frontier: dict[int, bytes], rows) -> tuple[dict, str | None]:
        ids = [row[0] for row in rows]
        for position in range(-start % (1 << STRIDE), len(ids), 1 << STRIDE):
            self.block_first[(start + position) >> STRIDE] = ids[position]
        frontier, completed = merkle.extend(
            start, frontier, merkle.leaves_of_entries(row[1] for row in rows),
            keep=lambda level: level % STRIDE == 0,
        )  # fmt: skip
        for level, first_index, hashes in completed:
            for offset, value in enumerate(hashes):
                index = first_index + offset
                first = self.block_first[index << (level - STRIDE)]
                last = ids[((index + 1) << level) - 1 - start]
                node = self.stored.pop((level, index), None)
                if node is None or (node.hash, node.first_entry_id, node.last_entry_id) != (
                    value,
                    first,
                    last,
                ):
                    return frontier, (
                        f"{self.ledger} log: leaves {index << level}-{((index + 1) << level) - 1}"
                        f" (entries {first}-{last}) do not hash to the stored subtree at level "
                        f"{level}, #{index}: an entry was changed, removed or reordered, or the "
                        "log was rewritten"
                    )
        return frontier, None

    def _leftover_nodes(self) -> str | None:
        if self.stored:
            level, index = min(self.stored)
            return (
                f"{self.ledger} log: a stored subtree (level {level}, #{index}) covers leaves "
                "the log does not have"
            )
        return None

    def _checkpoints(self, checkpoints: list[SignedCheckpoint], size: int) -> str | None:
        for checkpoint in checkpoints:
            where = f"{self.ledger} checkpoint {checkpoint.id} ({checkpoint.tree_size} entries)"
            if not checkpoint_signature_ok(checkpoint):
                return f"{where}: its signature does not verify with the deployment's key"
            if checkpoint.tree_size > size:
                return f"{where}: the log has only {size} leaves; it was cut back"
            if self.roots[checkpoint.tree_size].hex() != checkpoint.root_hash:
                return f"{where}: the log no longer has the root that was signed"
            self.report.checkpoints += 1
        return self._cosignatures([c.id for c in checkpoints], checkpoints)

    def _cosignatures(self, ids: list[int], checkpoints: list[SignedCheckpoint]) -> str | None:
        bodies = {c.id: c.body for c in checkpoints}
        rows = db.session.execute(
            sa.select(Cosignature, WitnessKey)
            .join(WitnessKey, WitnessKey.id == Cosignature.witness_key_id)
            .where(Cosignature.checkpoint_id.in_(ids))
        ).all() if ids else []  # fmt: skip
        for cosignature, key in rows:
            parsed = notes.parse_cosignature(cosignature.signature)
            message = notes.cosigned_message(bodies[cosignature.checkpoint_id], parsed.timestamp)
            public = base64.b64decode(key.public_key)
            if parsed.key_id.hex() != key.key_id or not signing.verify(
                public, message, parsed.signature
            ):
                return (
                    f"{self.ledger} checkpoint {cosignature.checkpoint_id}: cosignature "
                    f"{cosignature.id} does not verify with witness key {key.key_id}"
                )
            self.report.cosignatures += 1
        return None
