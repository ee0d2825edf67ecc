"""Transparency-log operations; callers import the package (``from timebank.transparency
import operations as transparency``) and find every public name here:

- tree.py         one ledger's log as stored: subtree hashes, roots, proof paths
- log.py          the horizon, and appending final entries to each ledger's log
- notes.py        C2SP checkpoint bodies, signature lines, cosignatures
- checkpoints.py  signing checkpoints (never one inconsistent with the last), witness keys,
                  cosignatures
- proofs.py       inclusion and consistency proofs; the checkpoint covering an entry
- verify.py       the log's part of ``ledger verify``
- notice.py       a community's public totals (公示)
"""

from timebank.transparency.operations.checkpoints import (
    PublishedCheckpoint,
    add_cosignature,
    checkpoint_of_size,
    checkpoint_signature_ok,
    get_checkpoint,
    latest_checkpoint,
    latest_published,
    list_checkpoints,
    origin_of,
    published,
    register_after_signing,
    register_witness_key,
    sign_checkpoint,
    sign_checkpoints,
    sign_now,
    witness_keys,
    witness_name,
)
from timebank.transparency.operations.log import (
    append_entries,
    append_ledger,
    entry_horizon,
    read_head,
)
from timebank.transparency.operations.notice import (
    PeriodTotals,
    community_totals,
    get_community,
    list_communities,
    register_totals,
)
from timebank.transparency.operations.proofs import (
    MAX_ENTRIES,
    ConsistencyProof,
    InclusionBundle,
    InclusionProof,
    checkpoint_covering,
    consistency_proof,
    current_head,
    inclusion_proofs,
)
from timebank.transparency.operations.tree import StoredTree
from timebank.transparency.operations.verify import LogReport, ledger_check, verify_logs

__all__ = [
    "MAX_ENTRIES",
    "ConsistencyProof",
    "InclusionBundle",
    "InclusionProof",
    "LogReport",
    "PeriodTotals",
    "PublishedCheckpoint",
    "StoredTree",
    "add_cosignature",
    "append_entries",
    "append_ledger",
    "checkpoint_covering",
    "checkpoint_of_size",
    "checkpoint_signature_ok",
    "community_totals",
    "register_totals",
    "consistency_proof",
    "current_head",
    "entry_horizon",
    "get_checkpoint",
    "get_community",
    "inclusion_proofs",
    "latest_checkpoint",
    "latest_published",
    "ledger_check",
    "list_checkpoints",
    "list_communities",
    "origin_of",
    "published",
    "sign_now",
    "read_head",
    "register_after_signing",
    "register_witness_key",
    "sign_checkpoint",
    "sign_checkpoints",
    "verify_logs",
    "witness_keys",
    "witness_name",
]
