"""The honour roll (光荣榜): members of a unit ranked by verified hours or points over a
period, for choosing model volunteers (优秀志愿者).

Only verified credits count (approved service; manual awards unless left out), net of
their corrections, posted in the period. Ties are broken the same way every time: who
reached the total first (the earlier last credit), then the lower member id. Members
who asked to stay off public lists, and members no longer active, are left off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger.models import Entry
from timebank.people.models import Member, PartyProfile
from timebank.reports.models import ListPreference
from timebank.reports.operations.credits import counted_codes, credit_entries
from timebank.reports.operations.ledger_sums import subtree
from timebank.reports.periods import Period

RANK_BY = {"hours": "HOURS", "points": "POINTS"}
MAX_PLACES = 100


@dataclass
class Place:
    rank: int
    member: Member
    amount: int
    last_credit_at: datetime
    party: bool


def honour_roll(
    unit_id: int,
    period: Period,
    *,
    by: str = "hours",
    include_manual: bool = True,
    limit: int = 20,
) -> list[Place]:
    """The top ``limit`` members (at most 100) of the subtree by ``by`` (hours or points)."""
    query, account, _original = credit_entries(counted_codes(include_manual))
    total = sa.func.sum(Entry.amount)
    last = sa.func.max(Entry.created_at)
    hidden = sa.select(ListPreference.member_id).where(ListPreference.hidden.is_(True))
    ranked = (
        query.with_only_columns(account.member_id, total, last)
        .join(Member, Member.id == account.member_id)
        .where(
            account.ledger == RANK_BY[by],
            account.unit_id.in_(subtree(unit_id)),
            Entry.created_at >= period.start,
            Entry.created_at < period.end,
            Member.status == "active",
            account.member_id.not_in(hidden),
        )
        .group_by(account.member_id)
        .having(total > 0)
        .order_by(total.desc(), last, account.member_id)
        .limit(max(1, min(limit, MAX_PLACES)))
    )
    rows = db.session.execute(ranked).all()
    ids = [row[0] for row in rows]
    members = {m.id: m for m in db.session.scalars(sa.select(Member).where(Member.id.in_(ids)))}
    party = set(
        db.session.scalars(
            sa.select(PartyProfile.member_id).where(PartyProfile.member_id.in_(list(members)))
        )
    )
    return [
        Place(rank=index, member=members[member_id], amount=int(amount),
              last_credit_at=last_at, party=member_id in party)
        for index, (member_id, amount, last_at) in enumerate(rows, start=1)
    ]  # fmt: skip


@use_case
def set_hidden(member: Member, hidden: bool) -> ListPreference:
    """Record whether ``member`` stays off public lists."""
    preference = db.session.get(ListPreference, member.id)
    if preference is None:
        preference = ListPreference(member_id=member.id)
        db.session.add(preference)
    preference.hidden = bool(hidden)
    preference.updated_at = utcnow()
    db.session.flush()
    return preference


def is_hidden(member_id: int) -> bool:
    preference = db.session.get(ListPreference, member_id)
    return bool(preference and preference.hidden)
