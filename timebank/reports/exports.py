"""Every report table as a ``core.exports.Table``: the page shows these rows, and CSV and
XLSX are written from them by the one export writer, numbers as numbers, with a totals
row. Headers in the reader's language; hours as decimal hours (minutes / 60, two places)."""

from __future__ import annotations

from flask import Response
from flask_babel import gettext as _

from timebank.core import exports
from timebank.core.exports import Table
from timebank.core.privacy import shown_name, shown_phone
from timebank.reports import periods
from timebank.reports.operations import PART_FIGURES, Place, Rollup
from timebank.reports.operations.party import PartyRow
from timebank.reports.operations.record import ServiceRecord
from timebank.reports.operations.rosters import RosterRow, SheetLine, VolunteerMonths

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


def roster_table(rows: list[RosterRow]) -> Table:
    """A unit's members: hours and points earned in the period, balances now."""
    body = [
        [
            shown_name(r.member),
            shown_phone(r.member),
            r.member.home_unit.name,
            hours(r.minutes),
            r.points,
            hours(r.hours_balance),
            r.points_balance,
        ]  # fmt: skip
        for r in rows
    ]
    return Table(
        title=_("Roster"),
        header=[
            _("Name"),
            _("Phone"),
            _("Lives in"),
            _("Verified hours"),
            _("Points earned"),
            _("Hours balance"),
            _("Points balance"),
        ],  # fmt: skip
        rows=body,
        totals=[
            _("Total"),
            _("%(count)s members", count=len(rows)),
            "",
            hours(sum(r.minutes for r in rows)),
            sum(r.points for r in rows),
            hours(sum(r.hours_balance for r in rows)),
            sum(r.points_balance for r in rows),
        ],  # fmt: skip
        formats={3: HOURS_FORMAT, 5: HOURS_FORMAT},
    )


def volunteer_months_table(found: VolunteerMonths) -> Table:
    """One row per volunteer, one column per month (verified hours), a total per row and
    a totals row."""
    months = [f"{month:%Y-%m}" for month in found.months]
    body = [
        [shown_name(member), member.home_unit.name, *(hours(m) for m in minutes),
         hours(sum(minutes))]
        for member, minutes in found.rows
    ]  # fmt: skip
    columns = range(2, 3 + len(months))
    return Table(
        title=_("Hours by volunteer and month"),
        header=[_("Name"), _("Lives in"), *months, _("Total")],
        rows=body,
        totals=[_("Total"), "", *(hours(m) for m in found.month_totals), hours(found.total)],
        formats=dict.fromkeys(columns, HOURS_FORMAT),
    )


def _local(moment) -> str:
    """A moment as the deployment's local time, to the minute (as the sheet prints it)."""
    if moment is None:
        return ""
    return moment.astimezone(periods.local_zone()).strftime("%Y-%m-%d %H:%M")


def ATTENDANCE_NAMES() -> dict[str | None, str]:  # noqa: N802 - a table, translated when read
    return {
        "pending": _("Waiting for approval"),
        "review": _("Held for review"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
        None: _("Did not come"),
    }


def attendance_table(lines: list[SheetLine]) -> Table:
    """An activity's attendance sheet: sign-up, check-in and check-out times (local), the
    attendance's state and the minutes credited."""
    states = ATTENDANCE_NAMES()
    body = []
    for line in lines:
        signed_up = _local(line.signed_up_at)
        if line.signup_status == "withdrawn":
            signed_up = _("%(time)s (withdrawn)", time=signed_up)
        checked_out = _local(line.checked_out_at)
        if line.auto_closed and checked_out:
            checked_out = _("%(time)s (closed at the end)", time=checked_out)
        state = states.get(line.attendance_status, "")
        if line.manual:
            state = _("%(state)s (recorded by hand)", state=state)
        body.append(
            [shown_name(line.member), signed_up, _local(line.checked_in_at), checked_out,
             state, line.credited_minutes]
        )  # fmt: skip
    return Table(
        title=_("Attendance sheet"),
        header=[
            _("Name"),
            _("Signed up"),
            _("Checked in"),
            _("Checked out"),
            _("Attendance"),
            _("Minutes credited"),
        ],  # fmt: skip
        rows=body,
        totals=[
            _("Total"),
            _("%(count)s signed up", count=sum(1 for x in lines if x.signup_status == "signed_up")),
            _("%(count)s checked in", count=sum(1 for x in lines if x.checked_in_at)),
            _("%(count)s checked out", count=sum(1 for x in lines if x.checked_out_at)),
            "",
            sum(line.credited_minutes for line in lines),
        ],  # fmt: skip
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
