"""Reminders to members signed up for an activity, through the inbox: the day before, an
hour before, and when it is cancelled. Each is written once, with the key
``remind:<activity>:<member>:<kind>``, however often the job runs."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.activities.models import Activity, Signup
from timebank.activities.operations.lookups import local_zone
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.people.models import Member

#: a member signed up is reminded once within this time before the start...
DAY_BEFORE = timedelta(hours=24)
#: ...and once more within this time before it
HOUR_BEFORE = timedelta(hours=1)
#: cancellations this recent are checked for members nobody told yet
CANCELLED_LOOKBACK = timedelta(days=7)
KINDS = {"day_before": "activity_tomorrow", "hour_before": "activity_soon"}


def reminder_key(activity_id: int, member_id: int, kind: str) -> str:
    return f"remind:{activity_id}:{member_id}:{kind}"


def _params(activity: Activity) -> dict:
    starts = activity.starts_at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    return {"title": activity.title, "starts": starts}


def _link(activity: Activity) -> str:
    return f"/activities/{activity.id}"


def signed_up_members(activity_id: int) -> list[Member]:
    """Active members holding a place on the activity, by id."""
    return list(
        db.session.scalars(
            sa.select(Member)
            .join(Signup, Signup.member_id == Member.id)
            .where(
                Signup.activity_id == activity_id,
                Signup.status == "signed_up",
                Member.status == "active",
            )
            .order_by(Member.id)
        )
    )


def notify_cancellation(activity: Activity, *, now: datetime | None = None) -> int:
    """Tell every member signed up that the activity was cancelled, once each; returns
    how many were told now."""
    members = signed_up_members(activity.id)
    keys = {m.id: reminder_key(activity.id, m.id, "cancelled") for m in members}
    told = inbox.used_keys(keys.values())
    params = {**_params(activity), "reason": activity.cancel_reason or ""}
    count = 0
    for member in members:
        if keys[member.id] in told:
            continue
        written = inbox.notify(
            member,
            "activity_cancelled",
            key=keys[member.id],
            params=params,
            link=_link(activity),
            now=now,
        )
        count += written is not None
    return count


def remind_signed_up(now: datetime | None = None) -> dict[str, int]:
    """The reminders job: members signed up for an activity starting within a day hear of
    it once (an hour before: once more); members of an activity cancelled in the last
    week that nobody told yet are told. Returns how many of each were written."""
    now = now or utcnow()
    counts = {"day_before": 0, "hour_before": 0, "cancelled": 0}
    rows = db.session.execute(
        sa.select(Activity, Member)
        .join(Signup, Signup.activity_id == Activity.id)
        .join(Member, Member.id == Signup.member_id)
        .where(
            Activity.status == "published",
            Activity.starts_at > now,
            Activity.starts_at <= now + DAY_BEFORE,
            Signup.status == "signed_up",
            Member.status == "active",
        )
        .order_by(Activity.starts_at, Activity.id, Member.id)
    ).all()
    due = []
    for activity, member in rows:
        kind = "hour_before" if activity.starts_at - now <= HOUR_BEFORE else "day_before"
        due.append((activity, member, kind, reminder_key(activity.id, member.id, kind)))
    sent = inbox.used_keys(key for *_, key in due)
    for activity, member, kind, key in due:
        if key in sent:
            continue
        written = inbox.notify(
            member, KINDS[kind], key=key, params=_params(activity), link=_link(activity), now=now
        )
        counts[kind] += written is not None
    cancelled = db.session.scalars(
        sa.select(Activity)
        .where(
            Activity.status == "cancelled",
            Activity.cancelled_at > now - CANCELLED_LOOKBACK,
            Activity.ends_at > Activity.cancelled_at,
        )
        .order_by(Activity.id)
    )
    for activity in list(cancelled):
        counts["cancelled"] += notify_cancellation(activity, now=now)
    return counts
