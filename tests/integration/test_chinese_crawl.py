"""Finding 16 of issue 21, as a class: no English on a Chinese page. Each role logs in to
the demo district in Chinese, opens its home page and follows the links it finds (breadth
first, bounded), and no page shows a Latin-letter word outside a short allow list
(tests/crawl.py). English stored in the database (histories, reasons, audit summaries,
job results) is caught as well as English from templates and code."""

from __future__ import annotations

import re
from collections import Counter, deque

import pytest
import sqlalchemy as sa

from tests.crawl import ALLOWED_LATIN, ascii_punctuation, latin_words, links, visible_text
from timebank.activities.demo import ward_and_guardian
from timebank.demo import ADMIN_PASSWORD, DEMO_PASSWORD
from timebank.extensions import db
from timebank.merchants import operations as merchants
from timebank.merchants.demo import STAFF_PHONES
from timebank.merchants.models import Merchant, StaffInvitation
from timebank.people import operations as people
from timebank.units.models import Unit

pytestmark = pytest.mark.demo  # the demo `make run` loads on SQLite

PAGES_PER_ROLE = 45
PER_KIND = 2  # pages of one kind (/needs/7 and /needs/8) opened per role: breadth first
MAIN_PAGES = ("/", "/needs", "/projects", "/activities", "/offers", "/inbox", "/me/record")
# Pages a crawl must not open: they act on a GET's behalf in no way, but they are files
# (exports, badges as images) or screens that need a device (the kiosk's full screen).
NOT_PAGES = (".csv", ".svg", ".png", ".pdf", "/export", "/download")


@pytest.fixture
def roles(app):
    """The demo district and one member per role, with the password each logs in with."""
    assert app.test_cli_runner().invoke(args=["demo", "--members", "40"]).exit_code == 0
    phone = people.find_member_by_phone
    owner = phone(STAFF_PHONES[0])
    shop = db.session.scalar(sa.select(Merchant).where(Merchant.owner_id == owner.id))
    staff = phone("13900000012")
    merchants.invite_staff(shop, phone=staff.phone, actor=owner)
    invitation = db.session.scalar(
        sa.select(StaffInvitation).where(StaffInvitation.member_id == staff.id)
    )
    merchants.accept_staff_invitation(invitation.id, member=staff)
    street = db.session.scalar(sa.select(Unit).where(Unit.kind == "street"))
    street_organizer = phone("13900000020")
    people.grant_role(street_organizer, "organizer", street.id)
    db.session.commit()
    _ward, guardian = ward_and_guardian()
    return {
        "resident": (phone("13900000010"), DEMO_PASSWORD),
        "party member": (phone("13900000001"), DEMO_PASSWORD),
        "guardian": (guardian, DEMO_PASSWORD),
        "shop owner": (owner, DEMO_PASSWORD),
        "shop staff": (staff, DEMO_PASSWORD),
        "organizer": (phone("13800000001"), DEMO_PASSWORD),
        "street organizer": (street_organizer, DEMO_PASSWORD),
        "admin": (phone("13800000000"), ADMIN_PASSWORD),
    }


def crawl(client, starts, limit: int) -> dict[str, list[str]]:
    """Breadth first from ``starts``: the visible lines of up to ``limit`` pages, at most
    PER_KIND of each kind."""
    seen, queue, pages, kinds = set(starts), deque(starts), {}, Counter()
    while queue and len(pages) < limit:
        path = queue.popleft()
        kind = re.sub(r"\d+", "N", path.split("?")[0])
        if kinds[kind] >= PER_KIND:
            continue
        kinds[kind] += 1
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[path] = visible_text(html)
        for link in sorted(links(html) - seen):
            if not link.endswith(NOT_PAGES) and "/export" not in link:
                seen.add(link)
                queue.append(link)
    return pages


def test_no_latin_word_on_any_chinese_page_of_any_role(app, roles):
    crawled, leaks, counts = 0, {}, {}
    for role, (member, password) in roles.items():
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
        answer = client.post("/login", data={"phone": member.phone, "password": password})
        assert answer.status_code == 302, role
        pages = crawl(client, MAIN_PAGES, PAGES_PER_ROLE)
        assert len(pages) >= 10, (role, sorted(pages))
        crawled += len(pages)
        counts[role] = len(pages)
        for path, lines in pages.items():
            for word, line in latin_words(lines) + ascii_punctuation(lines):
                leaks.setdefault((word, line[:120]), f"{role} {path}")
    print(f"crawled {crawled} Chinese pages {counts}; allowed: {', '.join(sorted(ALLOWED_LATIN))}")
    assert crawled >= 200
    assert leaks == {}, "\n".join(f"{where}: {word!r} in {line!r}" for (word, line), where in
                                  sorted(leaks.items(), key=lambda kv: kv[1]))  # fmt: skip
