"""Signing up for an activity with limited places, and withdrawing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from timebank.activities.errors import ActivityFull, ActivityOver, NotSignedUp
from timebank.activities.models import Activity, Signup
from timebank.activities.operations.lookups import (
    lock_activity,
    require_party_member,
    require_published,
)
from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member


def active_signup_count(activity_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Signup.id)).where(
            Signup.activity_id == activity_id, Signup.status == "signed_up"
        )
    )


def get_signup(activity_id: int, member_id: int) -> Signup | None:
    return db.session.scalar(
        sa.select(Signup).where(Signup.activity_id == activity_id, Signup.member_id == member_id)
    )


@use_case
def sign_up(activity: Activity, member: Member, *, now: datetime | None = None) -> Signup:
    """Take a place; idempotent. The activity row is locked while places are counted.

    Raises Conflict (``activity_full``, ``activity_cancelled``, ``activity_over``).
    """
    now = now or utcnow()
    activity = lock_activity(activity.id)
    require_published(activity)
    require_party_member(activity, member)
    if now >= activity.ends_at:
        raise ActivityOver("The activity is over.")
    signup = get_signup(activity.id, member.id)
    if signup is not None and signup.status == "signed_up":
        return signup
    if activity.capacity is not None and active_signup_count(activity.id) >= activity.capacity:
        raise ActivityFull(
            "All %(capacity)s places are taken.",
            params={"capacity": activity.capacity},
        )
    if signup is None:
        signup = Signup(activity_id=activity.id, member_id=member.id, created_at=now)
        db.session.add(signup)
    else:
        signup.status = "signed_up"
        signup.created_at = now
        signup.withdrawn_at = None
    db.session.flush()
    return signup


@use_case
def withdraw(activity: Activity, member: Member, *, now: datetime | None = None) -> Signup:
    """Give the place back; idempotent. NotFound (``not_signed_up``) without a sign-up."""
    activity = lock_activity(activity.id)
    signup = get_signup(activity.id, member.id)
    if signup is None:
        raise NotSignedUp("You have not signed up for this activity.")
    if signup.status == "signed_up":
        signup.status = "withdrawn"
        signup.withdrawn_at = now or utcnow()
        db.session.flush()
    return signup
