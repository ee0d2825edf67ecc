"""Verified credits, entry by entry: what the honour roll ranks, a service record lists and
a certificate attests.

A credit counts when its transfer is verified service (``earn_*``: approved attendance and
hour logs) or a manual award a second organizer approved (``award``), and so does a
correction of one of them (``correct`` linked to it, either way), so a credit taken back
is taken back here too. Donations received are not service and never count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from timebank.extensions import db
from timebank.ledger.models import Account, Entry, Transfer
from timebank.reports.operations.ledger_sums import EARN_CODES, MANUAL_CODES


def counted_codes(include_manual: bool) -> tuple[str, ...]:
    return (*EARN_CODES, *MANUAL_CODES) if include_manual else EARN_CODES


def credit_entries(codes: tuple[str, ...]):
    """A SELECT of (entry, member account, the credit's own transfer) for every entry of a
    member account whose transfer is one of ``codes``, or a correction of one: join it to
    Account as ``account`` and filter by time and owner."""
    original = aliased(Transfer)
    account = aliased(Account)
    source = sa.case((Transfer.code == "correct", original.code), else_=Transfer.code).label(
        "source_code"
    )
    query = (
        sa.select(Entry, account, Transfer, original, source)
        .join(account, account.id == Entry.account_id)
        .join(Transfer, Transfer.id == Entry.transfer_id)
        .outerjoin(original, original.id == Transfer.corrects_id)
        .where(
            account.kind == "member",
            sa.or_(
                Transfer.code.in_(codes),
                sa.and_(Transfer.code == "correct", original.code.in_(codes)),
            ),
        )
    )
    return query, account, original


@dataclass
class CreditLine:
    entry_id: int
    at: datetime
    minutes_or_points: int
    code: str
    #: what caused the credit: attendance:<id>, hour_log:<id>, pending_credit:<id>
    reference: str


def member_credits(
    member_id: int,
    ledger: str,
    *,
    start: datetime,
    end: datetime,
    include_manual: bool = True,
    watermark: int | None = None,
) -> list[CreditLine]:
    """The member's counted entries in ``ledger`` posted in [start, end), oldest first;
    ``watermark``: only entries with an id up to it (what a certificate counted)."""
    query, account, original = credit_entries(counted_codes(include_manual))
    query = query.where(
        account.member_id == member_id,
        account.ledger == ledger,
        Entry.created_at >= start,
        Entry.created_at < end,
    ).order_by(Entry.id)
    if watermark is not None:
        query = query.where(Entry.id <= watermark)
    lines = []
    for entry, _account, transfer, corrected, source in db.session.execute(query):
        cause = corrected if corrected is not None else transfer
        lines.append(
            CreditLine(
                entry_id=entry.id,
                at=entry.created_at,
                minutes_or_points=entry.amount,
                code=source,
                reference=f"{cause.reference_type}:{cause.reference_id}",
            )  # fmt: skip
        )
    return lines
