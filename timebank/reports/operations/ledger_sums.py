"""Figures from the ledger: what members earned, were awarded, redeemed and lost to expiry,
per unit and month of a period, and who was active.

A transfer counts for the unit of the member account it credits or debits: the member's
home unit when the account was opened (the ledger's own rule, ``unit_of_transfer``), so a
later move does not rewrite past reports. A transfer counts in the period its
``created_at`` (the moment it was posted: the approval of the service) falls in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from timebank.extensions import db
from timebank.ledger.models import Account, Transfer
from timebank.people.models import PartyProfile
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
    """Per unit id and month index: HOURS and POINTS flows."""

    #: (unit id, month index, ledger) -> Flows
    cells: dict[tuple[int, int, str], Flows] = field(default_factory=dict)

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


def _side(period: Period, unit_id: int, account_column, codes: tuple[str, ...]):
    """Sums of transfers in ``period`` whose ``account_column`` is a member account of the
    subtree, by (account's unit, month, ledger, code)."""
    account = aliased(Account)
    bucket = month_index(Transfer.created_at, period).label("bucket")
    return (
        sa.select(
            account.unit_id,
            bucket,
            Transfer.ledger,
            Transfer.code,
            sa.func.sum(Transfer.amount),
        )
        .join(account, account.id == account_column)
        .where(
            Transfer.created_at >= period.start,
            Transfer.created_at < period.end,
            Transfer.code.in_(codes),
            account.kind == "member",
            account.unit_id.in_(subtree(unit_id)),
        )
        .group_by(account.unit_id, bucket, Transfer.ledger, Transfer.code)
    )


def ledger_figures(unit_id: int, period: Period) -> LedgerFigures:
    """Every member flow of the subtree over ``period``, by unit and month."""
    figures = LedgerFigures()
    credits = _side(period, unit_id, Transfer.credit_account_id, CREDIT_CODES)
    for unit, bucket, ledger, code, amount in db.session.execute(credits):
        flows = figures.flows((unit, bucket, ledger))
        if code in EARN_CODES:
            flows.earned += amount
        elif code in MANUAL_CODES:
            flows.awarded += amount
        elif code == "correct":
            flows.corrected += amount
    debits = _side(period, unit_id, Transfer.debit_account_id, DEBIT_CODES)
    for unit, bucket, ledger, code, amount in db.session.execute(debits):
        flows = figures.flows((unit, bucket, ledger))
        if code == "redeem":
            flows.redeemed += amount
        elif code == "expire":
            flows.expired += amount
        elif code == "correct":
            flows.corrected -= amount
    return figures


def active_members(unit_id: int, period: Period, *, by_unit: bool) -> dict:
    """Distinct members with verified service credited in ``period`` (any ledger), and how
    many of them are party members: ``{unit id or None: (volunteers, party members)}``."""
    account = aliased(Account)
    earners = (
        sa.select(account.member_id, account.unit_id)
        .join(Transfer, Transfer.credit_account_id == account.id)
        .where(
            Transfer.created_at >= period.start,
            Transfer.created_at < period.end,
            Transfer.code.in_(EARN_CODES),
            account.kind == "member",
            account.unit_id.in_(subtree(unit_id)),
        )
        .distinct()
        .subquery()
    )
    group = [earners.c.unit_id] if by_unit else []
    query = (
        sa.select(
            *group,
            sa.func.count(sa.distinct(earners.c.member_id)),
            sa.func.count(sa.distinct(PartyProfile.member_id)),
        )
        .select_from(earners)
        .outerjoin(PartyProfile, PartyProfile.member_id == earners.c.member_id)
        .group_by(*group)
    )
    found: dict = defaultdict(lambda: (0, 0))
    for row in db.session.execute(query):
        key = row[0] if by_unit else None
        found[key] = (row[-2], row[-1])
    return found
