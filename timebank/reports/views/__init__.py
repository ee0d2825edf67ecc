"""Report pages: a unit's roll-up with charts and exports, its honour roll, the party
members' quarter, one's own dual report and service record, certificates and /verify."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, render_template, request

from timebank.core.errors import DomainError
from timebank.core.web import page
from timebank.reports import exports, periods
from timebank.reports import operations as reports
from timebank.reports.periods import Period
from timebank.units import operations as units

bp = Blueprint("reports", __name__)
ID = "int(max=2147483647)"
UNIT = f"/units/<{ID}:unit_id>"


def period_from_args(default: str = "quarter") -> Period:
    """The period the URL names; a bad one is flashed and the current one shown instead."""
    args = request.args
    try:
        return periods.parse(
            args.get("period") or (None if args.get("from") else default),
            args.get("at"),
            args.get("from"),
            args.get("to"),
        )
    except DomainError as error:
        flash(error.localized(), "error")
        return periods.current(default)


def period_choices(period: Period) -> dict:
    """Links to the neighbouring periods and to each kind, for the period picker."""
    current = {kind: periods.current(kind) for kind in ("month", "quarter", "year")}
    around = {}
    if period.kind != "custom":
        before = periods.current(period.kind, period.start - timedelta(days=1))
        after = periods.current(period.kind, period.end)
        around = {"previous": before, "next": after}
    return {"current": current, **around}


@bp.route(f"{UNIT}/reports")
@page("reports.view", target=units.unit_target)
def rollup(unit_id: int):
    """A unit's figures over a period: totals, charts with their tables, its parts."""
    period = period_from_args()
    result = reports.unit_rollup(units.get_unit(unit_id), period)
    return render_template(
        "reports/rollup.html",
        unit=result.unit,
        line=units.line_of(unit_id),
        period=period,
        choices=period_choices(period),
        rollup=result,
        totals=result.totals,
        charts=reports.chart_data(result),
        tables=exports.rollup_tables(result),
    )


@bp.route(f"{UNIT}/reports.<any(csv, xlsx):fmt>")
@page("reports.view", target=units.unit_target)
def rollup_export(unit_id: int, fmt: str):
    period = period_from_args()
    result = reports.unit_rollup(units.get_unit(unit_id), period)
    return exports.download(exports.rollup_tables(result), fmt, f"report-{unit_id}-{period.key}")


def _honour_args() -> dict:
    by = request.args.get("by", "hours")
    return {
        "by": by if by in reports.honour.RANK_BY else "hours",
        "include_manual": request.args.get("manual", "1") != "0",
    }


@bp.route(f"{UNIT}/honour-roll")
@page("reports.honour_roll", target=units.unit_target)
def honour_roll(unit_id: int):
    """The honour roll (光荣榜) of a unit over a period, by hours or points."""
    period = period_from_args()
    options = _honour_args()
    places = reports.honour_roll(unit_id, period, **options)
    return render_template(
        "reports/honour_roll.html",
        unit=units.get_unit(unit_id),
        period=period,
        choices=period_choices(period),
        places=places,
        table=exports.honour_table(places, options["by"]),
        **options,
    )


@bp.route(f"{UNIT}/honour-roll.<any(csv, xlsx):fmt>")
@page("reports.honour_roll", target=units.unit_target)
def honour_roll_export(unit_id: int, fmt: str):
    period = period_from_args()
    options = _honour_args()
    places = reports.honour_roll(unit_id, period, **options)
    table = exports.honour_table(places, options["by"])
    return exports.download([table], fmt, f"honour-roll-{unit_id}-{period.key}")


from timebank.reports.views import certificates, party, rosters  # noqa: E402,F401 - join this blueprint
