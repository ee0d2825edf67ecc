"""Demo certificates (志愿服务证明) from the demo's five months of verified service: in each
community the two volunteers with the most hours get one, issued by the community's
organizer; in the first community one of them was revoked (时长登记有误) and the volunteer
13900000000 has a request waiting. Roll-ups, honour rolls and the party quarter need no
demo data of their own: they are computed from the history the other modules wrote."""

from __future__ import annotations

from datetime import date
from functools import partial

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.models import Member
from timebank.reports import periods
from timebank.reports.models import Certificate
from timebank.reports.operations import (
    IssueDetails,
    honour_roll,
    issue_certificate,
    request_certificate,
    revoke_certificate,
    service_record,
)
from timebank.units.models import Unit

RESPONSIBLE = ("周红梅", "陈立新", "杨海燕")


def load_reports_demo() -> str:
    """Issue the demo's certificates once; returns a line for the summary."""
    if db.session.scalar(sa.select(Certificate.id).limit(1)) is not None:
        return ""
    now = utcnow()
    today = periods.local_date(now)
    period = periods.custom(_months_back(today, 5), today)
    communities = db.session.scalars(
        sa.select(Unit).where(Unit.kind == "community").order_by(Unit.id)
    ).all()
    issued = []
    for index, community in enumerate(communities):
        organizer = people.find_member_by_phone(f"1380000000{index + 1}")
        if organizer is None:
            continue
        details = IssueDetails(
            issuer_name=f"{community.name}居民委员会",
            responsible_person=RESPONSIBLE[index % len(RESPONSIBLE)],
            contact=f"0931-755{index + 1:04d}",
        )
        issue = partial(
            issue_certificate, actor=organizer, first=period.first, last=period.last,
            details=details, purpose="单位评优", now=now,
        )  # fmt: skip
        for place in honour_roll(community.id, period, limit=2):
            if place.member.id == organizer.id:
                continue
            issued.append(issue(place.member))
        if index == 0 and issued:
            revoke_certificate(issued[0].id, actor=organizer, reason="时长登记有误，已重新出具")
            issued.append(issue(issued[0].member))
    volunteer = db.session.scalar(sa.select(Member).where(Member.phone == "13900000000"))
    if volunteer is not None and service_record(volunteer.id, period).minutes:
        request_certificate(
            volunteer, actor=volunteer, first=period.first, last=period.last,
            purpose="学校社会实践证明", now=now,
        )  # fmt: skip
    db.session.flush()
    return f"Reports: {len(issued)} certificates issued (one revoked), one request waiting.\n"


def _months_back(day: date, count: int) -> date:
    """The first day of the month ``count`` months before ``day``'s."""
    months = day.year * 12 + day.month - 1 - count
    return date(months // 12, months % 12 + 1, 1)
