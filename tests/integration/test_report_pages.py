"""Report pages and API on the hand-counted quarter (tests/reports_factories.py): the same
figures on the page, in the API and in the exports; periods and scopes refused as
problems; the party member's quarter; the honour roll as a volunteer sees it."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest

from tests import factories
from tests.reports_factories import at, quarter_world
from timebank.extensions import db
from timebank.people import operations as people
from timebank.reports import operations as reports

Q1 = {"period": "quarter", "at": "2026Q1"}


@pytest.fixture
def w(app, clock):
    world = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    return world


def page_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_street_report_page_api_and_exports_agree(client, login, token_for, w):
    admin = factories.create_member(w["street"], roles=("admin",))
    db.session.commit()
    login(admin)
    street = w["street"].id
    html = page_of(client, f"/units/{street}/reports?period=quarter&at=2026Q1")
    assert 'id="chart-data"' in html and "chart.umd.min.js" in html and "<script>" not in html
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', html, re.S).group(1))
    assert charts["hours_by_month"]["values"] == [2.0, 1.5, 1.5]
    assert charts["volunteers_by_part"]["labels"][:2] == ["上坎社区", "古浪路社区"]
    assert 'id="table-hours_by_month"' in html  # each chart's data as a table beneath it
    api = client.get(f"/api/v1/reports/units/{street}", query_string=Q1, headers=token_for(admin))
    assert api.status_code == 200
    assert api.json["totals"]["hours_minutes"] == 300 and api.json["totals"]["volunteers"] == 3
    assert api.json["hours"]["earned"] == 300 and api.json["points"]["earned"] == 50
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/units/{street}/reports.xlsx", query_string=Q1).data)
    )
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("单元", "已核验时长") or rows[0][1]  # headers in the page's language
    body, totals = rows[1:-1], rows[-1]
    assert sum(row[1] for row in body) == totals[1] == 5.0  # hours, as numbers
    assert sum(row[2] for row in body) == totals[2] == 50
    months = list(book.worksheets[1].iter_rows(values_only=True))
    assert [row[1] for row in months[1:-1]] == [2.0, 1.5, 1.5]
    text = client.get(f"/units/{street}/reports.csv", query_string=Q1).data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1][0] == "上坎社区"


def test_bad_periods_and_scopes_are_problems_never_500(client, login, token_for, w):
    organizer = w["organizer_a"]
    headers = token_for(organizer)
    a, b = w["a"].id, w["b"].id
    for query, code in (
        ({"period": "fortnight"}, "invalid_period"),
        ({"period": "custom", "from": "2026-03-01", "to": "2026-02-01"}, "period_backwards"),
        ({"period": "custom", "from": "2010-01-01", "to": "2026-02-01"}, "period_too_long"),
        ({"period": "month", "at": "2026-13"}, "invalid_period"),
    ):
        response = client.get(f"/api/v1/reports/units/{a}", query_string=query, headers=headers)
        assert response.status_code == 422 and response.json["code"] == code, response.json
    assert client.get(f"/api/v1/reports/units/{b}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/reports/units/{w['street'].id}", headers=headers).status_code == 403
    login(organizer)
    assert client.get(f"/units/{b}/reports").status_code == 403
    shown = client.get(f"/units/{a}/reports?period=fortnight", follow_redirects=True)
    assert shown.status_code == 200 and "flash error" in shown.get_data(as_text=True)


def test_honour_roll_as_a_resident_sees_it(client, token_for, w):
    """A resident of 101号楼 reads their community's roll as on a notice board: names masked,
    and nobody who opted out."""
    reader = factories.create_member(w["building_a"], name="邻居")
    db.session.commit()
    headers = token_for(reader)
    query = {**Q1, "unit_id": w["a"].id}
    roll = client.get("/api/v1/reports/honour-roll", query_string=query, headers=headers)
    assert roll.status_code == 200, roll.json
    assert [(p["name"], p["amount"]) for p in roll.json["places"]] == [("王**", 180), ("张*", 90)]
    reports.set_hidden(w["bob"], True)
    db.session.commit()
    roll = client.get("/api/v1/reports/honour-roll", query_string=query, headers=headers)
    assert [p["name"] for p in roll.json["places"]] == ["王**"]
    other = {**Q1, "unit_id": w["b"].id}
    assert (
        client.get("/api/v1/reports/honour-roll", query_string=other, headers=headers).status_code
        == 403
    )


def test_a_party_member_has_a_quarter_page(client, login, w):
    alice = w["alice"]
    login(alice)
    html = page_of(client, "/me/party?at=2026Q1")
    assert "兰州石化公司第二党支部" in html and 'id="still-due"' in html  # no party activity yet
    saved = client.post(
        "/me/party",
        data={"p-branch": "兰州石化公司第二党支部", "p-reported_unit_id": w["a"].id,
              "p-reported_on": "2026-01-05", "p-workplace_name": ""},
    )  # fmt: skip
    assert saved.status_code == 302
    db.session.expire_all()
    assert people.get_member(alice.id).party.reported_unit_id == w["a"].id
    assert client.get(f"/units/{w['a'].id}/party-attendance").status_code == 403


def test_the_organizers_party_table_exports_per_branch(client, login, w):
    people.register_party(w["bob"], branch="西固区税务局第一党支部")
    db.session.commit()
    login(w["organizer_a"])
    html = page_of(client, f"/units/{w['a'].id}/party-attendance?at=2026Q1")
    assert "西固区税务局第一党支部" in html and "兰州石化公司第二党支部" in html
    data = client.get(
        f"/units/{w['a'].id}/party-attendance.xlsx",
        query_string={"at": "2026Q1", "branch": "西固区税务局第一党支部"},
    ).data
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:-1]] == ["张伟"]
    assert rows[1][7] == 1.5 and rows[-1][7] == 1.5  # his March patrol, and the total


def test_every_report_page_renders(client, login, w):
    """Each page once, as who may open it: the record, the queue, the certificate, the roll."""
    cert = reports.issue_certificate(
        w["alice"], actor=w["organizer_a"], first=at("2026-01-01T00:00").date(),
        last=at("2026-03-31T00:00").date(),
    )  # fmt: skip
    reports.request_certificate(
        w["bob"], actor=w["bob"], first=at("2026-01-01T00:00").date(),
        last=at("2026-03-31T00:00").date(),
    )  # fmt: skip
    db.session.commit()
    login(w["alice"])
    for url in ("/me/record", "/me/record?period=custom&from=2026-01-01&to=2026-03-31",
                "/me/record.xlsx", "/me/record.csv", f"/certificates/{cert.serial}",
                f"/certificates/{cert.serial}/signed.json", "/me/party",
                f"/units/{w['a'].id}/honour-roll", "/"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    login(w["organizer_a"])
    for url in (f"/units/{w['a'].id}/certificates", f"/members/{w['bob'].id}/record",
                f"/units/{w['a'].id}/honour-roll?by=points&manual=0",
                f"/units/{w['a'].id}/honour-roll.xlsx", f"/units/{w['a'].id}/reports",
                f"/units/{w['a'].id}/party-attendance", "/verify"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert client.get(f"/verify?serial={cert.serial}").status_code == 302
