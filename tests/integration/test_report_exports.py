"""Exports an organizer expects, on the hand-counted quarter (tests/reports_factories.py):
a unit's roster with hours, points and balances, hours per volunteer per month, and an
activity's attendance sheet; each a page and CSV/XLSX through the one export writer
(numbers as numbers, SUM equal to the totals row and the page), names masked where the
viewer may not see them whole, refused (403) to anyone out of scope."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from tests import factories
from tests.activities_factories import create_activity
from tests.reports_factories import at, quarter_world
from timebank.activities.models import Attendance, Signup
from timebank.extensions import db

Q1 = {"period": "quarter", "at": "2026Q1"}


@pytest.fixture
def w(app, clock):
    world = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    return world


def rows_of(data: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))


def foot_of(html: str, table_id: str) -> list[str]:
    table = re.search(rf'id="{table_id}".*?</table>', html, re.S).group(0)
    foot = re.search(r"<tfoot>(.*?)</tfoot>", table, re.S).group(1)
    return re.findall(r"<th[^>]*>(.*?)</th>", foot)


def test_the_roster_of_a_community_with_hours_points_and_balances(client, login, token_for, w):
    organizer, a = w["organizer_a"], w["a"].id
    login(organizer)
    page = client.get(f"/units/{a}/roster", query_string=Q1)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "王秀英" in html and "张伟" in html and "刘芳" not in html  # carol lives in 古浪路
    report = client.get(f"/units/{a}/reports", query_string=Q1).get_data(as_text=True)
    assert 'id="roster-xlsx"' in report and 'id="hours-by-month-link"' in report

    rows = rows_of(client.get(f"/units/{a}/roster.xlsx", query_string=Q1).data)
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header[0] == "姓名" and totals[0] == "合计"
    by_name = {row[0]: row for row in body}
    assert by_name["王秀英"][3:] == (3.0, 30, 3.0, 30)  # Q1 hours and points, balances now
    assert by_name["张伟"][3:] == (1.5, 15, 1.5, 15)
    assert by_name["李建华"][3:] == (0, 0, 0, 0)  # the organizer is a member too
    assert sum(row[3] for row in body) == totals[3] == 4.5  # SUM of the column = totals row
    assert sum(row[4] for row in body) == totals[4] == 45
    assert foot_of(html, "roster-table")[3] == "4.5"  # = the page's total
    assert by_name["王秀英"][1] == w["alice"].phone  # an organizer over her sees it whole

    text = client.get(f"/units/{a}/roster.csv", query_string=Q1).data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[-1][3] == "4.5"
    api = client.get(f"/api/v1/reports/units/{a}/roster", query_string=Q1,
                     headers=token_for(organizer))  # fmt: skip
    assert api.status_code == 200
    assert sum(r["minutes"] for r in api.json) == 270 and sum(r["points"] for r in api.json) == 45


def test_hours_per_volunteer_per_month_of_the_street(client, login, token_for, w):
    head = factories.create_member(w["street"], roles=("organizer",), name="街道主任")
    db.session.commit()
    street = w["street"].id
    login(head)
    html = client.get(f"/units/{street}/hours-by-month", query_string=Q1).get_data(as_text=True)
    rows = rows_of(client.get(f"/units/{street}/hours-by-month.xlsx", query_string=Q1).data)
    assert rows[0][2:] == ("2026-01", "2026-02", "2026-03", "合计")
    body, totals = rows[1:-1], rows[-1]
    assert [row[0] for row in body] == ["王秀英", "张伟", "刘芳"]  # most hours first
    assert body[0][2:] == (2.0, 1.0, 0, 3.0) and body[2][2:] == (0, 0.5, 0, 0.5)
    for column in range(2, 6):
        assert sum(row[column] for row in body) == totals[column]
    assert totals[2:] == (2.0, 1.5, 1.5, 5.0)
    assert foot_of(html, "months-table")[-1] == "5.0"
    api = client.get(f"/api/v1/reports/units/{street}/hours-by-month", query_string=Q1,
                     headers=token_for(head)).json  # fmt: skip
    assert api["months"] == ["2026-01", "2026-02", "2026-03"]
    assert api["month_totals"] == [120, 90, 90] and api["total"] == 300


@pytest.fixture
def sheet(w):
    """An activity of 上坎社区 on 10 March: alice signed up, came and was credited 90
    minutes; bob signed up and withdrew; carol (who lives in 古浪路社区) walked in and
    waits for approval; a neighbour signed up and never came."""
    organizer = w["organizer_a"]
    start = at("2026-03-10T01:00")
    activity = create_activity(w["a"], organizer=organizer, starts_at=start, title="助老送餐")
    neighbour = factories.create_member(w["building_a"], name="赵敏")
    for member, status in ((w["alice"], "signed_up"), (w["bob"], "withdrawn"),
                           (neighbour, "signed_up")):  # fmt: skip
        db.session.add(Signup(activity_id=activity.id, member_id=member.id, status=status,
                              created_at=at("2026-03-08T02:00")))  # fmt: skip
    db.session.add(Attendance(
        activity_id=activity.id, member_id=w["alice"].id, checked_in_at=start,
        checked_out_at=at("2026-03-10T02:30"), status="approved", minutes=90, points=15,
        decided_by_id=organizer.id,
    ))  # fmt: skip
    db.session.add(Attendance(activity_id=activity.id, member_id=w["carol"].id,
                              checked_in_at=at("2026-03-10T01:10"), status="pending"))  # fmt: skip
    db.session.commit()
    return activity


def test_an_activitys_attendance_sheet(client, login, token_for, w, sheet):
    organizer = w["organizer_a"]
    login(organizer)
    detail = client.get(f"/activities/{sheet.id}").get_data(as_text=True)
    assert 'id="attendance-sheet-link"' in detail
    html = client.get(f"/activities/{sheet.id}/attendance-sheet").get_data(as_text=True)
    assert "2026-03-10 09:00" in html  # local time (UTC+8)
    rows = rows_of(client.get(f"/activities/{sheet.id}/attendance-sheet.xlsx").data)
    body, totals = rows[1:-1], rows[-1]
    names = [row[0] for row in body]
    assert names == ["王秀英", "刘*", "张伟", "赵敏"]  # by check-in; carol masked: not his member
    assert body[0][2:4] == ("2026-03-10 09:00", "2026-03-10 10:30") and body[0][5] == 90
    assert body[1][5] == 0 and body[3][2] is None and body[3][4] == "未到场"
    assert body[2][1].endswith("（已退出）")
    assert sum(row[5] for row in body) == totals[5] == 90
    assert foot_of(html, "attendance-sheet")[-1] == "90"
    assert "2" in totals[1] and "2" in totals[2]  # two signed up, two checked in
    api = client.get(f"/api/v1/reports/activities/{sheet.id}/attendance-sheet",
                     headers=token_for(organizer)).json  # fmt: skip
    assert [line["name"] for line in api] == names
    assert sum(line["credited_minutes"] for line in api) == 90


def test_strangers_get_403(client, login, token_for, w, sheet):
    a = w["a"].id
    for stranger in (w["organizer_b"], w["bob"]):
        login(stranger)
        for url in (f"/units/{a}/roster", f"/units/{a}/roster.xlsx", f"/units/{a}/hours-by-month",
                    f"/units/{a}/hours-by-month.csv", f"/activities/{sheet.id}/attendance-sheet",
                    f"/activities/{sheet.id}/attendance-sheet.xlsx"):  # fmt: skip
            assert client.get(url).status_code == 403, (stranger.name, url)
        headers = token_for(stranger)
        for url in (f"/api/v1/reports/units/{a}/roster",
                    f"/api/v1/reports/activities/{sheet.id}/attendance-sheet"):  # fmt: skip
            response = client.get(url, headers=headers)
            assert response.status_code == 403 and response.json["code"] == "forbidden"
    detail = client.get(f"/activities/{sheet.id}").get_data(as_text=True)
    assert 'id="attendance-sheet-link"' not in detail
