"""What the counter, the dashboard and the member's phone show: redemptions by merchant
and by member, the pending ones, and a merchant's day and month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants.models import REDEMPTION_STATUSES, Merchant, Offer, Redemption
from timebank.merchants.operations.limits import (
    local_day_start,
    local_midnight,
    local_month_start,
)
from timebank.merchants.operations.settlement import (
    Figures,
    StatementLine,
    figures_between,
    lines_between,
    merchant_balance,
)

#: the most a list of redemptions returns
MAX_LIST = 100
#: the most decided redemptions one redeem page shows the ending of
MAX_OUTCOMES = 5


def _with_names(query: sa.Select) -> sa.Select:
    return query.options(
        joinedload(Redemption.member), joinedload(Redemption.offer), joinedload(Redemption.merchant)
    )


def merchant_redemptions(
    merchant_id: int, *, status: str | None = None, limit: int = 10
) -> list[Redemption]:
    """A merchant's redemptions, newest first (the counter shows the last ten)."""
    query = sa.select(Redemption).where(Redemption.merchant_id == merchant_id)
    if status is not None and status in REDEMPTION_STATUSES:
        query = query.where(Redemption.status == status)
    query = query.order_by(Redemption.created_at.desc(), Redemption.id.desc())
    return list(db.session.scalars(_with_names(query).limit(min(limit, MAX_LIST))))


def member_redemptions(member_id: int, *, limit: int = 50) -> list[Redemption]:
    """A member's redemptions, newest first: pending ones and receipts."""
    query = (
        sa.select(Redemption)
        .where(Redemption.member_id == member_id)
        .order_by(Redemption.created_at.desc(), Redemption.id.desc())
    )
    return list(db.session.scalars(_with_names(query).limit(min(limit, MAX_LIST))))


def member_outcomes(member_id: int, redemption_ids: list[int]) -> list[Redemption]:
    """Which of ``redemption_ids`` (the ones the member's phone was waiting on) the shop
    has decided: the member's own only, held ones left out."""
    if not redemption_ids:
        return []
    query = sa.select(Redemption).where(
        Redemption.member_id == member_id,
        Redemption.id.in_(redemption_ids[:MAX_OUTCOMES]),
        Redemption.status != "held",
    )
    return list(db.session.scalars(_with_names(query).order_by(Redemption.id)))


def redemption_shops(redemption_ids: list[int]) -> dict[int, str]:
    """``{redemption id: the shop's name}``, in one query (statement lines name the shop)."""
    rows = db.session.execute(
        sa.select(Redemption.id, Merchant.name)
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(Redemption.id.in_(redemption_ids))
    )
    return {key: value for key, value in rows}


def redemption_offers(redemption_ids: list[int]) -> dict[int, str]:
    """``{redemption id: the offer's title}``, in one query."""
    rows = db.session.execute(
        sa.select(Redemption.id, Offer.title)
        .join(Offer, Offer.id == Redemption.offer_id)
        .where(Redemption.id.in_(redemption_ids))
    )
    return {key: value for key, value in rows}


def member_pending(member_id: int, *, now: datetime | None = None) -> list[Redemption]:
    """The member's redemptions waiting for the shop to confirm (not yet timed out)."""
    now = now or utcnow()
    query = sa.select(Redemption).where(
        Redemption.member_id == member_id,
        Redemption.status == "held",
        Redemption.expires_at > now,
    )
    return list(db.session.scalars(_with_names(query).order_by(Redemption.id)))


@dataclass(frozen=True)
class Tally:
    """Redemptions of a day or a month, counted as its statement counts them."""

    #: redeem transfers (confirmed redemptions), refunded ones included
    count: int
    #: points owed: redeemed less refunded
    points: int
    #: how many of them were refunded
    refunds: int = 0


@dataclass(frozen=True)
class MerchantSummary:
    """A merchant's dashboard figures."""

    today: Tally
    month: Tally
    #: points received and not yet settled (the merchant's ledger balance)
    balance: int
    #: redemptions waiting for a decision at the counter now
    waiting: int


def _tally(merchant_id: int, start: datetime, end: datetime) -> Tally:
    """The figures a statement of [start, end) would have (settlement.figures_between)."""
    figures = figures_between(merchant_id, start, end)
    return Tally(figures.redemptions, figures.points_net, figures.refunds)


def merchant_summary(merchant_id: int, *, now: datetime | None = None) -> MerchantSummary:
    """Today's and this month's redemptions (local time), counted as the month's
    statement counts them; the unsettled balance; how many wait at the counter."""
    now = now or utcnow()
    waiting = db.session.scalar(
        sa.select(sa.func.count()).where(
            Redemption.merchant_id == merchant_id,
            Redemption.status == "held",
            Redemption.expires_at > now,
        )
    )
    return MerchantSummary(
        today=_tally(merchant_id, local_day_start(now), now + timedelta(seconds=1)),
        month=_tally(merchant_id, local_month_start(now), now + timedelta(seconds=1)),
        balance=merchant_balance(merchant_id),
        waiting=waiting,
    )


def count_applications_waiting(unit_ids, *, created_before: datetime | None = None) -> int:
    """Shops of ``unit_ids`` (ids, or a SELECT of them) whose application waits for an
    organizer; ``created_before``: only those that applied before then."""
    query = sa.select(sa.func.count(Merchant.id)).where(
        Merchant.unit_id.in_(unit_ids), Merchant.status == "pending"
    )
    if created_before is not None:
        query = query.where(Merchant.created_at < created_before)
    return db.session.scalar(query)


@dataclass(frozen=True)
class CloseOut:
    """A shop's day at the counter, as its month's statement will count it."""

    day: date
    #: the day's redeem transfers and their refunds (settlement.figures_between)
    figures: Figures
    #: each redeem transfer of the day, oldest first, with what was refunded of it
    lines: list[StatementLine]
    #: per offer: (title, redemptions, points owed)
    by_offer: list[tuple[str, int, int]]
    #: holds of the day that were cancelled or lapsed (nothing taken)
    not_taken: int


def close_out(merchant_id: int, day: date) -> CloseOut:
    """The shop's local ``day``: what was redeemed, refunded and owed, by offer and line
    by line (the daily close-out; its CSV goes through core/exports.py)."""
    start = local_midnight(day)
    end = local_midnight(day + timedelta(days=1))
    lines = lines_between(merchant_id, start, end)
    by_offer: dict[str, list[int]] = {}
    for line in lines:
        counts = by_offer.setdefault(line.offer_title, [0, 0])
        counts[0] += 1
        counts[1] += line.points - line.refunded
    not_taken = db.session.scalar(
        sa.select(sa.func.count(Redemption.id)).where(
            Redemption.merchant_id == merchant_id,
            Redemption.status.in_(("voided", "expired")),
            Redemption.created_at >= start,
            Redemption.created_at < end,
        )
    )
    return CloseOut(
        day=day,
        figures=figures_between(merchant_id, start, end),
        lines=lines,
        by_offer=sorted(((t, c, p) for t, (c, p) in by_offer.items()), key=lambda r: -r[2]),
        not_taken=not_taken,
    )
