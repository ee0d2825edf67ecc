"""Reading a member's ledger: balances, and the statement of their entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from timebank.extensions import db
from timebank.ledger.models import LEDGERS, Entry
from timebank.ledger.operations.sql import ACCOUNTS, ENTRIES, TRANSFERS, dbapi_cursor

#: a member's accounts by the unique (ledger, owner_key) index (naming every ledger lets
#: the index find the rows), for sqlite3 and for psycopg
_BALANCES_SQL = {
    pg: "SELECT ledger, balance, held FROM accounts "
    f"WHERE ledger IN ({', '.join(repr(name) for name in LEDGERS)}) AND owner_key = {mark}"
    for pg, mark in ((False, "?"), (True, "%s"))
}


def balances(member_id: int) -> dict[str, dict[str, int]]:
    """``{"HOURS": {"balance", "held", "available"}, "POINTS": {...}}`` for a member.

    One indexed read of at most two rows, whatever the length of the history, in plain
    SQL on the session's own cursor (as posting reads the accounts it locks).
    """
    cursor, pg = dbapi_cursor()
    cursor.execute(_BALANCES_SQL[pg], (f"member:{member_id}",))
    rows = cursor.fetchall()
    cursor.close()
    result = {ledger: {"balance": 0, "held": 0, "available": 0} for ledger in LEDGERS}
    for ledger, balance, held in rows:
        result[ledger] = {"balance": balance, "held": held, "available": balance - held}
    return result


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
