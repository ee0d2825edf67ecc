"""Small wishes (微心愿): one member takes a wish and fulfils it directly, reports the hours
against it, and the wish is resolved when an organizer approves them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.errors import HourLogsPending, NotAWish, NotServing, WishTaken
from timebank.projects.models import HourLog, Need
from timebank.projects.operations.lookups import lock_need
from timebank.projects.operations.needs import require_reason
from timebank.projects.operations.states import move_need


def take_wish(need: Need, member: Member, *, now: datetime | None = None) -> Need:
    """Take an open small wish to fulfil it; idempotent for its taker.

    Raises NotAWish, WishTaken (someone else has it), IllegalTransition (declined,
    merged or resolved).
    """
    need = lock_need(need.id)
    if not need.is_wish:
        raise NotAWish(
            "%(title)s is not a small wish; claim a project instead.", params={"title": need.title}
        )
    if need.taker_id == member.id and need.status == "accepted":
        return need
    if need.taker_id is not None and need.status == "accepted":
        raise WishTaken("Someone has already taken %(title)s.", params={"title": need.title})
    move_need(need, "accepted", actor=member, reason=f"taken by {member.name}", now=now)
    need.taker_id = member.id
    db.session.flush()
    return need


def release_wish(need: Need, member: Member, *, reason: str, now: datetime | None = None) -> Need:
    """The taker gives a wish back (it is open again), with a reason, before any of their
    hours on it were reported. Raises NotServing (not the taker), HourLogsPending,
    ReasonRequired."""
    reason = require_reason(reason)
    need = lock_need(need.id)
    if need.taker_id != member.id or need.status != "accepted":
        raise NotServing("You have not taken %(title)s.", params={"title": need.title})
    logged = db.session.scalar(
        sa.select(sa.func.count(HourLog.id)).where(
            HourLog.need_id == need.id,
            HourLog.member_id == member.id,
            HourLog.status != "rejected",
        )
    )
    if logged:
        raise HourLogsPending(
            "Your hours on %(title)s are reported; it cannot be given back.",
            params={"title": need.title},
        )
    move_need(need, "open", actor=member, reason=reason, now=now)
    need.taker_id = None
    db.session.flush()
    return need


def wishes_taken_by(member: Member) -> list[Need]:
    """The small wishes ``member`` has taken and not yet seen through."""
    return list(
        db.session.scalars(
            sa.select(Need)
            .where(Need.taker_id == member.id, Need.status == "accepted")
            .order_by(Need.created_at)
        )
    )
