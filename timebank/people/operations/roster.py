"""Roster import: an organizer uploads a CSV or XLSX list of residents, and every valid
row becomes a volunteer (and, with a party branch, a party member) of the subtree."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from timebank.core.errors import Conflict, DomainError, InvalidInput, NulCharacter
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.errors import RosterColumns, RosterEmpty, RosterFormat, RosterUnreadable
from timebank.people.models import Member
from timebank.people.operations.credentials import normalize_phone
from timebank.people.operations.members import create_member, find_member_by_phone
from timebank.people.operations.notices import notify_invited
from timebank.people.operations.party import register_party
from timebank.units import operations as units
from timebank.units.models import Unit

ROSTER_COLUMNS = ("name", "phone", "unit", "party_branch", "reported_on", "workplace")
ROSTER_HEADERS = {
    "name": "name",
    "姓名": "name",
    "phone": "phone",
    "手机": "phone",
    "手机号": "phone",
    "unit": "unit",
    "网格": "unit",
    "楼栋": "unit",
    "单位": "unit",
    "party_branch": "party_branch",
    "党支部": "party_branch",
    "reported_on": "reported_on",
    "报到日期": "reported_on",
    "workplace": "workplace",
    "工作单位": "workplace",
}


@dataclass
class RosterReport:
    """What a roster import did: each created row, and each rejected row with its reason."""

    created: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created_count": len(self.created),
            "rejected_count": len(self.rejected),
            "created": self.created,
            "rejected": [{k: v for k, v in r.items() if k != "error"} for r in self.rejected],
        }


def read_roster(filename: str, data: bytes) -> list[dict]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX roster as dicts.

    Raises InvalidInput for another format or a file without a name and phone column.
    """
    lower = (filename or "").lower()
    if lower.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif lower.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterUnreadable("The CSV file is neither UTF-8 nor GB18030.")
        if "\x00" in text:  # PostgreSQL text cannot hold it
            raise NulCharacter("Text must not contain NUL characters.")
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise RosterFormat("Upload a .csv or .xlsx file.")
    if not rows:
        raise RosterEmpty("The roster is empty.")
    header = [
        ROSTER_HEADERS.get(str(h or "").strip().lower(), ROSTER_HEADERS.get(str(h or "").strip()))
        for h in rows[0]
    ]
    if "name" not in header or "phone" not in header:
        raise RosterColumns(
            "The first row must name the columns; name (姓名) and phone (手机号) are required.",
        )
    result = []
    for values in rows[1:]:
        if not any(str(v or "").strip() for v in values):
            continue
        record = {}
        for key, value in zip(header, values, strict=False):
            if key:
                record[key] = value
        result.append(record)
    return result


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise RosterUnreadable(
            "The XLSX file cannot be read: %(error)s",
            params={"error": str(error)},
        ) from None
    sheet = workbook.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


@use_case
def import_roster(unit_id: int, rows: list[dict], *, actor: Member) -> RosterReport:
    """Create a member per valid row under ``unit_id``; report each rejected row and why.

    A row's ``unit`` (optional) names or numbers a unit inside ``unit_id``'s subtree.
    Nothing is created for a rejected row; valid rows are created together. Raises
    nothing of its own: a DomainError while importing a row rejects that row only.
    """
    subtree = _RosterUnits(unit_id)
    seen_phones: set[str] = set()
    report = RosterReport()
    for number, raw in enumerate(rows, start=2):
        row = {k: _cell(v) for k, v in raw.items()}
        try:
            with db.session.begin_nested():  # a rejected row leaves nothing behind
                member = _import_row(row, subtree, seen_phones, actor=actor)
        except DomainError as error:
            report.rejected.append(
                {
                    "row": number,
                    "phone": row.get("phone", ""),
                    "name": row.get("name", ""),
                    "reason": error.message,
                    "error": error,
                }
            )
        else:
            report.created.append({"row": number, "member_id": member.id, "phone": member.phone})
            notify_invited(member)
    return report


class _RosterUnits:
    """The units of the subtree a roster goes into, found by a row's number or name."""

    def __init__(self, unit_id: int) -> None:
        self.unit_id = unit_id
        subtree = units.list_units(within=[unit_id])
        self.by_id = {str(u.id): u for u in subtree}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in subtree:
            self.by_name.setdefault(unit.name, []).append(unit)

    def home(self, unit_key: str) -> Unit:
        """The unit a row's ``unit`` cell names, the subtree's root when blank.

        Raises NotFound for a missing root, InvalidInput for a name that matches no
        unit of the subtree or more than one.
        """
        if not unit_key:
            return units.get_unit(self.unit_id)
        if unit_key in self.by_id:
            return self.by_id[unit_key]
        if len(self.by_name.get(unit_key, [])) == 1:
            return self.by_name[unit_key][0]
        if unit_key in self.by_name:
            raise InvalidInput(
                "More than one unit is called %(unit)s; use its number.",
                params={"unit": unit_key},
            )
        raise InvalidInput("No unit %(unit)s in this subtree.", params={"unit": unit_key})


def _import_row(
    row: dict[str, str], subtree: _RosterUnits, seen_phones: set[str], *, actor: Member
) -> Member:
    """Create the member of one roster row (and their party data, if any).

    Raises InvalidInput for a bad or repeated phone, an unknown unit, a bad report date
    or one without a branch; Conflict when the phone is registered already.
    """
    phone = normalize_phone(row.get("phone"))
    if phone in seen_phones:
        raise InvalidInput("The phone appears twice in this file.")
    seen_phones.add(phone)
    if find_member_by_phone(phone) is not None:
        raise Conflict("The phone is already registered.")
    home = subtree.home(row.get("unit") or "")
    reported_on = _reported_on(row)
    member = create_member(
        phone=phone,
        name=row.get("name", ""),
        home_unit_id=home.id,
        has_smartphone=True,
        roles=[("volunteer", home.id)],
        actor=actor,
        invite=False,  # invited once the row is kept: a rejected row's savepoint is undone
    )
    if row.get("party_branch"):
        register_party(
            member,
            branch=row["party_branch"],
            reported_unit_id=_community_of(home.id) if reported_on else None,
            reported_on=reported_on,
            workplace_name=row.get("workplace") or None,
            actor=actor,
        )
    return member


def _reported_on(row: dict[str, str]) -> date | None:
    """The row's dual report date, if any; InvalidInput for a bad one or one without a
    party branch."""
    reported_on = None
    if row.get("reported_on"):
        try:
            reported_on = date.fromisoformat(row["reported_on"][:10])
        except ValueError:
            raise InvalidInput("reported_on must be a date like 2024-03-15.") from None
    if reported_on and not row.get("party_branch"):
        raise InvalidInput("A report date needs a party branch.")
    return reported_on


def _community_of(unit_id: int) -> int:
    """The nearest community above (or at) ``unit_id``; the unit itself if there is none."""
    for ancestor_id in units.ancestor_ids(unit_id):
        if units.get_unit(ancestor_id).kind == "community":
            return ancestor_id
    return unit_id
