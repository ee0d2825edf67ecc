"""An offer's limits: total stock and budget, and each member's redemptions per local day
and month. Checked while the offer's row is locked (PostgreSQL) or the write lock is
held (SQLite), so concurrent counters can never take more than the limits allow: held
redemptions count until they are voided or expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from timebank.extensions import db
from timebank.merchants.errors import (
    BudgetExhausted,
    DailyLimitReached,
    MonthlyLimitReached,
    OutOfStock,
)
from timebank.merchants.models import COUNTED_STATUSES, Offer, Redemption


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def local_midnight(day: date) -> datetime:
    """Midnight of ``day`` in the deployment's time zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def local_day_start(now: datetime) -> datetime:
    """The start of the local day ``now`` falls in, as UTC."""
    return local_midnight(now.astimezone(local_zone()).date())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def local_month_start(now: datetime) -> datetime:
    """The start of the local month ``now`` falls in, as UTC."""
    return local_midnight(month_start(now.astimezone(local_zone()).date()))


def _counted(offer: Offer, *conditions):
    return db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Redemption.points), 0)).where(
            Redemption.offer_id == offer.id,
            Redemption.status.in_(COUNTED_STATUSES),
            *conditions,
        )
    ).one()


def check_limits(offer: Offer, member_id: int, now: datetime) -> None:
    """Raise OutOfStock, BudgetExhausted, DailyLimitReached or MonthlyLimitReached when
    one more redemption of ``offer`` by the member would exceed a limit. The caller holds
    the offer's lock."""
    if offer.stock is not None or offer.budget_points is not None:
        count, points = _counted(offer)
        if offer.stock is not None and count >= offer.stock:
            raise OutOfStock("%(title)s is out of stock.", params={"title": offer.title})
        if offer.budget_points is not None and points + offer.points_cost > offer.budget_points:
            raise BudgetExhausted(
                "%(title)s has used up its budget.", params={"title": offer.title}
            )
    mine = Redemption.member_id == member_id
    if offer.per_member_daily is not None:
        count, _points = _counted(offer, mine, Redemption.created_at >= local_day_start(now))
        if count >= offer.per_member_daily:
            raise DailyLimitReached(
                "%(title)s: at most %(limit)s per person per day.",
                params={"title": offer.title, "limit": offer.per_member_daily},
            )
    if offer.per_member_monthly is not None:
        count, _points = _counted(offer, mine, Redemption.created_at >= local_month_start(now))
        if count >= offer.per_member_monthly:
            raise MonthlyLimitReached(
                "%(title)s: at most %(limit)s per person per month.",
                params={"title": offer.title, "limit": offer.per_member_monthly},
            )


def offer_usage(offer_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per offer: redemptions held and confirmed so far, and their points (one query)."""
    if not offer_ids:
        return {}
    rows = db.session.execute(
        sa.select(Redemption.offer_id, sa.func.count(), sa.func.sum(Redemption.points))
        .where(Redemption.offer_id.in_(offer_ids), Redemption.status.in_(COUNTED_STATUSES))
        .group_by(Redemption.offer_id)
    )
    usage = {offer_id: {"count": 0, "points": 0} for offer_id in offer_ids}
    for offer_id, count, points in rows:
        usage[offer_id] = {"count": count, "points": int(points or 0)}
    return usage


@dataclass(frozen=True)
class OfferLeft:
    """How much of an offer is left: what members, the counter and organizers are told."""

    #: redemptions held and confirmed so far, and their points
    used: int
    points_used: int
    #: redemptions left of the offer's stock; None without a stock
    stock_left: int | None
    #: points left of its budget; None without a budget
    budget_left: int | None
    #: no more redemptions: the stock is gone or the budget cannot pay one more
    sold_out: bool


def offers_left(offers: list[Offer]) -> dict[int, OfferLeft]:
    """Per offer: what is left of its stock and budget (one query), as check_limits
    counts it: held redemptions count until they are voided or expire."""
    usage = offer_usage([o.id for o in offers])
    left = {}
    for offer in offers:
        used = usage[offer.id]
        stock_left = budget_left = None
        if offer.stock is not None:
            stock_left = max(0, offer.stock - used["count"])
        if offer.budget_points is not None:
            budget_left = max(0, offer.budget_points - used["points"])
        sold_out = stock_left == 0 or (budget_left is not None and budget_left < offer.points_cost)
        left[offer.id] = OfferLeft(used["count"], used["points"], stock_left, budget_left, sold_out)
    return left
