"""The derived table of member flows (``report_flows``): filled from the ledger up to a mark,
rebuildable, and read together with the ledger's transfers past the mark.

A transfer is taken only once it is ``MARGIN`` old: on PostgreSQL an id is given when a
transfer is inserted, and a transaction holding a smaller id may still commit after a
larger one is seen; the mark never passes a transfer that might still be on its way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from timebank.core.clock import utcnow
from timebank.core.db import insert_unless_taken
from timebank.extensions import db
from timebank.ledger.models import Account, Transfer
from timebank.reports.models import ReportFlow, ReportMark

NAME = "report_flows"
MARGIN = timedelta(minutes=5)
#: transfers taken in one refresh at most (a job catches up over several runs)
BATCH = 500_000


def flows_mark() -> int:
    """Every transfer with an id up to this one is in ``report_flows`` (0: none)."""
    found = db.session.scalar(sa.select(ReportMark.transfer_id).where(ReportMark.name == NAME))
    return int(found or 0)


def _locked_mark() -> ReportMark:
    """The mark's row, locked (two refreshes take turns); made on first use."""
    table = ReportMark.__table__
    db.session.execute(
        insert_unless_taken(table, table.c.name).values(
            name=NAME, transfer_id=0, updated_at=utcnow()
        )
    )
    return db.session.scalar(
        sa.select(ReportMark)
        .where(ReportMark.name == NAME)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def refresh_flows(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Copy the member side of each transfer past the mark (and at least ``MARGIN`` old)
    into ``report_flows``, and move the mark. Returns how many transfers it took; running it
    again takes nothing new."""
    now = now or utcnow()
    mark = _locked_mark()
    start = mark.transfer_id
    next_ones = (
        sa.select(Transfer.id)
        .where(Transfer.id > start, Transfer.created_at <= now - MARGIN)
        .order_by(Transfer.id)
        .limit(batch)
        .subquery()
    )
    newest, taken = db.session.execute(
        sa.select(sa.func.max(next_ones.c.id), sa.func.count())
    ).one()
    if newest is None:
        return 0
    for side, column in (("c", Transfer.credit_account_id), ("d", Transfer.debit_account_id)):
        account = aliased(Account)
        rows = (
            sa.select(
                Transfer.id,
                sa.literal(side),
                account.unit_id,
                account.member_id,
                Transfer.ledger,
                Transfer.code,
                Transfer.amount,
                Transfer.created_at,
            )  # fmt: skip
            .join(account, account.id == column)
            .where(
                Transfer.id > start,
                Transfer.id <= newest,
                account.kind == "member",
                account.unit_id.is_not(None),
                account.member_id.is_not(None),
            )
        )
        db.session.execute(
            sa.insert(ReportFlow).from_select(
                [
                    "transfer_id",
                    "side",
                    "unit_id",
                    "member_id",
                    "ledger",
                    "code",
                    "amount",
                    "created_at",
                ],
                rows,
            )  # fmt: skip
        )
    mark.transfer_id, mark.updated_at = newest, now
    db.session.flush()
    return taken


def rebuild_flows(*, now: datetime | None = None) -> int:
    """Empty ``report_flows`` and fill it again from the ledger. Returns transfers taken."""
    _locked_mark().transfer_id = 0
    db.session.execute(sa.delete(ReportFlow))
    db.session.flush()
    taken = 0
    while moved := refresh_flows(now=now):
        taken += moved
    return taken
