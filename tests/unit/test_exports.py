"""The one export writer: formulas arrive as text, numbers as numbers, totals add up."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from timebank.core.exports import Table, csv_bytes, safe_text, xlsx_bytes

HOSTILE = ['=HYPERLINK("http://x","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def table() -> Table:
    return Table(
        title="结算/2026:12",
        header=["商户", "积分", "金额（元）"],
        rows=[[name, 10 * n, Decimal(n)] for n, name in enumerate(HOSTILE, start=1)]
        + [["肉菜店", -5, Decimal("-0.50")]],
        totals=["合计", 205, Decimal("20.50")],
        formats={2: "0.00"},
    )


def test_every_text_cell_that_looks_like_a_formula_is_text():
    assert [safe_text(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert safe_text("王秀英") == "王秀英" and safe_text(None) == ""


def test_xlsx_keeps_formulas_out_and_numbers_in():
    book = load_workbook(io.BytesIO(xlsx_bytes(table())))
    sheet = book.worksheets[0]
    assert sheet.title == "结算 2026 12"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("商户", "积分", "金额（元）")
    # (XML keeps no carriage return: the last one reads back as a newline, still guarded)
    assert [r[0] for r in rows[1:6]] == ["'" + v for v in HOSTILE[:5]]
    assert rows[6][0].startswith("'")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    body = rows[1:-1]
    assert sum(r[1] for r in body) == rows[-1][1] == 205  # numbers, so they add up
    assert sum(Decimal(str(r[2])) for r in body) == Decimal("20.50")
    assert sheet.cell(row=2, column=3).number_format == "0.00"


def test_csv_has_a_bom_guarded_text_and_plain_numbers():
    data = csv_bytes(table(), Table(title="second", header=["x"], rows=[[1]]))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode().lstrip("\ufeff"))))
    assert rows[1] == ["'" + HOSTILE[0], "10", "1"]
    assert rows[7] == ["肉菜店", "-5", "-0.50"]  # a negative number is a number, not text
    assert rows[8] == ["合计", "205", "20.50"]
    assert rows[9] == [] and rows[10:] == [["x"], ["1"]]
