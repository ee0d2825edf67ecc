"""Small wishes (微心愿): one member takes a wish and fulfils it directly, reports the hours
against it, and the wish is resolved when an organizer approves them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from timebank.core import access
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.errors import HourLogsPending, NotAWish, NotServing, OwnWish, WishTaken
from timebank.projects.models import HourLog, Need
from timebank.projects.operations.lookups import lock_need
from timebank.projects.operations.needs import require_reason
from timebank.projects.operations.states import move_need
from timebank.projects.reasons import coded


@use_case
def take_wish(
    need: Need, member: Member, *, actor: Member | None = None, now: datetime | None = None
) -> Need:
    """Take an open small wish to fulfil it; idempotent for its taker. ``actor``: who
    asks (the member, or their guardian acting for them).

    Nobody is credited for their own wish: the resident, their guardian, and a guardian
    acting for a ward on their own wish are refused (OwnWish; the database also refuses
    a taker who is the resident). Raises NotAWish, WishTaken (someone else has it),
    IllegalTransition (declined, merged or resolved).
    """
    need = lock_need(need.id)
    if not need.is_wish:
        raise NotAWish(
            "%(title)s is not a small wish; claim a project instead.", params={"title": need.title}
        )
    if access.pays_self_or_ward(member, need.resident_id) or (
        actor is not None and access.pays_self_or_ward(actor, need.resident_id)
    ):
        raise OwnWish("Nobody takes their own small wish, or one of a member they look after.")
    if need.taker_id == member.id and need.status == "accepted":
        return need
    if need.taker_id is not None and need.status == "accepted":
        raise WishTaken("Someone has already taken %(title)s.", params={"title": need.title})
    move_need(need, "accepted", actor=actor or member, reason=coded("taken"), now=now)
    need.taker_id = member.id
    db.session.flush()
    return need


@use_case
def release_wish(need: Need, by: Member, *, reason: str, now: datetime | None = None) -> Need:
    """The taker (``by``, or their guardian) gives a wish back (it is open again), with a
    reason, before any of the taker's hours on it were reported. The taker is read on the
    locked need. Raises NotServing (not the taker, nor their guardian), HourLogsPending,
    ReasonRequired."""
    reason = require_reason(reason)
    need = lock_need(need.id)
    taker_id = need.taker_id
    if (
        taker_id is None
        or need.status != "accepted"
        or not (by.id == taker_id or access.pays_self_or_ward(by, taker_id))
    ):
        raise NotServing("You have not taken %(title)s.", params={"title": need.title})
    logged = db.session.scalar(
        sa.select(sa.func.count(HourLog.id)).where(
            HourLog.need_id == need.id,
            HourLog.member_id == taker_id,
            HourLog.status != "rejected",
        )
    )
    if logged:
        raise HourLogsPending(
            "Your hours on %(title)s are reported; it cannot be given back.",
            params={"title": need.title},
        )
    move_need(need, "open", actor=by, reason=reason, now=now)
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
