"""Figures from the ledger: what members earned, were awarded, redeemed and lost to expiry,
per unit and month of a period, and who was active.

A transfer counts for the unit of the member account it credits or debits: the member's
home unit when the account was opened (the ledger's own rule, ``unit_of_transfer``), so a
later move does not rewrite past reports. A transfer counts in the period its
``created_at`` (the moment it was posted: the approval of the service) falls in.

Most of a period is read from ``report_flows`` (flows.py): the member side of each transfer
with its unit beside it, one index range per unit of the subtree, summed by part in the
database (a street's quarter is a few hundred rows, not one a unit and month); the
transfers past its mark come straight from the ledger, so a roll-up is exact whether or
not the job has run. The units' parts are mapped once per statement (a materialized CTE:
SQLite's planner otherwise looks a flow's part up row by row, twice as slow).
"""

from __future__ import annotations

from collections import defaultdict
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


def units_to_parts(unit_id: int):
    """Every unit of the subtree (``unit_id``) and the part it belongs to (``part``): the
    child of ``unit_id`` above it, or ``unit_id`` itself. The closure holds each unit's
    ancestors at every depth: the part is the one a level below ``unit_id`` (for
    ``unit_id`` itself, its own pair at depth 0). An inner join, so a planner may map the
    units before it reads their flows."""
    whole, above = aliased(UnitClosure), aliased(UnitClosure)
    one_below = sa.case((whole.depth > 0, whole.depth - 1), else_=0)
    return (
        sa.select(whole.descendant_id.label("unit_id"), above.ancestor_id.label("part"))
        .select_from(whole)
        .join(above, sa.and_(above.descendant_id == whole.descendant_id, above.depth == one_below))
        .where(whole.ancestor_id == unit_id)
        .cte("parts")
        .prefix_with("MATERIALIZED")
    )


def _tail(period: Period, *, after: int):
    """Straight from the ledger: the transfers past ``after`` (the derived table's mark) in
    ``period`` with a code a roll-up counts, row by row. While the flows job runs, these
    are the last minutes'; their accounts are looked up next (``_member_accounts``)."""
    return sa.select(
        Transfer.debit_account_id,
        Transfer.credit_account_id,
        month_index(Transfer.created_at, period),
        Transfer.ledger,
        Transfer.code,
        Transfer.amount,
    ).where(
        Transfer.id > after,
        Transfer.created_at >= period.start,
        Transfer.created_at < period.end,
        Transfer.code.in_(sorted({*CREDIT_CODES, *DEBIT_CODES})),
    )


#: a tail naming more accounts than this maps the subtree's member accounts whole
ACCOUNTS_BY_ID = 500


def _member_accounts(unit_id: int, account_ids: set[int]) -> dict[int, tuple[int, int]]:
    """``{account id: (member id, part)}`` for those of ``account_ids`` that are member
    accounts of the subtree, in one statement (the map of units to parts joined once). A
    tail of up to ACCOUNTS_BY_ID accounts names them; a longer one reads the subtree's
    member accounts whole. Asking 500 ids a query, with the map joined to each, made
    PostgreSQL work the map out about nine times a report under load; joining the tail's
    transfers to their accounts instead left the join's plan to row estimates that lag a
    busy day's ledger (67 ms a report against 36)."""
    mapping = units_to_parts(unit_id)
    query = (
        sa.select(Account.id, Account.member_id, mapping.c.part)
        .join(mapping, mapping.c.unit_id == Account.unit_id)
        .where(Account.kind == "member")
    )
    if len(account_ids) <= ACCOUNTS_BY_ID:
        query = query.where(Account.id.in_(sorted(account_ids)))
    return {
        account: (member, part)
        for account, member, part in db.session.execute(query)
        if account in account_ids
    }


def _derived(period: Period, unit_id: int, upto: int):
    """From ``report_flows`` (up to its mark): sums by (part, month, ledger, code, side)."""
    mapping = units_to_parts(unit_id)
    bucket = month_index(ReportFlow.created_at, period).label("bucket")
    keys = [mapping.c.part, bucket, ReportFlow.ledger, ReportFlow.code, ReportFlow.side]
    return (
        sa.select(*keys, sa.func.sum(ReportFlow.amount))
        .join(mapping, mapping.c.unit_id == ReportFlow.unit_id)
        .where(*_derived_range(period, upto))
        .group_by(*keys)
    )


def _derived_range(period: Period, upto: int) -> list:
    return [
        ReportFlow.created_at >= period.start,
        ReportFlow.created_at < period.end,
        ReportFlow.transfer_id <= upto,
    ]


def _derived_earners(period: Period, unit_id: int, upto: int):
    mapping = units_to_parts(unit_id)
    return (
        sa.select(mapping.c.part, ReportFlow.member_id)
        .join(mapping, mapping.c.unit_id == ReportFlow.unit_id)
        .where(
            *_derived_range(period, upto),
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


def ledger_figures(unit_id: int, period: Period) -> LedgerFigures:
    """Every member flow of the subtree over ``period``, by month and by part (a child of
    the unit with its subtree, or the unit itself: the key is the part's unit id), and who
    earned by service in each part: from ``report_flows`` up to its mark, summed by part in
    the database, and from the ledger after it."""
    figures = LedgerFigures()
    run = db.session.connection().execute
    upto = flows_mark()
    if upto:
        for part, bucket, ledger, code, side, amount in run(_derived(period, unit_id, upto)):
            _add(figures, part, side, bucket, ledger, code, amount)
        for part, member in run(_derived_earners(period, unit_id, upto)):
            figures.earners[part].add(member)
    tail = run(_tail(period, after=upto)).all()
    if tail:
        accounts = _member_accounts(unit_id, {a for row in tail for a in row[:2]})
        for debit, credit, bucket, ledger, code, amount in tail:
            if credit in accounts and code in CREDIT_CODES:
                member, part = accounts[credit]
                _add(figures, part, "c", bucket, ledger, code, amount)
                if code in EARN_CODES:
                    figures.earners[part].add(member)
            if debit in accounts and code in DEBIT_CODES:
                _add(figures, accounts[debit][1], "d", bucket, ledger, code, amount)
    return figures


def party_members_among(member_ids: set[int]) -> set[int]:
    """Which of ``member_ids`` are party members (one query, whatever their number)."""
    if not member_ids:
        return set()
    if len(member_ids) <= 500:
        query = sa.select(PartyProfile.member_id).where(PartyProfile.member_id.in_(member_ids))
        return set(db.session.scalars(query))
    return set(db.session.scalars(sa.select(PartyProfile.member_id))) & member_ids
