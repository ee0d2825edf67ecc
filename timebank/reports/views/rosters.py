"""Exports an organizer expects: a unit's roster (hours and points earned in the period,
balances now), hours per volunteer per month, and an activity's attendance sheet; each a
printable page and CSV/XLSX through the one export writer, names masked where the
viewer may not see them whole."""

from __future__ import annotations

from flask import render_template

from timebank.activities import operations as activities
from timebank.core.web import page
from timebank.reports import exports
from timebank.reports import operations as reports
from timebank.reports.views import ID, UNIT, bp, period_choices, period_from_args
from timebank.units import operations as units

ACTIVITY = f"/activities/<{ID}:activity_id>"


def _table_page(unit_id: int, period, table, table_id: str, export: str):
    """A unit's table for the period, with the period's choices and its downloads."""
    return render_template(
        "reports/table_page.html", unit=units.get_unit(unit_id), period=period,
        choices=period_choices(period), table=table, table_id=table_id,
        export=export, export_args={"unit_id": unit_id, **period.query()},
    )  # fmt: skip


def _roster(unit_id: int):
    period = period_from_args()
    return period, exports.roster_table(reports.unit_roster(unit_id, period))


@bp.route(f"{UNIT}/roster")
@page("reports.view", target=units.unit_target)
def roster(unit_id: int):
    """The unit's members with their hours and points of the period and balances now."""
    period, table = _roster(unit_id)
    return _table_page(unit_id, period, table, "roster-table", "reports.roster_export")


@bp.route(f"{UNIT}/roster.<any(csv, xlsx):fmt>")
@page("reports.view", target=units.unit_target)
def roster_export(unit_id: int, fmt: str):
    period, table = _roster(unit_id)
    return exports.download([table], fmt, f"roster-{unit_id}-{period.key}")


def _months(unit_id: int):
    period = period_from_args()
    return period, exports.volunteer_months_table(reports.volunteer_months(unit_id, period))


@bp.route(f"{UNIT}/hours-by-month")
@page("reports.view", target=units.unit_target)
def hours_by_month(unit_id: int):
    """Hours per volunteer per month over the period: a row each, a column per month."""
    period, table = _months(unit_id)
    return _table_page(unit_id, period, table, "months-table", "reports.hours_by_month_export")


@bp.route(f"{UNIT}/hours-by-month.<any(csv, xlsx):fmt>")
@page("reports.view", target=units.unit_target)
def hours_by_month_export(unit_id: int, fmt: str):
    period, table = _months(unit_id)
    return exports.download([table], fmt, f"hours-by-month-{unit_id}-{period.key}")


@bp.route(f"{ACTIVITY}/attendance-sheet")
@page("reports.attendance_sheet", target=activities.activity_target)
def attendance_sheet(activity_id: int):
    """Who signed up, checked in and out, and the minutes credited: printable."""
    activity = activities.get_activity(activity_id)
    return render_template(
        "reports/attendance_sheet.html", activity=activity,
        table=exports.attendance_table(reports.attendance_sheet(activity)),
    )  # fmt: skip


@bp.route(f"{ACTIVITY}/attendance-sheet.<any(csv, xlsx):fmt>")
@page("reports.attendance_sheet", target=activities.activity_target)
def attendance_sheet_export(activity_id: int, fmt: str):
    activity = activities.get_activity(activity_id)
    table = exports.attendance_table(reports.attendance_sheet(activity))
    return exports.download([table], fmt, f"attendance-{activity_id}")
