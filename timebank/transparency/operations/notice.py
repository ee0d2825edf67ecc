"""The public notice (公示) of a community: this month's and this year's totals, beside the
latest signed checkpoints. Counts only: no name, no phone, nothing about one person."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.ledger.models import LEDGERS
from timebank.transparency.errors import NotACommunity
from timebank.units.models import Unit

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


#: computes a community's totals; registered by the app (reports' roll-ups), since the
#: reports read the transparency log (certificates) and the log must not read them back
_totals_source: Callable[[int, datetime], list[PeriodTotals]] | None = None


def register_totals(source: Callable[[int, datetime], list[PeriodTotals]]) -> None:
    """Where the notice board's figures come from: ``source(unit_id, now)`` gives this
    month's and this year's ``PeriodTotals`` (create_app registers the reports' roll-up)."""
    global _totals_source
    _totals_source = source


def community_totals(unit_id: int, now: datetime | None = None) -> list[PeriodTotals]:
    """This month's and this year's totals (local calendar) of a community's subtree, as
    the reports' roll-up counts them (the same figures as the unit's report page)."""
    if _totals_source is None:
        raise RuntimeError("no source of the notice board's totals is registered")
    return _totals_source(unit_id, now or utcnow())
