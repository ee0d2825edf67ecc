"""Proofs anyone can check against a signed checkpoint: that entries are in a ledger's log
(inclusion), and that a smaller tree is a prefix of a larger one (consistency).

For certificates (the reports module): ``checkpoint_covering(entry_id)`` names the first
signed checkpoint whose tree holds an entry, and ``inclusion_proofs(entry_ids)`` proves a
set of one ledger's entries against one signed checkpoint (the newest, or one of a given
size). The public endpoints /transparency/proof/... call the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from timebank.extensions import db
from timebank.ledger.operations import ACCOUNTS, ENTRIES
from timebank.ledger.operations.accounts import check_ledger
from timebank.transparency import merkle
from timebank.transparency.errors import (
    EntryNotFound,
    EntryNotLogged,
    LogInconsistent,
    MixedLedgers,
    NoCheckpoint,
    ProofBeyondTree,
    ProofRangeReversed,
)
from timebank.transparency.models import SignedCheckpoint
from timebank.transparency.operations.checkpoints import checkpoint_of_size, latest_checkpoint
from timebank.transparency.operations.log import read_head
from timebank.transparency.operations.tree import StoredTree

#: entries one inclusion request may name
MAX_ENTRIES = 100
#: the API's field errors (English, as the API's are)
REVERSED = {"from": ["Must not be larger than to."]}
BEYOND = {"to": ["Beyond the log's size."]}


@dataclass(frozen=True)
class InclusionProof:
    entry_id: int
    #: the entry's stored hash (hex): the leaf is SHA-256(0x00 || these 32 bytes)
    entry_hash: str
    leaf_index: int
    path: list[bytes]

    @property
    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(bytes.fromhex(self.entry_hash))


@dataclass(frozen=True)
class InclusionBundle:
    """Proofs of some entries of one ledger against one signed checkpoint."""

    ledger: str
    checkpoint: SignedCheckpoint
    proofs: list[InclusionProof]

    def verify(self) -> bool:
        """Every proof leads to the checkpoint's root (what a verifier does offline)."""
        root = bytes.fromhex(self.checkpoint.root_hash)
        size = self.checkpoint.tree_size
        return all(
            merkle.verify_inclusion(p.leaf_index, size, p.leaf_hash, p.path, root)
            for p in self.proofs
        )


@dataclass(frozen=True)
class ConsistencyProof:
    ledger: str
    old_size: int
    new_size: int
    path: list[bytes]


def _entries(entry_ids: Sequence[int]) -> tuple[str, dict[int, str]]:
    """(ledger, entry id -> hash) of the entries; raises EntryNotFound, MixedLedgers."""
    rows = db.session.execute(
        sa.select(ENTRIES.c.id, ENTRIES.c.hash, ACCOUNTS.c.ledger)
        .join(ACCOUNTS, ACCOUNTS.c.id == ENTRIES.c.account_id)
        .where(ENTRIES.c.id.in_(entry_ids))
    ).all()
    found = {row[0]: row for row in rows}
    missing = [entry_id for entry_id in entry_ids if entry_id not in found]
    if missing:
        raise EntryNotFound("Entry %(id)s does not exist.", params={"id": missing[0]})
    ledgers = {row[2] for row in rows}
    if len(ledgers) != 1:
        raise MixedLedgers()
    return ledgers.pop(), {row[0]: row[1] for row in rows}


def _tree(ledger: str) -> StoredTree:
    head = read_head(ledger)
    if head is None or head.size == 0:
        raise EntryNotLogged("Nothing of the %(ledger)s ledger is in the log yet.",
                             params={"ledger": ledger})  # fmt: skip
    return StoredTree(head)


def _leaf_indexes(tree: StoredTree, hashes: dict[int, str]) -> dict[int, int]:
    indexes = {}
    for entry_id in hashes:
        index = tree.leaf_index(entry_id)
        if index is None:
            raise EntryNotLogged(
                "Entry %(id)s is not in the log yet; the log takes entries within a minute.",
                params={"id": entry_id},
            )
        indexes[entry_id] = index
    return indexes


def inclusion_proofs(
    entry_ids: Sequence[int], *, tree_size: int | None = None, limit: int | None = MAX_ENTRIES
) -> InclusionBundle:
    """Proofs that the entries (one ledger's, the first ``limit`` of them; None: all, as a
    certificate's seal needs) are in the log, against the signed checkpoint of
    ``tree_size`` (default: the newest). Raises EntryNotFound, MixedLedgers,
    EntryNotLogged (not in the log, or beyond that checkpoint), NoCheckpoint,
    CheckpointNotFound."""
    entry_ids = list(dict.fromkeys(entry_ids))[:limit]
    ledger, hashes = _entries(entry_ids)
    checkpoint = (
        latest_checkpoint(ledger) if tree_size is None else checkpoint_of_size(ledger, tree_size)
    )
    if checkpoint is None:
        raise NoCheckpoint(
            "No checkpoint of the %(ledger)s log has been signed yet.", params={"ledger": ledger}
        )
    tree = _tree(ledger)
    indexes = _leaf_indexes(tree, hashes)
    late = [e for e, index in indexes.items() if index >= checkpoint.tree_size]
    if late:
        raise EntryNotLogged(
            "Entry %(id)s came after the checkpoint of %(size)s entries; ask for a later one.",
            params={"id": late[0], "size": checkpoint.tree_size},
        )
    try:
        proofs = [
            InclusionProof(e, hashes[e], indexes[e],
                           tree.inclusion_path(indexes[e], checkpoint.tree_size))
            for e in entry_ids
        ]  # fmt: skip
    except LookupError as error:
        raise LogInconsistent(
            "The log does not match its entries: %(detail)s.", params={"detail": str(error)}
        ) from None
    return InclusionBundle(ledger, checkpoint, proofs)


def checkpoint_covering(entry_id: int) -> SignedCheckpoint:
    """The first signed checkpoint whose tree holds the entry: the one a certificate
    issued for it can name. Raises EntryNotFound, EntryNotLogged."""
    ledger, hashes = _entries([entry_id])
    index = _leaf_indexes(_tree(ledger), hashes)[entry_id]
    found = db.session.scalar(
        sa.select(SignedCheckpoint)
        .where(SignedCheckpoint.ledger == ledger, SignedCheckpoint.tree_size > index)
        .order_by(SignedCheckpoint.tree_size)
        .limit(1)
    )
    if found is None:
        raise EntryNotLogged(
            "No signed checkpoint covers entry %(id)s yet; one is signed every hour.",
            params={"id": entry_id},
        )
    return found


def current_head(ledger: str) -> dict:
    """The log's size and the root its stored tree gives now (unsigned): what a verifier
    checks still extends the newest signed checkpoint. Raises LogInconsistent."""
    check_ledger(ledger)
    head = read_head(ledger)
    if head is None or head.size == 0:
        return {"ledger": ledger, "tree_size": 0, "root_hash": merkle.EMPTY_ROOT}
    try:
        root = StoredTree(head).root()
    except LookupError as error:
        raise LogInconsistent(
            "The log does not match its entries: %(detail)s.", params={"detail": str(error)}
        ) from None
    return {"ledger": ledger, "tree_size": head.size, "root_hash": root}


def consistency_proof(ledger: str, old_size: int, new_size: int) -> ConsistencyProof:
    """The proof that the log's first ``old_size`` leaves are a prefix of its first
    ``new_size``. Raises ProofRangeReversed, ProofBeyondTree, LogInconsistent."""
    check_ledger(ledger)
    if old_size > new_size:
        raise ProofRangeReversed(errors=REVERSED)
    head = read_head(ledger)
    size = head.size if head is not None else 0
    if new_size > size:
        raise ProofBeyondTree(
            "The %(ledger)s log holds %(size)s entries; %(asked)s is beyond it.",
            params={"ledger": ledger, "size": size, "asked": new_size},
            errors=BEYOND,
        )
    try:
        path = StoredTree(head).consistency_path(old_size, new_size) if old_size else []
    except LookupError as error:
        raise LogInconsistent(
            "The log does not match its entries: %(detail)s.", params={"detail": str(error)}
        ) from None
    return ConsistencyProof(ledger, old_size, new_size, path)
