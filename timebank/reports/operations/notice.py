"""A community's public figures (公示) for the notice board of the transparency log: this
month's and this year's roll-ups, counts only (no names, no phones)."""

from __future__ import annotations

from datetime import datetime

from timebank.extensions import db
from timebank.ledger.models import LEDGERS
from timebank.reports import periods
from timebank.reports.operations.rollups import unit_rollup
from timebank.transparency.operations import PeriodTotals
from timebank.units.models import Unit


def notice_totals(unit_id: int, now: datetime) -> list[PeriodTotals]:
    """This month's and this year's totals of ``unit_id``'s subtree, as its report page
    counts them: credited = earned by service plus awards, redeemed and expired as the
    ledger moved them (a shop's refund is a correction, as on the report), volunteers =
    distinct members credited for service, people served = distinct residents whose needs
    were resolved."""
    unit = db.session.get(Unit, unit_id)
    found = []
    for kind in ("month", "year"):
        rollup = unit_rollup(unit, periods.current(kind, now))
        flows = {"HOURS": rollup.hours, "POINTS": rollup.points}
        found.append(
            PeriodTotals(
                period=kind,
                starts_on=rollup.period.first,
                credited={n: flows[n].earned + flows[n].awarded for n in LEDGERS},
                redeemed={n: flows[n].redeemed for n in LEDGERS},
                expired={n: flows[n].expired for n in LEDGERS},
                activities_held=rollup.totals["activities"],
                volunteers=rollup.volunteers,
                people_served=rollup.evidence.residents_total,
            )
        )
    return found
