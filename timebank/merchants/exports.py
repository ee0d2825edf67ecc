"""Statements as spreadsheets, through the one export writer (core/exports.py): every
text cell guarded against formulas, points and yuan as numbers (so SUM adds them up),
headers in the page's language, customers' names as the reader may see them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from flask_babel import gettext as _

from timebank.core.exports import Table
from timebank.merchants import operations as merchants
from timebank.merchants.models import Statement

#: Excel's format for a yuan figure: two decimals
YUAN = "0.00"


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def summary_table(statements: Sequence[Statement], title: str) -> Table:
    """One row per statement: the month's figures of each shop."""
    header = [
        _("Month"), _("Shop"), _("Redemptions"), _("Refunds"), _("Points redeemed"),
        _("Points refunded"), _("Points owed"), _("Fen per point"), _("Yuan owed"), _("Status"),
        _("Paid on"), _("Payment reference"),
    ]  # fmt: skip
    zone = merchants.local_zone()
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
            s.paid_at.astimezone(zone).strftime("%Y-%m-%d") if s.paid_at else "",
            s.payment_reference or "",
        ]  # fmt: skip
        for s in statements
    ]
    return Table(title=title, header=header, rows=rows, formats={8: YUAN})


def _redemption_row(line, zone, *transfer_id: int) -> list:
    """A redemption's row: its local time, ``transfer_id`` if given, the redemption, the
    member as shown, the offer, its points and the points refunded."""
    at = line.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return [at, *transfer_id, line.redemption_id, line.member_name, line.offer_title,
            line.points, line.refunded]  # fmt: skip


def lines_table(statement: Statement) -> Table:
    """One row per redeem transfer of the statement's month (customers masked for the
    shop, as at its counter)."""
    header = [
        _("Time"), _("Transfer"), _("Redemption"), _("Member"), _("Offer"), _("Points"),
        _("Refunded"),
    ]  # fmt: skip
    zone = merchants.local_zone()
    lines = merchants.statement_lines(statement.merchant_id, statement.period_start)
    rows = [_redemption_row(line, zone, line.transfer_id) for line in lines]
    return Table(title=_("Redemptions"), header=header, rows=rows)


def close_out_table(merchant_name: str, close_out) -> Table:
    """A shop's day at the counter (merchants.close_out): one row per redemption, then
    the day's totals, as its statement will count them."""
    header = [
        _("Time"), _("Redemption"), _("Member"), _("Offer"), _("Points"), _("Refunded"),
    ]  # fmt: skip
    zone = merchants.local_zone()
    rows = [_redemption_row(line, zone) for line in close_out.lines]
    figures = close_out.figures
    rows.append([_("Total"), figures.redemptions, "", "", figures.points_redeemed,
                 figures.points_refunded])  # fmt: skip
    rows.append([_("Points owed"), "", "", "", figures.points_net, ""])
    title = f"{merchant_name} {close_out.day.isoformat()}"
    return Table(title=title, header=header, rows=rows)
