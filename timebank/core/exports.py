"""The one writer of every CSV and XLSX the service hands out.

A spreadsheet runs what looks like a formula: a shop renamed ``=HYPERLINK(...)`` or a
member named ``@SUM(...)`` must arrive as text. Every text cell goes through
``safe_text`` (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a ``'``
in front, as OWASP advises), and numbers stay numbers, so SUM adds them up.

CSV is UTF-8 with a BOM (Excel then reads Chinese right); XLSX uses openpyxl's write-only
mode, so a big report does not build the whole workbook in memory first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

BOM = "\ufeff"
#: what a spreadsheet reads as the start of a formula (or of a DDE payload)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    """A sheet: its title, its column names, its rows, and optionally a totals row."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence] = field(default_factory=list)
    totals: Sequence | None = None
    #: per column, an Excel number format for numbers (e.g. "0.00" for yuan)
    formats: dict[int, str] = field(default_factory=dict)


def safe_text(value) -> str:
    """Text a spreadsheet will not run: a leading formula character gets a ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_value(value):
    """A value as a cell holds it: numbers as numbers (a negative one too), dates as
    ISO text, everything else as guarded text."""
    if isinstance(value, bool):
        return safe_text(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(value)


def _csv_cell(value) -> str:
    value = cell_value(value)
    return str(value) if isinstance(value, int | float | Decimal) else value


def csv_rows(rows: Iterable[Sequence]) -> str:
    """Rows as CSV text (no BOM): for streaming a long export piece by piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue()


def csv_pieces(tables: Sequence[Table]) -> Iterator[str]:
    """The tables one after another (a blank line between), BOM first, as pieces."""
    yield BOM
    for index, table in enumerate(tables):
        if index:
            yield "\r\n"
        yield csv_rows([table.header])
        yield csv_rows(table.rows)
        if table.totals is not None:
            yield csv_rows([table.totals])


def csv_bytes(*tables: Table) -> bytes:
    return "".join(csv_pieces(tables)).encode()


def xlsx_bytes(*tables: Table) -> bytes:
    """One worksheet per table; the header and totals rows in bold."""
    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title))
        widths = [max(10, len(str(name)) * 2) for name in table.header]
        for column, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.append(_styled(sheet, table.header, bold=True))
        for row in table.rows:
            sheet.append(_styled(sheet, row, formats=table.formats))
        if table.totals is not None:
            sheet.append(_styled(sheet, table.totals, bold=True, formats=table.formats))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _styled(sheet, values: Sequence, *, bold: bool = False, formats: dict | None = None):
    cells = []
    for column, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=cell_value(value))
        if isinstance(cell.value, str) and cell.value:
            cell.data_type = "s"  # never a formula, whatever openpyxl guesses
        if bold:
            cell.font = Font(bold=True)
        if formats and column in formats and not isinstance(cell.value, str):
            cell.number_format = formats[column]
        cells.append(cell)
    return cells


def _sheet_title(title: str) -> str:
    """Excel's limits: 31 characters, none of []:*?/\\."""
    for character in "[]:*?/\\":
        title = title.replace(character, " ")
    return title[:31] or "Sheet"
