"""Every report table as a ``core.exports.Table``: the page shows these rows, and CSV and
XLSX are written from them by the one export writer, numbers as numbers, with a totals
row. Headers in the reader's language; hours as decimal hours (minutes / 60, two places)."""

from __future__ import annotations

from flask import Response
from flask_babel import gettext as _

from timebank.core import exports
from timebank.core.exports import Table
from timebank.core.privacy import shown_name
from timebank.reports.operations import PART_FIGURES, Place, Rollup
from timebank.reports.operations.party import PartyRow
from timebank.reports.operations.record import ServiceRecord

HOURS_FORMAT = "0.00"


def hours(minutes: int | None) -> float:
    """Minutes as decimal hours, two places (a number, so SUM adds them up)."""
    return round((minutes or 0) / 60, 2)


def _part_value(key: str, value: int):
    return hours(value) if key == "hours_minutes" else value


def parts_table(rollup: Rollup) -> Table:
    """The unit's parts (its grids, or communities) with every figure, and the whole."""
    keys = [key for key, _label in PART_FIGURES]
    rows = []
    for part in rollup.parts:
        if part.own and not any(part.figures.values()):
            continue
        name = _("%(unit)s itself", unit=part.unit.name) if part.own else part.unit.name
        rows.append([name, *(_part_value(k, part.figures[k]) for k in keys)])
    totals = rollup.totals
    return Table(
        title=_("By unit"),
        header=[_("Unit"), *(str(label) for _key, label in PART_FIGURES)],
        rows=rows,
        totals=[_("Total"), *(_part_value(k, totals[k]) for k in keys)],
        formats={1: HOURS_FORMAT},
    )


def months_table(rollup: Rollup) -> Table:
    rows = [
        [
            f"{m.first:%Y-%m}",
            hours(m.hours.earned),
            hours(m.hours.awarded),
            m.points.earned,
            m.points.awarded,
            m.points.redeemed,
            m.points.expired,
        ]  # fmt: skip
        for m in rollup.months
    ]
    return Table(
        title=_("By month"),
        header=[
            _("Month"),
            _("Verified hours"),
            _("Hours awarded"),
            _("Points earned"),
            _("Points awarded"),
            _("Points redeemed"),
            _("Points expired"),
        ],  # fmt: skip
        rows=rows,
        totals=[
            _("Total"),
            hours(rollup.hours.earned),
            hours(rollup.hours.awarded),
            rollup.points.earned,
            rollup.points.awarded,
            rollup.points.redeemed,
            rollup.points.expired,
        ],  # fmt: skip
        formats={1: HOURS_FORMAT, 2: HOURS_FORMAT},
    )


def categories_table(rollup: Rollup) -> Table:
    rows = [[c.name, c.activities, c.attendances, hours(c.minutes)] for c in rollup.categories]
    return Table(
        title=_("By category"),
        header=[_("Category"), _("Activities held"), _("Attendances"), _("Verified hours")],
        rows=rows,
        totals=[
            _("Total"),
            sum(c.activities for c in rollup.categories),
            sum(c.attendances for c in rollup.categories),
            hours(sum(c.minutes for c in rollup.categories)),
        ],
        formats={3: HOURS_FORMAT},
    )


def rollup_tables(rollup: Rollup) -> list[Table]:
    return [parts_table(rollup), months_table(rollup), categories_table(rollup)]


def honour_table(places: list[Place], by: str) -> Table:
    amount = _("Verified hours") if by == "hours" else _("Points earned")
    rows = [
        [
            p.rank,
            shown_name(p.member),
            p.member.home_unit.name,
            hours(p.amount) if by == "hours" else p.amount,
            _("Yes") if p.party else "",
        ]  # fmt: skip
        for p in places
    ]
    total = sum(p.amount for p in places)
    return Table(
        title=_("Honour roll"),
        header=[_("Rank"), _("Name"), _("Lives in"), amount, _("Party member")],
        rows=rows,
        totals=[_("Total"), "", "", hours(total) if by == "hours" else total, ""],
        formats={3: HOURS_FORMAT} if by == "hours" else {},
    )


def party_table(rows: list[PartyRow], *, show_name=shown_name) -> Table:
    body = [
        [
            show_name(r.member),
            r.member.party.branch if r.member.party else "",
            r.member.party.reported_unit.name
            if r.reported and r.member.party.reported_unit
            else "",
            r.member.party.reported_on.isoformat() if r.reported else "",
            r.party_activities,
            hours(r.service_minutes),
            hours(r.project_minutes),
            hours(r.served_minutes),
            _("Served") if r.served else _("Not served yet"),
        ]
        for r in rows
    ]
    return Table(
        title=_("Party members"),
        header=[
            _("Name"),
            _("Party branch"),
            _("Reported to"),
            _("Reported on"),
            _("Party activities"),
            _("Activity hours"),
            _("Project hours"),
            _("Service hours"),
            _("This quarter"),
        ],  # fmt: skip
        rows=body,
        totals=[
            _("Total"),
            "",
            "",
            "",
            sum(r.party_activities for r in rows),
            hours(sum(r.service_minutes for r in rows)),
            hours(sum(r.project_minutes for r in rows)),
            hours(sum(r.served_minutes for r in rows)),
            _("%(count)s not served", count=sum(not r.served for r in rows)),
        ],  # fmt: skip
        formats={5: HOURS_FORMAT, 6: HOURS_FORMAT, 7: HOURS_FORMAT},
    )


def record_table(record: ServiceRecord) -> Table:
    rows = [
        [
            line.title,
            KIND_NAMES()[line.kind],
            line.first_day,
            line.last_day,
            line.times,
            hours(line.minutes),
        ]  # fmt: skip
        for line in record.lines
    ]
    return Table(
        title=_("Service record"),
        header=[_("Service"), _("Kind"), _("From"), _("To"), _("Times"), _("Verified hours")],
        rows=rows,
        totals=[
            _("Total"),
            "",
            "",
            "",
            sum(line.times for line in record.lines),
            hours(record.minutes),
        ],  # fmt: skip
        formats={5: HOURS_FORMAT},
    )


def KIND_NAMES() -> dict[str, str]:  # noqa: N802 - a table, translated when read
    return {
        "activity": _("Activity"),
        "project": _("Service project"),
        "wish": _("Small wish"),
        "award": _("Award (manual)"),
    }


def download(tables: list[Table], fmt: str, name: str) -> Response:
    """The tables as ``name.csv`` (one after another) or ``name.xlsx`` (a sheet each)."""
    if fmt == "csv":
        body, mimetype = exports.csv_bytes(*tables), exports.CSV_MEDIA_TYPE
    else:
        body, mimetype = exports.xlsx_bytes(*tables), exports.XLSX_MEDIA_TYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
