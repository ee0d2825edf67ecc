"""Accounts, opened on first use: one per member and per merchant in each ledger, and a
unit's system accounts (issuance, expiry, correction, settlement, pool).

The ledger knows no caller: it never looks a member up. A member's account records, when
it is opened, the unit whose system accounts it settles with (the caller passes the
member's home unit); a system account is its unit's own. Merchant accounts have no unit.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput, NotFound
from timebank.extensions import db
from timebank.ledger.errors import AccountNotFound, UnknownLedger
from timebank.ledger.models import GENESIS_HASH, LEDGERS, SYSTEM_KINDS, Account, Transfer


def check_ledger(ledger: str) -> None:
    """Raise UnknownLedger unless ``ledger`` is HOURS or POINTS."""
    if ledger not in LEDGERS:
        raise UnknownLedger(
            "Unknown ledger %(ledger)s; use HOURS or POINTS.",
            errors={"ledger": ["Unknown ledger."]},
            params={"ledger": ledger},
        )


def _owner_key(kind: str, *, member_id=None, unit_id=None, merchant_id=None) -> str:
    if kind == "member":
        return f"member:{member_id}"
    if kind == "merchant":
        return f"merchant:{merchant_id}"
    return f"unit:{unit_id}:{kind}"


def _new_account(ledger: str, kind: str, owner_key: str, **owner) -> dict:
    """The columns of an account opened now, empty."""
    return {
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


def _insert_missing(rows: list[dict]) -> None:
    """INSERT the accounts, leaving any another transaction opened first (one statement;
    PostgreSQL waits for a twin still being opened)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Account).values(rows).on_conflict_do_nothing(index_elements=["ledger", "owner_key"])
    )


def _open_account(ledger: str, kind: str, **owner) -> Account:
    """Get or create an account; safe when two transactions open the same one at once.

    Raises UnknownLedger; TypeError when a member's account would be opened without a unit.
    """
    check_ledger(ledger)
    owner_key = _owner_key(kind, **owner)
    query = sa.select(Account).where(Account.ledger == ledger, Account.owner_key == owner_key)
    account = db.session.scalar(query)
    if account is not None:
        return account
    if kind == "member" and owner.get("unit_id") is None:
        raise TypeError("a member's account is opened in a unit: pass the member's home unit")
    _insert_missing([_new_account(ledger, kind, owner_key, **owner)])
    return db.session.scalar(query)


def member_account_ids(ledger: str, home_units: dict[int, int]) -> dict[int, int]:
    """member id -> id of their account in ``ledger``, for the members of ``home_units``
    (member id -> home unit, where an account not open yet is opened): one read, and for
    those missing one insert and one more read, however many members. Raises UnknownLedger.
    """
    check_ledger(ledger)
    keys = {f"member:{member_id}": member_id for member_id in home_units}
    query = sa.select(Account.owner_key, Account.id).where(
        Account.ledger == ledger, Account.owner_key.in_(sa.bindparam("keys", expanding=True))
    )
    found = dict(db.session.execute(query, {"keys": list(keys)}).all())
    missing = [key for key in keys if key not in found]
    if missing:
        _insert_missing([
            _new_account(ledger, "member", key, member_id=keys[key],
                         unit_id=home_units[keys[key]])
            for key in missing
        ])  # fmt: skip
        found |= dict(db.session.execute(query, {"keys": missing}).all())
    return {keys[key]: account_id for key, account_id in found.items()}


def member_account(member_id: int, ledger: str, *, unit_id: int) -> Account:
    """The member's account in ``ledger``; may not go negative.

    Opened on first use in ``unit_id``, the member's home unit: the unit whose system
    accounts it settles with (expiry, the donation pool). An open account keeps the unit
    it was opened in. Raises UnknownLedger.
    """
    return _open_account(ledger, "member", member_id=member_id, unit_id=unit_id)


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


def expire_identity_map(account_ids: Iterable[int]) -> None:
    """Accounts were updated with Core; make loaded ORM copies re-read on next access."""
    identity = db.session.identity_map
    for account_id in account_ids:
        obj = identity.get(db.session.identity_key(Account, account_id))
        if obj is not None:
            db.session.expire(obj)


def unit_of_transfer(transfer: Transfer) -> int:
    """The unit whose organizers answer for a transfer: a member account's unit (the
    credited member's first), else a system account's unit. Raises NotFound when none
    of its accounts has a unit."""
    debit = get_account(transfer.debit_account_id)
    credit = get_account(transfer.credit_account_id)
    for account in (credit, debit):
        if account.kind == "member" and account.unit_id is not None:
            return account.unit_id
    for account in (debit, credit):
        if account.unit_id is not None:
            return account.unit_id
    raise NotFound("No unit answers for transfer %(id)s.", params={"id": transfer.id})
