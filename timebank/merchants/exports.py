"""Statements as spreadsheets: CSV (UTF-8 with a BOM, so Excel opens the Chinese right)
and XLSX (openpyxl). Headers in the page's language; figures as the ledger gives them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from timebank.merchants import operations as merchants
from timebank.merchants.models import Statement


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def summary_table(statements: Sequence[Statement]) -> tuple[list[str], list[list]]:
    """One row per statement: the month's figures of each shop."""
    header = [
        _("Month"), _("Shop"), _("Redemptions"), _("Refunds"), _("Points redeemed"),
        _("Points refunded"), _("Points owed"), _("Fen per point"), _("Yuan owed"), _("Status"),
        _("Paid on"), _("Payment reference"),
    ]  # fmt: skip
    rows = [
        [
            s.month,
            s.merchant.name,
            s.redemptions,
            s.refunds,
            s.points_redeemed,
            s.points_refunded,
            s.points_net,
            s.point_value_fen,
            _yuan(s.amount_fen),
            s.status,
            s.paid_at.astimezone(merchants.local_zone()).strftime("%Y-%m-%d") if s.paid_at else "",
            s.payment_reference or "",
        ]  # fmt: skip
        for s in statements
    ]
    return header, rows


def lines_table(statement: Statement) -> tuple[list[str], list[list]]:
    """One row per redeem transfer of the statement's month."""
    header = [
        _("Time"), _("Transfer"), _("Redemption"), _("Member"), _("Offer"), _("Points"),
        _("Refunded"),
    ]  # fmt: skip
    zone = merchants.local_zone()
    rows = [
        [
            line.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            line.transfer_id,
            line.redemption_id,
            line.member_name,
            line.offer_title,
            line.points,
            line.refunded,
        ]  # fmt: skip
        for line in merchants.statement_lines(statement.merchant_id, statement.period_start)
    ]
    return header, rows


def as_csv(*tables: tuple[list[str], list[list]]) -> bytes:
    """The tables one after another, a blank line between them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, (header, rows) in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow(header)
        writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def as_xlsx(sheets: Sequence[tuple[str, list[str], list[list]]]) -> bytes:
    """One worksheet per (title, header, rows)."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        for column, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = max(10, len(name) * 2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
