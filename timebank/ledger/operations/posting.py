"""Posting: one transfer, or several linked ones, all or none.

A posting locks the accounts it touches (PostgreSQL: SELECT ... FOR UPDATE in id order;
SQLite: the transaction began with BEGIN IMMEDIATE), checks under that lock whether its
keys were posted before, checks balances, then appends the transfers, their two entries
each (chained to the account's previous entry by SHA-256) and the accounts' new cached
balance, version and head. Nothing is ever updated or deleted in transfers or entries;
the database's triggers refuse it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from sqlalchemy.orm import make_transient_to_detached

from timebank.core import metrics
from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput
from timebank.extensions import db
from timebank.ledger.errors import (
    AccountNotFound,
    IdempotencyConflict,
    IdempotencyInProgress,
    IdempotencyKeyRequired,
    InsufficientBalance,
    InvalidAmount,
    LedgerMismatch,
    SameAccount,
    TransferNotFound,
)
from timebank.ledger.models import TRANSFER_CODES, Transfer
from timebank.ledger.operations.accounts import check_ledger, expire_identity_map
from timebank.ledger.operations.hashing import canonical_time, entry_hash, transfer_digest
from timebank.ledger.operations.lots import track_point_lots
from timebank.ledger.operations.sql import TRANSFERS, dbapi_cursor, insert_sql, placeholders


@dataclass(frozen=True)
class TransferRequest:
    """What a caller asks to post. Two requests with the same key must be equal."""

    ledger: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    code: str
    idempotency_key: str
    actor_id: int | None = None
    approver_id: int | None = None
    reference_type: str | None = None
    reference_id: str | None = None
    corrects_id: int | None = None
    memo: str | None = None

    def body_hash(self) -> str:
        fields_ = {name: getattr(self, name) for name in self.__dataclass_fields__}
        body = json.dumps(fields_, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()


class Posted(list[Transfer]):
    """The transfers of one posting, in the order asked for.

    ``replayed`` is True when their keys had been posted before with the same bodies, so
    these are the originals. It is decided under the accounts' locks: of concurrent
    twins, exactly one sees False.
    """

    def __init__(self, transfers: Iterable[Transfer] = (), *, replayed: bool = False):
        super().__init__(transfers)
        self.replayed = replayed


def validate(request: TransferRequest) -> None:
    """Raise InvalidInput (``invalid_amount``, ``same_account``, ``unknown_ledger``,
    ``idempotency_key_required``, ...) unless the request is well formed."""
    check_ledger(request.ledger)
    if (
        not isinstance(request.amount, int)
        or isinstance(request.amount, bool)
        or request.amount <= 0
    ):
        raise InvalidAmount(
            "The amount must be a positive whole number.",
            errors={"amount": ["Must be a positive integer."]},
        )
    if request.amount > 10**12:
        raise InvalidAmount("The amount is too large.")
    if request.debit_account_id == request.credit_account_id:
        raise SameAccount("A transfer needs two different accounts.")
    if request.code not in TRANSFER_CODES:
        raise InvalidInput("Unknown transfer code %(code)s.", params={"code": request.code})
    key = request.idempotency_key or ""
    if not 1 <= len(key) <= 120:
        raise IdempotencyKeyRequired(
            "An idempotency key of 1 to 120 characters is required.",
            errors={"idempotency_key": ["Required."]},
        )


_ACCOUNT_FIELDS = (
    "id", "ledger", "kind", "member_id", "unit_id", "allow_negative", "balance", "held",
    "version", "head_hash",
)  # fmt: skip


def lock_accounts(account_ids: Iterable[int]) -> dict[int, dict]:
    """Lock the accounts (PostgreSQL: FOR UPDATE in id order) and read their state.

    Raises AccountNotFound for an id that names no account.
    """
    ids = sorted(set(account_ids))
    cursor, pg = dbapi_cursor()
    cursor.execute(
        f"SELECT {', '.join(_ACCOUNT_FIELDS)} FROM accounts "
        f"WHERE id IN ({placeholders(len(ids), pg)}) ORDER BY id{' FOR UPDATE' if pg else ''}",
        ids,
    )
    rows = {row[0]: dict(zip(_ACCOUNT_FIELDS, row, strict=True)) for row in cursor.fetchall()}
    cursor.close()
    missing = [i for i in ids if i not in rows]
    if missing:
        raise AccountNotFound("Account %(id)s does not exist.", params={"id": missing[0]})
    return rows


def idempotency_conflict(key: str) -> IdempotencyConflict:
    return IdempotencyConflict(
        "The idempotency key %(key)s was already used for a different request; "
        "nothing was changed.",
        params={"key": key},
    )


def existing_transfers(requests: Sequence[TransferRequest]) -> list[Transfer] | None:
    """The transfers already posted under these keys, if all are; conflict if they differ."""
    return _replayed(requests, _posted_keys(requests))


def get_transfer(transfer_id: int) -> Transfer:
    """Return the transfer or raise NotFound."""
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None:
        raise TransferNotFound("Transfer %(id)s does not exist.", params={"id": transfer_id})
    return transfer


def post_transfer(**fields) -> Transfer:
    """Post one transfer (see ``post_linked``); a retry with the same key returns it."""
    return post_linked([TransferRequest(**fields)])[0]


def post_linked(
    requests: Sequence[TransferRequest],
    *,
    release_holds: dict[int, int] | None = None,
    now: datetime | None = None,
    new_keys: bool = False,
) -> Posted:
    """Post transfers all or none, in order; the same keys and bodies return the originals
    (``replayed``).

    ``release_holds`` maps account id -> amount of its ``held`` to release in the same
    step (used when a hold commits). ``new_keys``: the caller knows no transfer has these
    keys (e.g. ``hold:<id>`` of a hold it locked while pending), so they are not looked
    up; a key posted after all fails on its unique constraint (IdempotencyInProgress),
    never posts twice. Raises InvalidInput for a malformed request,
    IdempotencyConflict when a key was used for a different body, InsufficientBalance
    when a no-overdraft account would go below zero (nothing is posted then).
    """
    if not requests:
        return Posted()
    return post_groups([requests], release_holds=release_holds, now=now, new_keys=new_keys)[0]


def post_groups(
    groups: Sequence[Sequence[TransferRequest]],
    *,
    release_holds: dict[int, int] | None = None,
    now: datetime | None = None,
    new_keys: bool = False,
) -> list[Posted]:
    """Post several groups of linked transfers in one step: their accounts locked once,
    their keys checked once under that lock, and all appended together, so a batch holds
    the hot accounts (a community's issuance) for one short step, not for its whole
    transaction. Each group is decided as ``post_linked`` decides it: posted, or its
    originals returned (``replayed``); a group whose keys were used for other bodies, or
    only some of whose keys were posted, is an IdempotencyConflict and nothing is posted.
    ``new_keys`` as for ``post_linked``. Raises what ``post_linked`` raises.
    """
    groups = [list(group) for group in groups if group]
    requests = [request for group in groups for request in group]
    if not requests:
        return []
    for request in requests:
        validate(request)
    if len({r.idempotency_key for r in requests}) != len(requests):
        raise InvalidInput("Linked transfers need distinct idempotency keys.")
    account_ids = {r.debit_account_id for r in requests} | {r.credit_account_id for r in requests}
    accounts = lock_accounts(account_ids | set(release_holds or {}))
    # Keys are checked once, under the lock, so a twin that committed while we waited is
    # seen; a replay waits for the lock too, but new transfers save a query (bench/ledger.py).
    found = {} if new_keys else _posted_keys(requests)
    outcome: list[Posted | None] = [_replayed(group, found) if found else None for group in groups]
    new = [group for group, done in zip(groups, outcome, strict=True) if done is None]
    if new:
        for account_id, amount in (release_holds or {}).items():
            accounts[account_id]["held"] -= amount
        _check_balances([r for group in new for r in group], accounts)
        appended = iter(_append(new, accounts, release_holds or {}, now or utcnow()))
        outcome = [done if done is not None else Posted(next(appended)) for done in outcome]
        if metrics.enabled():
            for request in (r for group in new for r in group):
                metrics.count_after_commit("transfers", request.code)
    return outcome


def _posted_keys(requests: Sequence[TransferRequest]) -> dict[str, tuple[int, str]]:
    """key -> (transfer id, body hash) of those among the requests' keys already posted."""
    keys = [r.idempotency_key for r in requests]
    cursor, pg = dbapi_cursor()
    cursor.execute(
        "SELECT idempotency_key, id, body_hash FROM transfers "
        f"WHERE idempotency_key IN ({placeholders(len(keys), pg)})",
        keys,
    )
    found = {key: (transfer_id, body_hash) for key, transfer_id, body_hash in cursor.fetchall()}
    cursor.close()
    return found


def _replayed(group: Sequence[TransferRequest], found: dict) -> Posted | None:
    """The group's transfers posted before (None: none of its keys was); a conflict if
    they differ from what is asked now, or only some were posted."""
    if not any(r.idempotency_key in found for r in group):
        return None
    for request in group:
        existing = found.get(request.idempotency_key)
        if existing is None or existing[1] != request.body_hash():
            raise idempotency_conflict(request.idempotency_key)
    return Posted([db.session.get(Transfer, found[r.idempotency_key][0]) for r in group],
                  replayed=True)  # fmt: skip


def _check_balances(requests: Sequence[TransferRequest], accounts: dict[int, dict]) -> None:
    """Raise LedgerMismatch or InsufficientBalance unless the requests fit, taken in order."""
    projected = {account_id: row["balance"] for account_id, row in accounts.items()}
    for request in requests:
        debit = accounts[request.debit_account_id]
        credit = accounts[request.credit_account_id]
        if debit["ledger"] != request.ledger or credit["ledger"] != request.ledger:
            raise LedgerMismatch(
                "Both accounts must belong to the %(ledger)s ledger.",
                params={"ledger": request.ledger},
            )
        available = projected[request.debit_account_id] - debit["held"]
        if not debit["allow_negative"] and available < request.amount:
            raise InsufficientBalance(
                "Not enough %(ledger)s: %(available)s available, %(amount)s needed.",
                params={"ledger": request.ledger, "available": available, "amount": request.amount},
            )
        projected[request.debit_account_id] -= request.amount
        projected[request.credit_account_id] += request.amount


# ---------------------------------------------------------------- appending (the hot path)

_TRANSFER_COLUMNS = [c.key for c in TRANSFERS.columns if c.key != "id"]
_TRANSFER_CREATED_AT = _TRANSFER_COLUMNS.index("created_at")
_ENTRY_COLUMNS = (
    "transfer_id", "account_id", "amount", "balance_after", "version", "prev_hash", "hash",
    "created_at",
)  # fmt: skip


def _append(groups, accounts, release_holds, now) -> list[list[Transfer]]:
    """Write the checked groups: transfers (a link id per group of more than one), chained
    entries, the accounts' new state. Returns each group's transfers."""
    posted = []
    for group in groups:
        link_id = str(uuid.uuid4()) if len(group) > 1 else None
        posted.append([_new_transfer(request, link_id, now) for request in group])
    transfers = [transfer for group in posted for transfer in group]
    db.session.flush()  # whatever the caller added first (cheap when there is nothing)
    stamp = canonical_time(now)
    cursor, pg = dbapi_cursor()
    try:
        # sqlite3 gets the text SQLAlchemy would store; psycopg a naive UTC timestamp.
        created = now.astimezone(UTC).replace(tzinfo=None) if pg else stamp
        _insert_transfers(cursor, pg, transfers, created)
        state = {
            account_id: {
                "balance": row["balance"],
                "version": row["version"],
                "head": row["head_hash"],
            }
            for account_id, row in accounts.items()
        }
        entries = _chain_entries(transfers, state, stamp, created)
        cursor.execute(insert_sql("entries", _ENTRY_COLUMNS, len(transfers) * 2, pg), entries)
        _save_accounts(cursor, pg, state, accounts, release_holds)
    finally:
        cursor.close()
    track_point_lots(transfers, accounts, now)
    expire_identity_map(state)
    return posted


def _new_transfer(request: TransferRequest, link_id: str | None, now: datetime) -> Transfer:
    return Transfer(
        ledger=request.ledger,
        debit_account_id=request.debit_account_id,
        credit_account_id=request.credit_account_id,
        amount=request.amount,
        code=request.code,
        reference_type=request.reference_type,
        reference_id=request.reference_id,
        corrects_id=request.corrects_id,
        link_id=link_id,
        idempotency_key=request.idempotency_key,
        body_hash=request.body_hash(),
        actor_id=request.actor_id,
        approver_id=request.approver_id,
        memo=request.memo,
        created_at=now,
    )


def _insert_transfers(cursor, pg: bool, transfers: list[Transfer], created) -> None:
    """INSERT the transfers and give each its id, as a persistent ORM object.

    Raises IdempotencyInProgress when the unique key lost a race we could not see (the
    twin had not committed yet when we looked).
    """
    # one statement for them all; RETURNING's order is not promised, so ids come back
    # with their (unique) keys
    sql = insert_sql("transfers", _TRANSFER_COLUMNS, len(transfers), pg, returning=True)
    values = []
    for transfer in transfers:
        row = [getattr(transfer, c) for c in _TRANSFER_COLUMNS]
        row[_TRANSFER_CREATED_AT] = created
        values += row
    try:
        cursor.execute(sql + ", idempotency_key", values)
        by_key = {key: transfer_id for transfer_id, key in cursor.fetchall()}
    except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation):
        raise IdempotencyInProgress(
            "A request with this idempotency key is being posted right now; retry it.",
        ) from None
    ids = [by_key[transfer.idempotency_key] for transfer in transfers]
    for transfer, transfer_id in zip(transfers, ids, strict=True):
        transfer.id = transfer_id
        make_transient_to_detached(transfer)
        db.session.add(transfer)


def _chain_entries(transfers: list[Transfer], state: dict[int, dict], stamp: str, created):
    """The two entries of each transfer as one flat list of values in _ENTRY_COLUMNS order,
    each hashed onto its account's chain; ``state`` (balance, version, head) moves along."""
    values = []
    for transfer in transfers:
        digest = transfer_digest(
            transfer.ledger,
            transfer.debit_account_id,
            transfer.credit_account_id,
            transfer.amount,
            transfer.code,
            transfer.idempotency_key,
            transfer.reference_type,
            transfer.reference_id,
            transfer.corrects_id,
            transfer.link_id,
            transfer.actor_id,
            transfer.approver_id,
            transfer.memo,
        )
        for account_id, amount in (
            (transfer.debit_account_id, -transfer.amount),
            (transfer.credit_account_id, transfer.amount),
        ):
            account = state[account_id]
            balance = account["balance"] = account["balance"] + amount
            version = account["version"] = account["version"] + 1
            prev_hash = account["head"]
            account["head"] = entry_hash(
                prev_hash, account_id, version, transfer.id, amount, balance, stamp, digest
            )
            values += (
                transfer.id, account_id, amount, balance, version, prev_hash, account["head"],
                created,
            )  # fmt: skip
    return values


def _save_accounts(cursor, pg: bool, state, accounts, release_holds) -> None:
    """UPDATE the cached balance, held, version and head of every account that changed."""
    mark = "%s" if pg else "?"
    cursor.executemany(
        f"UPDATE accounts SET balance = {mark}, held = {mark}, version = {mark}, "
        f"head_hash = {mark} WHERE id = {mark}",
        [
            (
                state[account_id]["balance"],
                accounts[account_id]["held"],
                state[account_id]["version"],
                state[account_id]["head"],
                account_id,
            )
            for account_id in sorted(state)
            if state[account_id]["version"] != accounts[account_id]["version"]
            or account_id in release_holds
        ],
    )
