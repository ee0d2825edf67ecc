"""The hash chain's canonical content: one definition, used by posting and by verify.

Each entry stores the SHA-256 of its account's previous entry and of its own content,
the transfer's included, so changing any posted row breaks its account's chain.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def canonical_time(moment: datetime) -> str:
    """Naive UTC with microseconds: the text SQLite stores, and what PostgreSQL returns."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def transfer_digest(
    ledger,
    debit_id,
    credit_id,
    amount,
    code,
    key,
    ref_type,
    ref_id,
    corrects_id,
    link_id,
    actor_id,
    approver_id,
    memo,
) -> str:
    """SHA-256 of a transfer's columns, in this order, as stored (None as ``None``)."""
    text = (
        f"{ledger}|{debit_id}|{credit_id}|{amount}|{code}|{key}|{ref_type}|{ref_id}|"
        f"{corrects_id}|{link_id}|{actor_id}|{approver_id}|{memo}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(
    prev_hash: str,
    account_id: int,
    version: int,
    transfer_id: int,
    amount: int,
    balance_after: int,
    created_at: str,
    digest: str,
) -> str:
    """SHA-256 of an entry chained to its account's previous one (``prev_hash``)."""
    text = (
        f"{prev_hash}|{account_id}|{version}|{transfer_id}|{amount}|{balance_after}|"
        f"{created_at}|{digest}"
    )
    return hashlib.sha256(text.encode()).hexdigest()
