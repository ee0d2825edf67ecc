"""The public notice (公示) of a community: this month's and this year's totals, beside the
latest signed checkpoints. Counts only: no name, no phone, nothing about one person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from timebank.activities.models import Activity
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.ledger.models import LEDGERS, Account, Transfer
from timebank.projects.models import Need
from timebank.transparency.errors import NotACommunity
from timebank.units.models import Unit, UnitClosure

#: transfers that credit a member for verified service or an approved award
CREDIT_CODES = ("earn_service", "earn_checkin", "earn_project", "award")
PERIODS = ("month", "year")


@dataclass
class PeriodTotals:
    """One period's totals for a community and everything below it."""

    period: str
    #: the period's first local day
    starts_on: date
    #: ledger -> minutes (HOURS) or points credited for service and awards
    credited: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGERS, 0))
    #: ledger -> spent at merchants, less refunds
    redeemed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGERS, 0))
    #: ledger -> expired (POINTS past their lot's date)
    expired: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGERS, 0))
    #: activities of the community that ended in the period (not cancelled)
    activities_held: int = 0
    #: distinct members credited for service in the period
    volunteers: int = 0
    #: distinct residents whose needs (small wishes too) were resolved in the period
    people_served: int = 0


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def get_community(unit_id: int) -> Unit:
    """The community a notice is for; raises NotACommunity (404) for any other unit."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.kind != "community":
        raise NotACommunity()
    return unit


def list_communities() -> list[Unit]:
    return list(
        db.session.scalars(sa.select(Unit).where(Unit.kind == "community").order_by(Unit.id))
    )


def community_totals(unit_id: int, now: datetime | None = None) -> list[PeriodTotals]:
    """This month's and this year's totals (local calendar) of a community's subtree.

    Until issue 22's ``timebank.reports`` lands, this computes them itself: one query over
    the ledger (credited, redeemed less refunds, expired, and distinct volunteers), one
    over activities and one over needs, each counting a member by the unit the account was
    opened in / the activity or need by its unit. THE LEAD WIRES THIS to the reports
    module's roll-up for the unit and the periods "month" and "year" once both branches
    have landed; the page and its tests read only this function's result.
    """
    now = now or utcnow()
    zone = local_zone()
    today = now.astimezone(zone).date()
    starts = {"month": today.replace(day=1), "year": today.replace(month=1, day=1)}
    bounds = {p: datetime.combine(d, time(), tzinfo=zone) for p, d in starts.items()}
    totals = {p: PeriodTotals(p, starts[p]) for p in PERIODS}
    subtree = sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)
    _ledger_totals(totals, subtree, bounds, now)
    _evidence_totals(totals, subtree, bounds, now)
    return [totals[p] for p in PERIODS]


def _ledger_totals(totals, subtree, bounds, now) -> None:
    debit = aliased(Account)
    credit = aliased(Account)
    corrected = aliased(Transfer)
    ours = lambda account: sa.and_(account.kind == "member", account.unit_id.in_(subtree))  # noqa: E731
    kinds = {
        "credited": sa.and_(Transfer.code.in_(CREDIT_CODES), ours(credit)),
        "redeemed": sa.and_(Transfer.code == "redeem", ours(debit)),
        "refunded": sa.and_(Transfer.code == "correct", corrected.code == "redeem", ours(credit)),
        "expired": sa.and_(Transfer.code == "expire", ours(debit)),
    }
    columns = []
    for period in PERIODS:
        since = Transfer.created_at >= bounds[period]
        for ledger in LEDGERS:
            for kind, condition in kinds.items():
                wanted = sa.and_(since, Transfer.ledger == ledger, condition)
                columns.append(
                    sa.func.coalesce(
                        sa.func.sum(sa.case((wanted, Transfer.amount), else_=0)), 0
                    ).label(f"{period}_{ledger}_{kind}")
                )
        served = sa.and_(since, kinds["credited"], Transfer.code != "award")
        columns.append(
            sa.func.count(sa.distinct(sa.case((served, credit.member_id)))).label(
                f"{period}_volunteers"
            )
        )
    query = (
        sa.select(*columns)
        .join(debit, debit.id == Transfer.debit_account_id)
        .join(credit, credit.id == Transfer.credit_account_id)
        .outerjoin(corrected, corrected.id == Transfer.corrects_id)
        .where(Transfer.created_at >= min(bounds.values()), Transfer.created_at <= now)
    )
    row = db.session.execute(query).mappings().one()
    for period in PERIODS:
        item = totals[period]
        for ledger in LEDGERS:
            # PostgreSQL sums BIGINTs as NUMERIC: whole numbers, as int
            item.credited[ledger] = int(row[f"{period}_{ledger}_credited"])
            item.redeemed[ledger] = int(
                row[f"{period}_{ledger}_redeemed"] - row[f"{period}_{ledger}_refunded"]
            )
            item.expired[ledger] = int(row[f"{period}_{ledger}_expired"])
        item.volunteers = int(row[f"{period}_volunteers"])


def _evidence_totals(totals, subtree, bounds, now) -> None:
    for period in PERIODS:
        since = bounds[period]
        totals[period].activities_held = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Activity)
            .where(
                Activity.unit_id.in_(subtree),
                Activity.status == "published",
                Activity.ends_at >= since,
                Activity.ends_at <= now,
            )
        )
        totals[period].people_served = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Need.resident_id))).where(
                Need.unit_id.in_(subtree),
                Need.status == "resolved",
                Need.resolved_at >= since,
                Need.resolved_at <= now,
            )
        )
