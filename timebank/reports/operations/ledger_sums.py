"""Figures from the ledger: what members earned, were awarded, redeemed and lost to expiry,
per unit and month of a period, and who was active.

A transfer counts for the unit of the member account it credits or debits: the member's
home unit when the account was opened (the ledger's own rule, ``unit_of_transfer``), so a
later move does not rewrite past reports. A transfer counts in the period its
``created_at`` (the moment it was posted: the approval of the service) falls in.

Most of a period is read from ``report_flows`` (flows.py): the member side of each transfer
with its unit beside it, one index range per unit of the subtree; the transfers past its
mark come straight from the ledger, so a roll-up is exact whether or not the job has run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from timebank.extensions import db
from timebank.ledger.models import Account, Transfer
from timebank.people.models import PartyProfile
from timebank.reports.models import ReportFlow
from timebank.reports.operations.flows import flows_mark
from timebank.reports.periods import Period
from timebank.units.models import UnitClosure

#: verified service: approved check-ins, hour logs (projects and small wishes)
EARN_CODES = ("earn_service", "earn_checkin", "earn_project")
#: manual credits (a second organizer approved them)
MANUAL_CODES = ("award",)
#: what a roll-up shows per ledger, each a (code, side of the member's account)
CREDIT_CODES = (*EARN_CODES, *MANUAL_CODES, "correct", "donate")
DEBIT_CODES = ("redeem", "expire", "correct", "donate")


@dataclass
class Flows:
    """One ledger's figures for a unit (or a part of it) over a period."""

    earned: int = 0
    awarded: int = 0
    redeemed: int = 0
    expired: int = 0
    #: corrections, net: credits less debits by ``correct`` transfers (refunds included)
    corrected: int = 0

    def add(self, other: Flows) -> None:
        for name in ("earned", "awarded", "redeemed", "expired", "corrected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class LedgerFigures:
    """Per key (a unit, or the part of a roll-up it belongs to) and month index: HOURS and
    POINTS flows; and who earned by service."""

    #: (key, month index, ledger) -> Flows
    cells: dict[tuple, Flows] = field(default_factory=dict)
    #: key -> ids of the members with verified service credited there in the period
    earners: dict = field(default_factory=lambda: defaultdict(set))

    def flows(self, key: tuple[int, int, str]) -> Flows:
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = Flows()
        return found


def subtree(unit_id: int) -> sa.Select:
    return sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)


def month_index(column, period: Period):
    """A SQL CASE giving the month of ``period`` a moment falls in (0, 1, ...)."""
    bounds = period.month_bounds()
    if not bounds:
        return sa.literal(0)
    return sa.case(
        *[(column < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds)
    )


def _side(period: Period, unit_id: int, account_column, codes: tuple[str, ...], *, after: int):
    """Straight from the ledger: transfers past ``after`` (the derived table's mark) in
    ``period`` whose ``account_column`` is a member account of the subtree, by (member,
    account's unit, month, ledger, code)."""
    account = aliased(Account)
    bucket = month_index(Transfer.created_at, period).label("bucket")
    keys = [account.member_id, account.unit_id, bucket, Transfer.ledger, Transfer.code]
    return (
        sa.select(*keys, sa.func.sum(Transfer.amount))
        .select_from(Transfer)
        # "+ 0": no index on the account column, or SQLite's planner starts from the
        # subtree's accounts and reads each one's whole history
        .join(account, account.id == account_column + 0)
        .where(
            Transfer.id > after,
            Transfer.created_at >= period.start,
            Transfer.created_at < period.end,
            Transfer.code.in_(codes),
            account.kind == "member",
            account.unit_id.in_(subtree(unit_id)),
        )
        .group_by(*keys)
    )


def _derived(period: Period, unit_id: int, upto: int):
    """From ``report_flows`` (up to its mark): sums by (unit, month, ledger, code, side)."""
    bucket = month_index(ReportFlow.created_at, period).label("bucket")
    keys = [ReportFlow.unit_id, bucket, ReportFlow.ledger, ReportFlow.code, ReportFlow.side]
    return (
        sa.select(*keys, sa.func.sum(ReportFlow.amount))
        .where(*_derived_range(period, unit_id, upto))
        .group_by(*keys)
    )


def _derived_range(period: Period, unit_id: int, upto: int) -> list:
    return [
        ReportFlow.unit_id.in_(subtree(unit_id)),
        ReportFlow.created_at >= period.start,
        ReportFlow.created_at < period.end,
        ReportFlow.transfer_id <= upto,
    ]


def _derived_earners(period: Period, unit_id: int, upto: int):
    return (
        sa.select(ReportFlow.unit_id, ReportFlow.member_id)
        .where(
            *_derived_range(period, unit_id, upto),
            ReportFlow.side == "c",
            ReportFlow.code.in_(EARN_CODES),
        )
        .distinct()
    )


#: (side of the member's account, code) -> (the Flows field it adds to, sign)
KIND_OF = {
    **{("c", code): ("earned", 1) for code in EARN_CODES},
    **{("c", code): ("awarded", 1) for code in MANUAL_CODES},
    ("c", "correct"): ("corrected", 1),
    ("d", "correct"): ("corrected", -1),
    ("d", "redeem"): ("redeemed", 1),
    ("d", "expire"): ("expired", 1),
}


def _add(figures: LedgerFigures, key, side: str, bucket, ledger, code, amount) -> None:
    kind = KIND_OF.get((side, code))
    if kind is not None:
        flows = figures.flows((key, bucket, ledger))
        setattr(flows, kind[0], getattr(flows, kind[0]) + kind[1] * int(amount))


def ledger_figures(
    unit_id: int, period: Period, key_of: Callable[[int], Hashable] | None = None
) -> LedgerFigures:
    """Every member flow of the subtree over ``period``, by month and by ``key_of(unit)``
    (default: the unit itself; a roll-up passes the part each unit belongs to), and who
    earned by service there: from ``report_flows`` up to its mark, and from the ledger
    after it. Rows are read as plain tuples (a street's quarter is tens of thousands)."""
    key_of = key_of or (lambda unit: unit)
    figures = LedgerFigures()
    run = db.session.connection().execute
    upto = flows_mark()
    if upto:
        for unit, bucket, ledger, code, side, amount in run(_derived(period, unit_id, upto)):
            _add(figures, key_of(unit), side, bucket, ledger, code, amount)
        for unit, member in run(_derived_earners(period, unit_id, upto)):
            figures.earners[key_of(unit)].add(member)
    credits = _side(period, unit_id, Transfer.credit_account_id, CREDIT_CODES, after=upto)
    for member, unit, bucket, ledger, code, amount in run(credits):
        _add(figures, key_of(unit), "c", bucket, ledger, code, amount)
        if code in EARN_CODES:
            figures.earners[key_of(unit)].add(member)
    debits = _side(period, unit_id, Transfer.debit_account_id, DEBIT_CODES, after=upto)
    for _member, unit, bucket, ledger, code, amount in run(debits):
        _add(figures, key_of(unit), "d", bucket, ledger, code, amount)
    return figures


def party_members_among(member_ids: set[int]) -> set[int]:
    """Which of ``member_ids`` are party members (one query, whatever their number)."""
    if not member_ids:
        return set()
    if len(member_ids) <= 500:
        query = sa.select(PartyProfile.member_id).where(PartyProfile.member_id.in_(member_ids))
        return set(db.session.scalars(query))
    return set(db.session.scalars(sa.select(PartyProfile.member_id))) & member_ids
