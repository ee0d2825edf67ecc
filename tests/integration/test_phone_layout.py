"""Finding 18 of issue 21 through the test client (the browser measures the same pages in
tests/e2e/test_phone_layout.py): the party table says hours as 小时/分钟; the name cells of
the attendance, party, import and organizer-offer tables are marked to keep their line and
wide tables scroll inside their card; activity cards are a list without bullets; every
page links the site's icon, which is served."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from tests import factories
from tests.activities_factories import create_activity
from tests.merchants_factories import create_merchant, create_offer
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_site_has_an_icon(client):
    page = text(client.get("/login"))
    href = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', page).group(1)
    icon = client.get(href)
    assert icon.status_code == 200 and b"<svg" in icon.data


def test_the_party_table_says_hours_and_minutes(client, login, district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    member = factories.create_member(district["building_a"], name="欧阳娜娜")
    people.register_party(member, branch="第一党支部", reported_unit_id=district["a"].id,
                          reported_on=utcnow().date())  # fmt: skip
    activity = create_activity(district["a"], organizer=organizer,
                               starts_at=utcnow() - timedelta(hours=3), hours=2)  # fmt: skip
    activities.manual_check_in(activity, member, actor=organizer, now=activity.starts_at)
    activities.manual_check_in(
        activity, member, actor=organizer, now=activity.starts_at + timedelta(minutes=90)
    )
    attendance = activities.list_attendance(activity)[0]
    activities.approve_attendance(activity, [attendance.id], actor=organizer)
    db.session.commit()
    login(organizer)
    page = text(client.get(f"/units/{district['a'].id}/party-attendance"))
    row = re.search(rf'<tr data-member-id="{member.id}".*?</tr>', page, re.S).group(0)
    assert '<td class="name">欧阳娜娜</td>' in row
    assert "1小时30分钟" in row and "1.5" not in row


def test_names_keep_their_line_and_wide_tables_scroll(client, login, district):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    shop = create_merchant(district["a"], organizer=organizer, name="上坎菜市场老王肉菜店")
    create_offer(shop)
    volunteer = factories.create_member(district["building_a"], name="欧阳娜娜")
    activity = create_activity(district["a"], organizer=organizer)
    activities.manual_check_in(activity, volunteer, actor=organizer, now=activity.starts_at)
    db.session.commit()
    login(organizer)
    offers = text(client.get(f"/units/{district['a'].id}/offers"))
    assert '<div class="table-scroll"><table id="unit-offers">' in offers
    assert '<td class="name">上坎菜市场老王肉菜店</td>' in offers
    detail = text(client.get(f"/activities/{activity.id}"))
    assert '<td class="name">欧阳娜娜' in detail and '<div class="table-scroll"><table>' in detail
    report = client.post(
        f"/units/{district['a'].id}/members/import",
        data={"i-file": (io.BytesIO("姓名,手机号\n司马相如,12\n".encode()), "r.csv")},
        content_type="multipart/form-data",
    )
    assert '<td class="name">司马相如</td>' in text(report)
    css = text(client.get("/static/css/app.css"))
    assert "td.name { white-space:nowrap; }" in css
    assert "ul.rows { list-style:none; padding-left:0; }" in css
    listing = text(client.get("/activities"))
    assert '<ul class="rows" id="activity-list">' in listing
