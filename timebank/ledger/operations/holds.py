"""Holds: two-phase debits. A hold reserves an amount of the debit account (counted against
its available balance) until it is committed (one transfer), voided, or times out; it
resolves exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput
from timebank.extensions import db
from timebank.ledger.errors import (
    AccountNotFound,
    HoldExpired,
    HoldNotFound,
    HoldNotPending,
    InsufficientBalance,
    InvalidAmount,
    LedgerMismatch,
)
from timebank.ledger.models import Hold, Transfer
from timebank.ledger.operations.accounts import expire_identity_map
from timebank.ledger.operations.posting import (
    TransferRequest,
    idempotency_conflict,
    lock_accounts,
    post_linked,
    validate,
)
from timebank.ledger.operations.sql import ACCOUNTS, is_postgres


def _existing_hold(key: str, body_hash: str) -> Hold | None:
    """The hold placed under ``key``; IdempotencyConflict if its body differs."""
    hold = db.session.scalar(sa.select(Hold).where(Hold.idempotency_key == key))
    if hold is not None and hold.body_hash != body_hash:
        raise idempotency_conflict(key)
    return hold


def _ledger_of(account_id: int) -> str:
    """The ledger of an account, read without a lock; AccountNotFound if there is none."""
    ledger = db.session.scalar(sa.select(ACCOUNTS.c.ledger).where(ACCOUNTS.c.id == account_id))
    if ledger is None:
        raise AccountNotFound("Account %(id)s does not exist.", params={"id": account_id})
    return ledger


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
    new_key: bool = False,
    credit_ledger: str | None = None,
) -> Hold:
    """Reserve ``amount`` of the debit account until commit, void or timeout.

    Held amounts count against the available balance. The same key and body return the
    same hold. Raises InsufficientBalance when not enough is available, LedgerMismatch
    unless both accounts are on ``ledger``, AccountNotFound.

    What a caller knows saves reads: ``new_key``, the key was made in this transaction from
    a row it just inserted (e.g. ``redemption:<new id>``), so no hold has it and none is
    looked up (a twin would still fail on the key's unique constraint, never double), and
    the debit is checked and reserved in one conditional UPDATE; ``credit_ledger``, the
    ledger the caller read the credit account on (an account's ledger never changes).
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
    validate(request)
    if timeout <= timedelta(0):
        raise InvalidInput("A hold needs a positive timeout.")
    body_hash = request.body_hash()
    # Only the debit account changes: the credit account is read, not locked, so holds
    # for one merchant from many members run side by side.
    if (credit_ledger or _ledger_of(credit_account_id)) != ledger:
        raise _ledger_mismatch(ledger)
    if new_key:
        _reserve(debit_account_id, ledger, amount)
    else:
        # the key is decided under the lock (a twin that committed while we waited is
        # seen), as a posting does
        debit = lock_accounts([debit_account_id])[debit_account_id]
        if (hold := _existing_hold(idempotency_key, body_hash)) is not None:
            return hold
        _check_debit(debit, ledger, amount)
        _add_held(debit, amount)
    expire_identity_map([debit_account_id])
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
    db.session.flush()
    return hold


def _ledger_mismatch(ledger: str) -> LedgerMismatch:
    return LedgerMismatch(
        "Both accounts must belong to the %(ledger)s ledger.", params={"ledger": ledger}
    )


def _check_debit(debit: dict, ledger: str, amount: int) -> None:
    """Raise LedgerMismatch or InsufficientBalance unless ``debit`` (an account's row) can
    hold ``amount``."""
    if debit["ledger"] != ledger:
        raise _ledger_mismatch(ledger)
    available = debit["balance"] - debit["held"]
    if not debit["allow_negative"] and available < amount:
        raise InsufficientBalance(
            "Not enough %(ledger)s: %(available)s available, %(amount)s needed.",
            params={"ledger": ledger, "available": available, "amount": amount},
        )


#: built once, run with parameters (building a statement costs more than running it)
_RESERVE = (
    ACCOUNTS.update()
    .where(
        ACCOUNTS.c.id == sa.bindparam("account_id"),
        ACCOUNTS.c.ledger == sa.bindparam("on_ledger"),
        ACCOUNTS.c.allow_negative
        | (ACCOUNTS.c.balance - ACCOUNTS.c.held >= sa.bindparam("to_hold")),
    )
    .values(held=ACCOUNTS.c.held + sa.bindparam("to_hold"))
    .returning(ACCOUNTS.c.id)
)


def _reserve(account_id: int, ledger: str, amount: int) -> None:
    """Add ``amount`` to the account's held amount if it is on ``ledger`` and has that
    much available: the check and the write are one statement (PostgreSQL re-checks the
    row a concurrent writer changed). When refused, the row is locked and checked again,
    to say why (or, if a credit came in meanwhile, to hold after all)."""
    params = {"account_id": account_id, "on_ledger": ledger, "to_hold": amount}
    reserved = db.session.execute(_RESERVE, params).first()
    if reserved is None:
        debit = lock_accounts([account_id])[account_id]
        _check_debit(debit, ledger, amount)
        _add_held(debit, amount)


def _add_held(debit: dict, amount: int) -> None:
    """Hold ``amount`` more on a locked account (``debit``: its row, read under the lock)."""
    db.session.execute(
        ACCOUNTS.update().where(ACCOUNTS.c.id == debit["id"]).values(held=debit["held"] + amount)
    )


_HOLD = (
    sa.select(Hold)
    .where(Hold.id == sa.bindparam("hold_id"))
    .execution_options(populate_existing=True)
)
_HOLD_LOCKED = _HOLD.with_for_update()


def _lock_hold(hold_id: int) -> Hold:
    query = _HOLD_LOCKED if is_postgres() else _HOLD
    hold = db.session.scalar(query, {"hold_id": hold_id})
    if hold is None:
        raise HoldNotFound("Hold %(id)s does not exist.", params={"id": hold_id})
    return hold


def _release(hold: Hold, status: str) -> None:
    accounts = lock_accounts([hold.debit_account_id])
    db.session.execute(
        ACCOUNTS.update()
        .where(ACCOUNTS.c.id == hold.debit_account_id)
        .values(held=accounts[hold.debit_account_id]["held"] - hold.amount)
    )
    expire_identity_map([hold.debit_account_id])
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
        # a hold commits once: locked and pending, no transfer has its key yet
        new_keys=True,
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


def expire_hold(hold_id: int, *, now: datetime) -> bool:
    """Release one hold if it is pending and past its timeout at ``now``; True if it did.

    For a caller that locked what the hold belongs to first (e.g. a redemption), so the
    locks are taken in its order. Raises HoldNotFound.
    """
    hold = _lock_hold(hold_id)
    if hold.status != "pending" or hold.expires_at > now:
        return False
    _release(hold, "expired")
    return True
