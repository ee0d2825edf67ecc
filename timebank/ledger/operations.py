"""Ledger operations: open accounts, post transfers (single or linked), holds, corrections,
four-eyes manual credits, donations, point lots and expiry, verification and checkpoints.

Every posting locks the accounts it touches (PostgreSQL: SELECT ... FOR UPDATE in id order;
SQLite: the transaction began with BEGIN IMMEDIATE), checks balances, then appends the
transfer, its two entries (each chained to its account's previous entry by SHA-256) and
updates the accounts' cached balance, version and head. Nothing is ever updated or deleted
in transfers or entries; the database's triggers refuse it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from timebank.core.access import Target
from timebank.core.db import utcnow
from timebank.core.errors import FourEyes, InvalidInput, NotFound
from timebank.extensions import db
from timebank.ledger.errors import (
    AccountNotFound,
    AlreadyDecided,
    CorrectionExceedsOriginal,
    GuardianSelfDealing,
    HoldExpired,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    IdempotencyInProgress,
    IdempotencyKeyRequired,
    InsufficientBalance,
    InvalidAmount,
    LedgerMismatch,
    PendingCreditNotFound,
    RecipientNotFound,
    SameAccount,
    TransferNotFound,
    UnknownLedger,
)
from timebank.ledger.models import (
    GENESIS_HASH,
    LEDGERS,
    SYSTEM_KINDS,
    TRANSFER_CODES,
    Account,
    Checkpoint,
    Entry,
    Hold,
    PendingCredit,
    PointLot,
    Transfer,
)

ACCOUNTS = Account.__table__
ENTRIES = Entry.__table__
TRANSFERS = Transfer.__table__
LOTS = PointLot.__table__


# ---------------------------------------------------------------- accounts


def _owner_key(kind: str, *, member_id=None, unit_id=None, merchant_id=None) -> str:
    if kind == "member":
        return f"member:{member_id}"
    if kind == "merchant":
        return f"merchant:{merchant_id}"
    return f"unit:{unit_id}:{kind}"


def _check_ledger(ledger: str) -> None:
    if ledger not in LEDGERS:
        raise UnknownLedger(
            "Unknown ledger %(ledger)s; use HOURS or POINTS.",
            errors={"ledger": ["Unknown ledger."]},
            params={"ledger": ledger},
        )


def _open_account(ledger: str, kind: str, **owner) -> Account:
    """Get or create an account; safe when two transactions open the same one at once."""
    _check_ledger(ledger)
    owner_key = _owner_key(kind, **owner)
    query = sa.select(Account).where(Account.ledger == ledger, Account.owner_key == owner_key)
    account = db.session.scalar(query)
    if account is not None:
        return account
    values = {
        "ledger": ledger,
        "kind": kind,
        "owner_key": owner_key,
        "member_id": owner.get("member_id"),
        "unit_id": owner.get("unit_id"),
        "merchant_id": owner.get("merchant_id"),
        "allow_negative": kind in SYSTEM_KINDS,
        "balance": 0,
        "held": 0,
        "version": 0,
        "head_hash": GENESIS_HASH,
        "created_at": utcnow(),
    }
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Account)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["ledger", "owner_key"])
    )
    db.session.execute(statement)
    return db.session.scalar(query)


def member_account(member_id: int, ledger: str) -> Account:
    """The member's account in ``ledger`` (opened on first use); may not go negative."""
    return _open_account(ledger, "member", member_id=member_id)


def merchant_account(merchant_id: int, ledger: str) -> Account:
    """The merchant's account in ``ledger`` (opened on first use); may not go negative."""
    return _open_account(ledger, "merchant", merchant_id=merchant_id)


def system_account(unit_id: int, ledger: str, kind: str) -> Account:
    """A unit's system account: issuance, expiry, correction, settlement or pool."""
    if kind not in SYSTEM_KINDS:
        raise InvalidInput("Unknown system account kind %(kind)s.", params={"kind": kind})
    return _open_account(ledger, kind, unit_id=unit_id)


def get_account(account_id: int) -> Account:
    """Return the account or raise NotFound."""
    account = db.session.get(Account, account_id)
    if account is None:
        raise AccountNotFound("Account %(id)s does not exist.", params={"id": account_id})
    return account


def balances(member_id: int) -> dict[str, dict[str, int]]:
    """``{"HOURS": {"balance", "held", "available"}, "POINTS": {...}}`` for a member.

    One indexed read of at most two rows, whatever the length of the history.
    """
    rows = db.session.execute(
        sa.select(ACCOUNTS.c.ledger, ACCOUNTS.c.balance, ACCOUNTS.c.held).where(
            # naming every ledger lets the unique (ledger, owner_key) index find the rows
            ACCOUNTS.c.ledger.in_(LEDGERS),
            ACCOUNTS.c.owner_key == f"member:{member_id}",
        )
    )
    result = {ledger: {"balance": 0, "held": 0, "available": 0} for ledger in LEDGERS}
    for ledger, balance, held in rows:
        result[ledger] = {"balance": balance, "held": held, "available": balance - held}
    return result


# ---------------------------------------------------------------- hashing


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
    text = (
        f"{prev_hash}|{account_id}|{version}|{transfer_id}|{amount}|{balance_after}|"
        f"{created_at}|{digest}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- posting


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


def _validate(request: TransferRequest) -> None:
    _check_ledger(request.ledger)
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


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# The posting hot path speaks plain SQL on the DB-API cursor of the session's own
# connection (same transaction): SQLAlchemy's per-statement cost was most of a posting's
# time (bench/ledger.py). Statements are written once with %s and adapted for sqlite3.
_ACCOUNT_FIELDS = (
    "id", "ledger", "kind", "member_id", "unit_id", "allow_negative", "balance", "held",
    "version", "head_hash",
)  # fmt: skip


def _cursor():
    """(DB-API cursor of the session's connection, is PostgreSQL)."""
    connection = db.session.connection()
    return connection.connection.driver_connection.cursor(), connection.dialect.name == "postgresql"


def _placeholders(count: int, pg: bool) -> str:
    return ", ".join(["%s" if pg else "?"] * count)


def _lock_accounts(account_ids: Iterable[int]) -> dict[int, dict]:
    """Lock the accounts (PostgreSQL: FOR UPDATE in id order) and read their state."""
    ids = sorted(set(account_ids))
    cursor, pg = _cursor()
    cursor.execute(
        f"SELECT {', '.join(_ACCOUNT_FIELDS)} FROM accounts "
        f"WHERE id IN ({_placeholders(len(ids), pg)}) ORDER BY id{' FOR UPDATE' if pg else ''}",
        ids,
    )
    rows = {row[0]: dict(zip(_ACCOUNT_FIELDS, row, strict=True)) for row in cursor.fetchall()}
    cursor.close()
    missing = [i for i in ids if i not in rows]
    if missing:
        raise AccountNotFound("Account %(id)s does not exist.", params={"id": missing[0]})
    return rows


def _idempotency_conflict(key: str) -> IdempotencyConflict:
    return IdempotencyConflict(
        "The idempotency key %(key)s was already used for a different request; "
        "nothing was changed.",
        params={"key": key},
    )


def _existing_transfers(requests: Sequence[TransferRequest]) -> list[Transfer] | None:
    """The transfers already posted under these keys, if all are; conflict if they differ."""
    keys = [r.idempotency_key for r in requests]
    cursor, pg = _cursor()
    cursor.execute(
        "SELECT idempotency_key, id, body_hash FROM transfers "
        f"WHERE idempotency_key IN ({_placeholders(len(keys), pg)})",
        keys,
    )
    found = {key: (transfer_id, body_hash) for key, transfer_id, body_hash in cursor.fetchall()}
    cursor.close()
    if not found:
        return None
    for request in requests:
        existing = found.get(request.idempotency_key)
        if existing is None or existing[1] != request.body_hash():
            raise _idempotency_conflict(request.idempotency_key)
    return [db.session.get(Transfer, found[r.idempotency_key][0]) for r in requests]


def post_transfer(**fields) -> Transfer:
    """Post one transfer (see ``post_linked``); a retry with the same key returns it."""
    return post_linked([TransferRequest(**fields)])[0]


def post_linked(
    requests: Sequence[TransferRequest],
    *,
    release_holds: dict[int, int] | None = None,
    now: datetime | None = None,
) -> list[Transfer]:
    """Post transfers all or none, in order; the same keys and bodies return the originals.

    ``release_holds`` maps account id -> amount of its ``held`` to release in the same
    step (used when a hold commits). Raises InvalidInput for a malformed request,
    IdempotencyConflict when a key was used for a different body, InsufficientBalance
    when a no-overdraft account would go below zero (nothing is posted then).
    """
    if not requests:
        return []
    for request in requests:
        _validate(request)
    if len({r.idempotency_key for r in requests}) != len(requests):
        raise InvalidInput("Linked transfers need distinct idempotency keys.")
    account_ids = {r.debit_account_id for r in requests} | {r.credit_account_id for r in requests}
    accounts = _lock_accounts(account_ids | set(release_holds or {}))
    # Keys are checked once, under the lock, so a twin that committed while we waited is
    # seen; a replay waits for the lock too, but new transfers save a query (bench/ledger.py).
    existing = _existing_transfers(requests)
    if existing is not None:
        return existing
    for account_id, amount in (release_holds or {}).items():
        accounts[account_id]["held"] -= amount
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
    return _append(requests, accounts, release_holds or {}, now or utcnow())


_TRANSFER_COLUMNS = [c.key for c in TRANSFERS.columns if c.key != "id"]
_ENTRY_COLUMNS = (
    "transfer_id", "account_id", "amount", "balance_after", "version", "prev_hash", "hash",
    "created_at",
)  # fmt: skip


def _insert_sql(table: str, columns: Sequence[str], rows: int, pg: bool, returning=False) -> str:
    values = ", ".join([f"({_placeholders(len(columns), pg)})"] * rows)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"
    return sql + " RETURNING id" if returning else sql


def _append(requests, accounts, release_holds, now) -> list[Transfer]:
    state = {
        account_id: {"balance": row["balance"], "version": row["version"], "head": row["head_hash"]}
        for account_id, row in accounts.items()
    }
    link_id = str(uuid.uuid4()) if len(requests) > 1 else None
    stamp = canonical_time(now)
    transfers, entries = [], []
    for request in requests:
        transfer = Transfer(
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
        transfers.append(transfer)
    db.session.flush()  # whatever the caller added first (cheap when there is nothing)
    cursor, pg = _cursor()
    # sqlite3 gets the text SQLAlchemy would store; psycopg a naive UTC timestamp.
    created = now.astimezone(UTC).replace(tzinfo=None) if pg else stamp
    ids = []
    try:
        for transfer in transfers:
            values = [getattr(transfer, c) for c in _TRANSFER_COLUMNS]
            values[_TRANSFER_COLUMNS.index("created_at")] = created
            cursor.execute(_insert_sql("transfers", _TRANSFER_COLUMNS, 1, pg, True), values)
            ids.append(cursor.fetchone()[0])
    except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation):
        # The unique key lost a race we could not see (the twin had not committed yet).
        raise IdempotencyInProgress(
            "A request with this idempotency key is being posted right now; retry it.",
        ) from None
    for transfer, transfer_id in zip(transfers, ids, strict=True):
        transfer.id = transfer_id
        make_transient_to_detached(transfer)
        db.session.add(transfer)
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
            account["balance"] += amount
            account["version"] += 1
            digest_hash = entry_hash(
                account["head"],
                account_id,
                account["version"],
                transfer.id,
                amount,
                account["balance"],
                stamp,
                digest,
            )
            entries.append(
                {
                    "transfer_id": transfer.id,
                    "account_id": account_id,
                    "amount": amount,
                    "balance_after": account["balance"],
                    "version": account["version"],
                    "prev_hash": account["head"],
                    "hash": digest_hash,
                    "created_at": created,
                }
            )
            account["head"] = digest_hash
    cursor.execute(
        _insert_sql("entries", _ENTRY_COLUMNS, len(entries), pg),
        [row[c] for row in entries for c in _ENTRY_COLUMNS],
    )
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
    cursor.close()
    _track_point_lots(transfers, accounts, now)
    _expire_identity_map(state)
    return transfers


def _expire_identity_map(account_ids: Iterable[int]) -> None:
    """Accounts were updated with Core; make loaded ORM copies re-read on next access."""
    identity = db.session.identity_map
    for account_id in account_ids:
        obj = identity.get(db.session.identity_key(Account, account_id))
        if obj is not None:
            db.session.expire(obj)


# ---------------------------------------------------------------- point lots


def _points_expiry(now: datetime) -> datetime | None:
    days = current_app.config.get("TIMEBANK_POINTS_EXPIRY_DAYS", 0)
    return now + timedelta(days=days) if days else None


def _track_point_lots(transfers, accounts, now) -> None:
    """POINTS credited to a member open a lot; POINTS debited consume lots oldest first."""
    for transfer in transfers:
        if transfer.ledger != "POINTS":
            continue
        if accounts[transfer.credit_account_id]["kind"] == "member":
            db.session.execute(
                LOTS.insert().values(
                    account_id=transfer.credit_account_id,
                    transfer_id=transfer.id,
                    amount=transfer.amount,
                    remaining=transfer.amount,
                    expires_at=_points_expiry(now),
                    created_at=now,
                )
            )
        if accounts[transfer.debit_account_id]["kind"] == "member":
            _consume_lots(transfer.debit_account_id, transfer.amount)


def _consume_lots(account_id: int, amount: int) -> None:
    # Soonest expiry first (then oldest): under one policy that is plain FIFO, and when the
    # policy changed it keeps an `expire` debit on the lots it expires, not on older lots
    # that never expire (which a second run the same day would then expire again).
    lots = db.session.execute(
        sa.select(LOTS.c.id, LOTS.c.remaining)
        .where(LOTS.c.account_id == account_id, LOTS.c.remaining > 0)
        .order_by(LOTS.c.expires_at.is_(None), LOTS.c.expires_at, LOTS.c.id)
    ).all()
    updates = []
    for lot_id, remaining in lots:
        if amount <= 0:
            break
        take = min(remaining, amount)
        amount -= take
        updates.append({"lot_id": lot_id, "new_remaining": remaining - take})
    if updates:
        db.session.execute(
            LOTS.update()
            .where(LOTS.c.id == sa.bindparam("lot_id"))
            .values(remaining=sa.bindparam("new_remaining")),
            updates,
        )


def expire_points(as_of: datetime, *, actor_id: int | None = None) -> list[Transfer]:
    """Post ``expire`` transfers for every lot past its date, oldest lots first.

    Idempotent: a lot once expired has nothing left, so a second run posts nothing.
    Held points are not expired while their hold is pending.
    """
    rows = db.session.execute(
        sa.select(LOTS.c.account_id, sa.func.sum(LOTS.c.remaining))
        .where(LOTS.c.expires_at <= as_of, LOTS.c.remaining > 0)
        .group_by(LOTS.c.account_id)
        .order_by(LOTS.c.account_id)
    ).all()
    posted = []
    for account_id, due in rows:
        account = get_account(account_id)
        from timebank.people.models import Member

        member = db.session.get(Member, account.member_id)
        amount = min(int(due), max(account.balance - account.held, 0))
        if amount <= 0:
            continue
        sink = system_account(member.home_unit_id, "POINTS", "expiry")
        posted.append(
            post_transfer(
                ledger="POINTS",
                debit_account_id=account_id,
                credit_account_id=sink.id,
                amount=amount,
                code="expire",
                idempotency_key=f"expire:{account_id}:{as_of.date().isoformat()}:{account.version}",
                actor_id=actor_id,
                memo=f"points expired as of {as_of.date().isoformat()}",
            )
        )
    return posted


# ---------------------------------------------------------------- evidence, awards, corrections


def credit_from_evidence(
    *,
    member_id: int,
    unit_id: int,
    minutes: int,
    points: int,
    code: str,
    reference_type: str,
    reference_id: str,
    idempotency_key: str,
    actor_id: int | None,
) -> list[Transfer]:
    """Credit verified service (check-in, approved hour log): HOURS and POINTS from the
    unit's issuance accounts, linked, keyed ``<key>:HOURS`` / ``<key>:POINTS``. Retrying
    with the same arguments returns the same transfers; nothing is credited twice."""
    requests = []
    for ledger, amount in (("HOURS", minutes), ("POINTS", points)):
        if amount > 0:
            requests.append(
                TransferRequest(
                    ledger=ledger,
                    debit_account_id=system_account(unit_id, ledger, "issuance").id,
                    credit_account_id=member_account(member_id, ledger).id,
                    amount=amount,
                    code=code,
                    idempotency_key=f"{idempotency_key}:{ledger}",
                    actor_id=actor_id,
                    reference_type=reference_type,
                    reference_id=reference_id,
                )
            )
    return post_linked(requests)


def _pending_by_key(key: str) -> PendingCredit | None:
    return db.session.scalar(sa.select(PendingCredit).where(PendingCredit.idempotency_key == key))


def request_manual_credit(
    *,
    ledger: str,
    code: str,
    member_id: int,
    unit_id: int,
    amount: int,
    memo: str,
    idempotency_key: str,
    requested_by_id: int,
    corrects_id: int | None = None,
    debit_account_id: int | None = None,
) -> PendingCredit:
    """Ask for a credit that creates value (an award, or a correction in a member's favour).

    It posts only when a second organizer or admin approves it. The same key and body
    return the same request; a different body is an IdempotencyConflict.
    """
    _check_ledger(ledger)
    if code not in ("award", "correct"):
        raise InvalidInput("Manual credits are awards or corrections.")
    memo = (memo or "").strip()
    if not memo:
        raise InvalidInput("Say why the credit is given.", errors={"memo": ["Required."]})
    credit = member_account(member_id, ledger)
    if debit_account_id is None:
        source = "issuance" if code == "award" else "correction"
        debit_account_id = system_account(unit_id, ledger, source).id
    probe = TransferRequest(
        ledger=ledger,
        debit_account_id=debit_account_id,
        credit_account_id=credit.id,
        amount=amount,
        code=code,
        idempotency_key=idempotency_key,
        actor_id=requested_by_id,
        corrects_id=corrects_id,
        memo=memo,
    )
    _validate(probe)
    body_hash = probe.body_hash()
    existing = _pending_by_key(idempotency_key)
    if existing is not None:
        if existing.body_hash != body_hash:
            raise _idempotency_conflict(idempotency_key)
        return existing
    pending = PendingCredit(
        ledger=ledger,
        code=code,
        debit_account_id=debit_account_id,
        credit_account_id=credit.id,
        amount=amount,
        corrects_id=corrects_id,
        memo=memo,
        unit_id=unit_id,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
        requested_by_id=requested_by_id,
    )
    db.session.add(pending)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise IdempotencyInProgress(
            "A request with this idempotency key is being saved right now; retry it.",
        ) from None
    return pending


def _lock_pending(pending_id: int) -> PendingCredit:
    query = sa.select(PendingCredit).where(PendingCredit.id == pending_id)
    if _is_postgres():
        query = query.with_for_update()
    pending = db.session.scalar(query.execution_options(populate_existing=True))
    if pending is None:
        raise PendingCreditNotFound(
            "Pending credit %(id)s does not exist.",
            params={"id": pending_id},
        )
    return pending


def approve_manual_credit(pending_id: int, *, approver_id: int) -> Transfer:
    """The second person approves: the credit posts, recording requester and approver.

    Raises Forbidden (``four_eyes``) when the requester approves their own request,
    Conflict when it was already decided, and whatever posting raises.
    """
    pending = _lock_pending(pending_id)
    if pending.requested_by_id == approver_id:
        raise FourEyes(
            "A manual credit needs a second person: you cannot approve your own request.",
        )
    if pending.status != "pending":
        raise AlreadyDecided(
            "This credit was already %(status)s.",
            params={"status": pending.status},
        )
    if pending.corrects_id is not None:
        # lock first, as correct_transfer does: two corrections of one transfer approved at
        # once must not both see the room before either posts
        _lock_accounts([pending.debit_account_id, pending.credit_account_id])
        _check_correction_room(pending.corrects_id, pending.amount)
    transfer = post_transfer(
        ledger=pending.ledger,
        debit_account_id=pending.debit_account_id,
        credit_account_id=pending.credit_account_id,
        amount=pending.amount,
        code=pending.code,
        idempotency_key=f"pending_credit:{pending.id}",
        actor_id=pending.requested_by_id,
        approver_id=approver_id,
        reference_type="pending_credit",
        reference_id=str(pending.id),
        corrects_id=pending.corrects_id,
        memo=pending.memo,
    )
    pending.status = "approved"
    pending.decided_by_id = approver_id
    pending.decided_at = utcnow()
    pending.transfer_id = transfer.id
    db.session.flush()
    return transfer


def reject_manual_credit(pending_id: int, *, approver_id: int) -> PendingCredit:
    pending = _lock_pending(pending_id)
    if pending.status != "pending":
        raise AlreadyDecided(
            "This credit was already %(status)s.",
            params={"status": pending.status},
        )
    pending.status = "rejected"
    pending.decided_by_id = approver_id
    pending.decided_at = utcnow()
    db.session.flush()
    return pending


def get_transfer(transfer_id: int) -> Transfer:
    """Return the transfer or raise NotFound."""
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None:
        raise TransferNotFound("Transfer %(id)s does not exist.", params={"id": transfer_id})
    return transfer


def _check_correction_room(original_id: int, amount: int) -> None:
    corrected = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Transfer.amount), 0)).where(
            Transfer.corrects_id == original_id
        )
    )
    original = get_transfer(original_id)
    if corrected + amount > original.amount:
        raise CorrectionExceedsOriginal(
            "Transfer %(id)s can be corrected by at most %(room)s more.",
            params={"id": original_id, "room": original.amount - corrected},
        )


def correct_transfer(
    original_id: int,
    *,
    amount: int,
    memo: str,
    idempotency_key: str,
    actor_id: int,
    unit_id: int,
) -> Transfer | PendingCredit:
    """Reverse all or part of a transfer by a correcting transfer that links to it.

    Taking value back from a member posts at once. Giving value to a member (reversing a
    debit) creates value and waits for a second approver: a PendingCredit is returned.
    Raises InvalidInput when the corrections would exceed the original amount.
    """
    original = get_transfer(original_id)
    if original.code == "correct":
        raise InvalidInput("A correction cannot itself be corrected; post a new transfer.")
    memo = (memo or "").strip()
    if not memo:
        raise InvalidInput("Say why the transfer is corrected.", errors={"memo": ["Required."]})
    receiver = get_account(original.debit_account_id)
    if receiver.kind == "member":
        _check_correction_room(original_id, amount)
        return request_manual_credit(
            ledger=original.ledger,
            code="correct",
            member_id=receiver.member_id,
            unit_id=unit_id,
            amount=amount,
            memo=memo,
            idempotency_key=idempotency_key,
            requested_by_id=actor_id,
            corrects_id=original_id,
            debit_account_id=original.credit_account_id,
        )
    request = TransferRequest(
        ledger=original.ledger,
        debit_account_id=original.credit_account_id,
        credit_account_id=original.debit_account_id,
        amount=amount,
        code="correct",
        idempotency_key=idempotency_key,
        actor_id=actor_id,
        corrects_id=original_id,
        memo=memo,
        reference_type="transfer",
        reference_id=str(original_id),
    )
    _validate(request)
    existing = _existing_transfers([request])
    if existing is not None:
        return existing[0]
    _lock_accounts([original.debit_account_id, original.credit_account_id])
    _check_correction_room(original_id, amount)
    return post_linked([request])[0]


# ---------------------------------------------------------------- donations


@dataclass
class DonationResult:
    transfers: list[Transfer] = field(default_factory=list)
    to_member: int = 0
    to_pool: int = 0


def donate_hours(
    *,
    donor_id: int,
    minutes: int,
    idempotency_key: str,
    recipient_id: int | None = None,
    pool_unit_id: int | None = None,
    memo: str | None = None,
    actor_id: int | None = None,
) -> DonationResult:
    """Give HOURS to a family member or to a community pool (the Nanjing time-bank model).

    With TIMEBANK_HOURS_CAP_MINUTES set, minutes that would lift the recipient above the
    cap go to the pool of the recipient's home unit instead.
    """
    from timebank.people.models import Member

    if (recipient_id is None) == (pool_unit_id is None):
        raise InvalidInput("Donate either to a member or to a community pool.")
    if recipient_id == donor_id:
        raise SameAccount("You cannot donate to yourself.")
    if actor_id is not None and actor_id != donor_id and recipient_id == actor_id:
        raise GuardianSelfDealing(
            "A guardian cannot give the member's hours to themselves.",
        )
    donor = member_account(donor_id, "HOURS")
    common = {"ledger": "HOURS", "code": "donate", "actor_id": actor_id or donor_id, "memo": memo}
    if pool_unit_id is not None:
        from timebank.units.operations import get_unit

        get_unit(pool_unit_id)  # NotFound, not a foreign-key error from opening its pool
        pool = system_account(pool_unit_id, "HOURS", "pool")
        request = TransferRequest(
            debit_account_id=donor.id,
            credit_account_id=pool.id,
            amount=minutes,
            idempotency_key=idempotency_key,
            **common,
        )
        return DonationResult(transfers=post_linked([request]), to_pool=minutes)
    recipient = db.session.get(Member, recipient_id)
    if recipient is None:
        raise RecipientNotFound("Member %(id)s does not exist.", params={"id": recipient_id})
    receiving = member_account(recipient_id, "HOURS")
    pool = system_account(recipient.home_unit_id, "HOURS", "pool")
    # Lock all three now, in id order, so the cap is judged on a balance nobody else moves.
    locked = _lock_accounts([donor.id, receiving.id, pool.id])
    previous = _previous_donation(idempotency_key, donor.id, receiving.id, pool.id, minutes)
    if previous is not None:
        return previous
    cap = current_app.config.get("TIMEBANK_HOURS_CAP_MINUTES", 0)
    to_member = minutes
    if cap:
        to_member = max(0, min(minutes, cap - locked[receiving.id]["balance"]))
    requests = []
    if to_member > 0:
        requests.append(
            TransferRequest(
                debit_account_id=donor.id,
                credit_account_id=receiving.id,
                amount=to_member,
                idempotency_key=idempotency_key,
                **common,
            )
        )
    if minutes - to_member > 0:
        requests.append(
            TransferRequest(
                debit_account_id=donor.id,
                credit_account_id=pool.id,
                amount=minutes - to_member,
                idempotency_key=f"{idempotency_key}:pool",
                **common,
            )
        )
    if not requests:
        raise InvalidAmount("The amount must be a positive whole number.")
    transfers = post_linked(requests)
    return DonationResult(transfers=transfers, to_member=to_member, to_pool=minutes - to_member)


def _previous_donation(key, donor_id, receiving_id, pool_id, minutes) -> DonationResult | None:
    """A retry of a capped donation: the split may differ now, so match on the whole.

    Returns the original result, None for a new key, or raises IdempotencyConflict when
    the key was used for another donor, recipient or amount.
    """
    found = list(
        db.session.scalars(
            sa.select(Transfer)
            .where(Transfer.idempotency_key.in_([key, f"{key}:pool"]))
            .order_by(Transfer.id)
        )
    )
    if not found:
        return None
    to_member = sum(t.amount for t in found if t.credit_account_id == receiving_id)
    to_pool = sum(t.amount for t in found if t.credit_account_id == pool_id)
    if (
        any(t.debit_account_id != donor_id for t in found)
        or to_member + to_pool != minutes
        or len(found) != (to_member > 0) + (to_pool > 0)
    ):
        raise _idempotency_conflict(key)
    return DonationResult(transfers=found, to_member=to_member, to_pool=to_pool)


# ---------------------------------------------------------------- holds


def place_hold(
    *,
    ledger: str,
    debit_account_id: int,
    credit_account_id: int,
    amount: int,
    code: str,
    idempotency_key: str,
    timeout: timedelta,
    actor_id: int | None = None,
    reference_type: str | None = None,
    reference_id: str | None = None,
) -> Hold:
    """Reserve ``amount`` of the debit account until commit, void or timeout.

    Held amounts count against the available balance. The same key and body return the
    same hold. Raises InsufficientBalance when not enough is available.
    """
    request = TransferRequest(
        ledger=ledger,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        code=code,
        idempotency_key=idempotency_key,
        actor_id=actor_id,
        reference_type=reference_type,
        reference_id=reference_id,
    )
    _validate(request)
    if timeout <= timedelta(0):
        raise InvalidInput("A hold needs a positive timeout.")
    body_hash = request.body_hash()

    def existing_hold() -> Hold | None:
        hold = db.session.scalar(sa.select(Hold).where(Hold.idempotency_key == idempotency_key))
        if hold is not None and hold.body_hash != body_hash:
            raise _idempotency_conflict(idempotency_key)
        return hold

    if (hold := existing_hold()) is not None:
        return hold
    accounts = _lock_accounts([debit_account_id, credit_account_id])
    if (hold := existing_hold()) is not None:
        return hold
    debit = accounts[debit_account_id]
    if debit["ledger"] != ledger or accounts[credit_account_id]["ledger"] != ledger:
        raise LedgerMismatch(
            "Both accounts must belong to the %(ledger)s ledger.",
            params={"ledger": ledger},
        )
    if not debit["allow_negative"] and debit["balance"] - debit["held"] < amount:
        raise InsufficientBalance(
            "Not enough %(ledger)s: %(available)s available, %(amount)s needed.",
            params={
                "ledger": ledger,
                "available": debit["balance"] - debit["held"],
                "amount": amount,
            },
        )
    now = utcnow()
    hold = Hold(
        ledger=ledger,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        code=code,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
        reference_type=reference_type,
        reference_id=reference_id,
        actor_id=actor_id,
        expires_at=now + timeout,
        created_at=now,
    )
    db.session.add(hold)
    db.session.execute(
        ACCOUNTS.update()
        .where(ACCOUNTS.c.id == debit_account_id)
        .values(held=debit["held"] + amount)
    )
    _expire_identity_map([debit_account_id])
    db.session.flush()
    return hold


def _lock_hold(hold_id: int) -> Hold:
    query = sa.select(Hold).where(Hold.id == hold_id)
    if _is_postgres():
        query = query.with_for_update()
    hold = db.session.scalar(query.execution_options(populate_existing=True))
    if hold is None:
        raise HoldNotFound("Hold %(id)s does not exist.", params={"id": hold_id})
    return hold


def _release(hold: Hold, status: str) -> None:
    accounts = _lock_accounts([hold.debit_account_id])
    db.session.execute(
        ACCOUNTS.update()
        .where(ACCOUNTS.c.id == hold.debit_account_id)
        .values(held=accounts[hold.debit_account_id]["held"] - hold.amount)
    )
    _expire_identity_map([hold.debit_account_id])
    hold.status = status
    hold.resolved_at = utcnow()
    db.session.flush()


def _check_pending(hold: Hold, now: datetime) -> None:
    if hold.status == "pending" and hold.expires_at <= now:
        _release(hold, "expired")
        raise HoldExpired("The hold expired; nothing was taken.")
    if hold.status != "pending":
        raise HoldNotPending("The hold was already %(status)s.", params={"status": hold.status})


def commit_hold(
    hold_id: int, *, amount: int | None = None, actor_id: int | None = None
) -> Transfer:
    """Take all or part of a held amount: one transfer; the rest is released.

    Raises HoldNotPending (``hold_not_pending`` / ``hold_expired``) unless it is pending,
    InvalidInput when ``amount`` exceeds what is held. Exactly one resolution succeeds.
    """
    hold = _lock_hold(hold_id)
    now = utcnow()
    _check_pending(hold, now)
    take = hold.amount if amount is None else amount
    if not isinstance(take, int) or take <= 0 or take > hold.amount:
        raise InvalidAmount(
            "Commit between 1 and %(amount)s.",
            params={"amount": hold.amount},
        )
    [transfer] = post_linked(
        [
            TransferRequest(
                ledger=hold.ledger,
                debit_account_id=hold.debit_account_id,
                credit_account_id=hold.credit_account_id,
                amount=take,
                code=hold.code,
                idempotency_key=f"hold:{hold.id}",
                actor_id=actor_id,
                reference_type=hold.reference_type or "hold",
                reference_id=hold.reference_id or str(hold.id),
            )
        ],
        release_holds={hold.debit_account_id: hold.amount},
        now=now,
    )
    hold.status = "committed"
    hold.resolved_at = now
    hold.transfer_id = transfer.id
    db.session.flush()
    return transfer


def void_hold(hold_id: int) -> Hold:
    """Release a pending hold in full; HoldNotPending if it was already resolved."""
    hold = _lock_hold(hold_id)
    _check_pending(hold, utcnow())
    _release(hold, "voided")
    return hold


def expire_holds(now: datetime | None = None) -> int:
    """Release every pending hold past its timeout; returns how many. Idempotent."""
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            sa.select(Hold.id)
            .where(Hold.status == "pending", Hold.expires_at <= now)
            .order_by(Hold.id)
        )
    )
    count = 0
    for hold_id in ids:
        hold = _lock_hold(hold_id)
        if hold.status == "pending":
            _release(hold, "expired")
            count += 1
    return count


# ---------------------------------------------------------------- history


@dataclass
class StatementLine:
    entry_id: int
    transfer_id: int
    ledger: str
    amount: int
    balance_after: int
    code: str
    memo: str | None
    reference_type: str | None
    reference_id: str | None
    counterparty: str
    created_at: datetime


def member_history(
    member_id: int,
    *,
    ledger: str | None = None,
    before_entry_id: int | None = None,
    limit: int = 50,
) -> list[StatementLine]:
    """A member's entries, newest first, keyset-paginated by entry id (cost independent of
    how long the history, or the whole ledger, is)."""
    owner = f"member:{member_id}"
    account_ids = [
        row[0]
        for row in db.session.execute(
            sa.select(ACCOUNTS.c.id).where(
                ACCOUNTS.c.ledger.in_([ledger] if ledger else LEDGERS),
                ACCOUNTS.c.owner_key == owner,
            )
        )
    ]
    if not account_ids:
        return []
    other = sa.case(
        (TRANSFERS.c.debit_account_id == ENTRIES.c.account_id, TRANSFERS.c.credit_account_id),
        else_=TRANSFERS.c.debit_account_id,
    )
    counter = ACCOUNTS.alias("counter")
    query = (
        sa.select(
            ENTRIES.c.id,
            ENTRIES.c.transfer_id,
            TRANSFERS.c.ledger,
            ENTRIES.c.amount,
            ENTRIES.c.balance_after,
            TRANSFERS.c.code,
            TRANSFERS.c.memo,
            TRANSFERS.c.reference_type,
            TRANSFERS.c.reference_id,
            counter.c.owner_key,
            Entry.created_at,
        )
        .join(TRANSFERS, TRANSFERS.c.id == ENTRIES.c.transfer_id)
        .join(counter, counter.c.id == other)
        .where(ENTRIES.c.id.in_(_newest_entry_ids(account_ids, before_entry_id, limit)))
        .order_by(ENTRIES.c.id.desc())
        .limit(limit)
    )
    return [StatementLine(*row) for row in db.session.execute(query)]


def _newest_entry_ids(account_ids: list[int], before_entry_id: int | None, limit: int):
    """The ids of the newest ``limit`` entries of each account, below the cursor.

    Each account is read through its (account_id, version) index, newest version first
    (ids grow with versions within an account). Walking the entries' primary key backwards
    instead would step over every newer entry of every other account.
    """
    below = [ENTRIES.c.id < before_entry_id] if before_entry_id is not None else []
    newest = [
        sa.select(
            sa.select(ENTRIES.c.id)
            .where(ENTRIES.c.account_id == account_id, *below)
            .order_by(ENTRIES.c.version.desc())
            .limit(limit)
            .subquery()
        )
        for account_id in account_ids
    ]
    return newest[0] if len(newest) == 1 else sa.union_all(*newest)


# ---------------------------------------------------------------- verification


@dataclass
class VerifyReport:
    ok: bool = True
    accounts: int = 0
    entries: int = 0
    transfers: int = 0
    checkpoints: int = 0
    problem: str | None = None
    ledger_sums: dict[str, int] = field(default_factory=dict)

    def fail(self, problem: str) -> VerifyReport:
        self.ok = False
        self.problem = problem
        return self

    def as_dict(self) -> dict:
        return asdict(self)


def _time_text(value) -> str:
    # SQLite returns the stored text; PostgreSQL a naive datetime.
    return value if isinstance(value, str) else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def verify_ledger(progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Recompute every chain, balance and version from the entries; check every ledger sums
    to zero, every transfer has its two matching entries, and the ledger still extends
    every checkpoint. Names the first wrong row."""
    report = VerifyReport()
    conn = db.session.connection()
    report.transfers = conn.execute(sa.select(sa.func.count()).select_from(TRANSFERS)).scalar()
    # PostgreSQL formats the times as the canonical text itself: parsing a datetime per row
    # and formatting it again in Python took a quarter of the time (bench/ledger.py).
    e_time, t_time = (
        ("to_char(e.created_at, :fmt)", "to_char(t.created_at, :fmt)")
        if _is_postgres()
        else ("e.created_at", "t.created_at")
    )
    raw = sa.text(
        "SELECT e.id, e.account_id, e.version, e.transfer_id, e.amount, e.balance_after, "
        f"e.prev_hash, e.hash, {e_time}, t.ledger, t.debit_account_id, t.credit_account_id, "
        "t.amount, t.code, t.idempotency_key, t.reference_type, t.reference_id, t.corrects_id, "
        f"t.link_id, t.actor_id, t.approver_id, t.memo, {t_time} "
        "FROM entries e JOIN transfers t ON t.id = e.transfer_id "
        "ORDER BY e.account_id, e.version"
    )
    accounts = {
        row.id: row
        for row in conn.execute(
            sa.select(
                ACCOUNTS.c.id,
                ACCOUNTS.c.ledger,
                ACCOUNTS.c.balance,
                ACCOUNTS.c.held,
                ACCOUNTS.c.version,
                ACCOUNTS.c.head_hash,
                ACCOUNTS.c.allow_negative,
            )
        )
    }
    report.accounts = len(accounts)
    sums = dict.fromkeys(LEDGERS, 0)
    per_transfer: dict[int, int] = {}
    seen_accounts = set()
    current, balance, version, head = None, 0, 0, GENESIS_HASH

    def close(account_id) -> str | None:
        account = accounts.get(account_id)
        if account is None:
            return f"entries reference account {account_id}, which does not exist"
        if (account.balance, account.version, account.head_hash) != (balance, version, head):
            return (
                f"account {account_id}: cached balance {account.balance}, version "
                f"{account.version} or head differs from its entries (balance {balance}, "
                f"version {version})"
            )
        if not account.allow_negative and balance < 0:
            return f"account {account_id} may not go negative but its entries sum to {balance}"
        return None

    result = conn.execute(
        raw.execution_options(stream_results=True, yield_per=5000),
        {"fmt": "YYYY-MM-DD HH24:MI:SS.US"} if _is_postgres() else {},
    )
    count = 0
    for row in result:
        entry_id, account_id, e_version, transfer_id, e_amount, e_balance, prev_hash, stored = row[
            :8
        ]
        e_created, t_created = row[8], row[22]
        # ledger, debit, credit, amount, code, key, references, link, actor, approver, memo:
        # transfer_digest's arguments, in its order.
        transfer_fields = row[9:22]
        ledger, debit_id, credit_id, t_amount = transfer_fields[:4]
        if account_id != current:
            if current is not None and (problem := close(current)):
                return report.fail(problem)
            current, balance, version, head = account_id, 0, 0, GENESIS_HASH
            seen_accounts.add(account_id)
        count += 1
        if progress is not None and count % 10000 == 0:
            progress(10000)
        version += 1
        balance += e_amount
        sums[ledger] += e_amount
        per_transfer[transfer_id] = per_transfer.get(transfer_id, 0) + 1
        expected = -t_amount if account_id == debit_id else t_amount
        if account_id not in (debit_id, credit_id) or e_amount != expected:
            return report.fail(
                f"entry {entry_id}: amount {e_amount} does not match transfer {transfer_id}"
            )
        if e_version != version:
            return report.fail(f"entry {entry_id}: version {e_version}, expected {version} (a gap)")
        if e_balance != balance:
            return report.fail(f"entry {entry_id}: balance_after {e_balance}, expected {balance}")
        if prev_hash != head:
            return report.fail(f"entry {entry_id}: does not chain to the previous entry")
        created = e_created if e_created.__class__ is str else _time_text(e_created)
        if e_created != t_created:
            return report.fail(f"entry {entry_id}: time differs from transfer {transfer_id}")
        # The same two functions the posting used: one definition of the chain.
        digest = transfer_digest(*transfer_fields)
        recomputed = entry_hash(
            head, account_id, version, transfer_id, e_amount, balance, created, digest
        )
        if recomputed != stored:
            return report.fail(
                f"entry {entry_id} (account {account_id}, version {version}): hash mismatch; "
                f"the entry or transfer {transfer_id} was changed"
            )
        head = stored
    if current is not None and (problem := close(current)):
        return report.fail(problem)
    if progress is not None:
        progress(count % 10000)
    report.entries = count
    for account_id, account in accounts.items():
        if account_id not in seen_accounts and (account.balance or account.version):
            return report.fail(f"account {account_id} has a balance or version but no entries")
    if len(per_transfer) != report.transfers or any(n != 2 for n in per_transfer.values()):
        broken = next((t for t, n in per_transfer.items() if n != 2), None)
        return report.fail(
            f"transfer {broken} does not have exactly two entries"
            if broken
            else "a transfer has no entries"
        )
    report.ledger_sums = sums
    if any(sums.values()):
        return report.fail(f"a ledger does not sum to zero: {sums}")
    held = dict(
        conn.execute(
            sa.select(Hold.debit_account_id, sa.func.sum(Hold.amount))
            .where(Hold.status == "pending")
            .group_by(Hold.debit_account_id)
        ).all()
    )
    for account_id, account in accounts.items():
        if account.held != held.get(account_id, 0):
            return report.fail(
                f"account {account_id}: held {account.held}, pending holds sum to "
                f"{held.get(account_id, 0)}"
            )
    for checkpoint in db.session.scalars(sa.select(Checkpoint).order_by(Checkpoint.id)):
        count_now, heads_now = _heads(checkpoint.ledger, checkpoint.max_entry_id)
        if (count_now, heads_now) != (checkpoint.entry_count, checkpoint.heads_hash):
            return report.fail(
                f"checkpoint {checkpoint.id} ({checkpoint.ledger}, {checkpoint.entry_count} "
                f"entries) is no longer extended: entries up to {checkpoint.max_entry_id} were "
                "removed or rewritten"
            )
        report.checkpoints += 1
    return report


def _heads(ledger: str, max_entry_id: int) -> tuple[int, str]:
    """(entry count, hash over every account head) of ``ledger`` up to ``max_entry_id``."""
    in_ledger = sa.select(ACCOUNTS.c.id).where(ACCOUNTS.c.ledger == ledger)
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ENTRIES)
        .where(ENTRIES.c.id <= max_entry_id, ENTRIES.c.account_id.in_(in_ledger))
    )
    last = (
        sa.select(ENTRIES.c.account_id, sa.func.max(ENTRIES.c.version).label("version"))
        .where(ENTRIES.c.id <= max_entry_id, ENTRIES.c.account_id.in_(in_ledger))
        .group_by(ENTRIES.c.account_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ENTRIES.c.account_id, ENTRIES.c.version, ENTRIES.c.hash)
        .join(
            last,
            sa.and_(last.c.account_id == ENTRIES.c.account_id, last.c.version == ENTRIES.c.version),
        )
        .order_by(ENTRIES.c.account_id)
    )
    digest = hashlib.sha256()
    for account_id, version, entry_hash_value in rows:
        digest.update(f"{account_id}:{version}:{entry_hash_value}\n".encode())
    return count, digest.hexdigest()


def create_checkpoint(ledger: str) -> Checkpoint:
    """Record the ledger's entry count and a hash over its account heads, as of now."""
    _check_ledger(ledger)
    if _is_postgres():
        # Let in-flight postings finish so no lower entry id commits after we read.
        db.session.execute(sa.text("LOCK TABLE entries IN SHARE MODE"))
    max_id = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(ENTRIES.c.id), 0)))
    count, heads = _heads(ledger, max_id)
    checkpoint = Checkpoint(ledger=ledger, entry_count=count, max_entry_id=max_id, heads_hash=heads)
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def list_checkpoints() -> list[Checkpoint]:
    return list(db.session.scalars(sa.select(Checkpoint).order_by(Checkpoint.id.desc())))


# ---------------------------------------------------------------- lookups for the edges


def unit_of_transfer(transfer: Transfer) -> int:
    """The unit whose organizers answer for a transfer: the member's home unit, else the
    system account's unit."""
    from timebank.people.models import Member

    for account_id in (transfer.credit_account_id, transfer.debit_account_id):
        account = get_account(account_id)
        if account.kind == "member":
            return db.session.get(Member, account.member_id).home_unit_id
    for account_id in (transfer.debit_account_id, transfer.credit_account_id):
        account = get_account(account_id)
        if account.unit_id is not None:
            return account.unit_id
    raise NotFound("No unit answers for transfer %(id)s.", params={"id": transfer.id})


def idempotency_key_used(key: str) -> bool:
    """Did a transfer or a pending credit already take this key? (A success is then a replay.)

    Exactly the keys a request makes: a donation over the cap adds ``:pool``. A LIKE would
    call a new key a replay when it prefixes an old one or holds "%" or "_".
    """
    transfer = sa.select(Transfer.id).where(Transfer.idempotency_key.in_((key, f"{key}:pool")))
    pending = sa.select(PendingCredit.id).where(PendingCredit.idempotency_key == key)
    return db.session.scalar(transfer) is not None or db.session.scalar(pending) is not None


def get_pending_credit(pending_id: int) -> PendingCredit:
    """Return the pending credit or raise NotFound."""
    pending = db.session.get(PendingCredit, pending_id)
    if pending is None:
        raise PendingCreditNotFound(
            "Pending credit %(id)s does not exist.",
            params={"id": pending_id},
        )
    return pending


def pending_credit_target(pending_id: int) -> Target:
    """What deciding a pending credit is done to: the unit whose organizers answer for it."""
    return Target(unit=get_pending_credit(pending_id).unit_id)


def list_pending_credits(unit_ids, *, status: str = "pending") -> list[PendingCredit]:
    """Manual credits of ``status`` asked for in ``unit_ids`` (ids, or a SELECT of them)."""
    return list(
        db.session.scalars(
            sa.select(PendingCredit)
            .where(
                PendingCredit.unit_id.in_(unit_ids),
                PendingCredit.status == status,
            )
            .order_by(PendingCredit.id)
        )
    )
