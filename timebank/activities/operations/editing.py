"""Editing a published activity, and saying in advance why a member cannot join one.

What may change depends on what has happened. Before anybody checks in, everything but
the unit (whose organizers answer for it). Once somebody has checked in, only what does
not touch hours or points: title, description, category, places and whether sign-up is
required. The window, the points rule, the kind, the check-in mode and the place decided
how attendance was (or will be) counted and reviewed; changing them afterwards would
change credits behind the organizer who approves them. Cancel and publish anew instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from timebank.activities.errors import ActivityCancelled, ActivityLocked, InvalidActivity
from timebank.activities.models import Activity, Attendance
from timebank.activities.operations.lookups import lock_activity
from timebank.activities.operations.publishing import field_errors
from timebank.activities.operations.signups import active_signup_count, get_signup
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member, PartyProfile

#: fields that may change after the first check-in
FREE_FIELDS = ("title", "description", "address", "category", "capacity", "signup_required")
#: fields that decide hours and points: fixed once somebody has checked in
COUNTING_FIELDS = (
    "kind", "starts_at", "ends_at", "lat", "lng", "radius_m", "points_per_hour",
    "checkin_bonus", "checkin_mode", "requires_checkout",
)  # fmt: skip
FIELDS = FREE_FIELDS + COUNTING_FIELDS


def has_check_ins(activity_id: int) -> bool:
    """True once anybody has checked in (kiosk, badge or by hand)."""
    query = sa.select(sa.literal(1)).where(Attendance.activity_id == activity_id).limit(1)
    return db.session.scalar(query) is not None


def _same(old, new) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old.astimezone(UTC) == new.astimezone(UTC)
    return old == new


@use_case
def update_activity(activity: Activity, *, actor: Member, **changes) -> Activity:
    """Change a published activity's fields (any of FIELDS; the others are ignored).

    Raises ActivityCancelled for a cancelled one, ActivityLocked when a field of
    COUNTING_FIELDS changes after the first check-in, InvalidActivity for values that
    break a rule (as when publishing), or places below the members already signed up.
    """
    activity = lock_activity(activity.id)
    if activity.status != "published":
        raise ActivityCancelled("%(title)s was cancelled.", params={"title": activity.title})
    before = {name: getattr(activity, name) for name in FIELDS}
    after = {**before, **{k: v for k, v in changes.items() if k in FIELDS}}
    after["title"] = (after["title"] or "").strip()
    after["description"] = (after["description"] or "").strip()
    after["address"] = (after["address"] or "").strip()
    changed = [name for name in FIELDS if not _same(before[name], after[name])]
    locked = [name for name in changed if name in COUNTING_FIELDS]
    if locked and has_check_ins(activity.id):
        raise ActivityLocked(
            "People have checked in already: the time, place, points and check-in rules "
            "stay as they were (%(fields)s). Cancel and publish anew to change them.",
            params={"fields": ", ".join(locked)},
            errors={name: ["Fixed after the first check-in."] for name in locked},
        )
    errors = field_errors(
        title=after["title"], description=after["description"], category=after["category"],
        address=after["address"],
        kind=after["kind"], checkin_mode=after["checkin_mode"], starts_at=after["starts_at"],
        ends_at=after["ends_at"], place=(after["lat"], after["lng"], after["radius_m"]),
        capacity=after["capacity"], points=(after["points_per_hour"], after["checkin_bonus"]),
    )  # fmt: skip
    taken = active_signup_count(activity.id)
    if after["capacity"] is not None and after["capacity"] < taken and "capacity" in changed:
        errors["capacity"] = [f"{taken} members signed up already."]
    if errors:
        raise InvalidActivity(
            "The activity has invalid fields: %(fields)s.",
            errors=errors,
            params={"fields": ", ".join(sorted(errors))},
        )
    for name in changed:
        value = after[name]
        setattr(activity, name, value.astimezone(UTC) if isinstance(value, datetime) else value)
    if changed:
        db.session.flush()
        record_audit(
            "activity.edit", actor=actor, target=f"activity:{activity.id}",
            before={n: before[n] for n in changed}, after={n: after[n] for n in changed},
        )  # fmt: skip
    return activity


def why_cannot_join(activity: Activity, member: Member, *, now: datetime | None = None):
    """None when ``member`` may sign up for (or check in at) the activity now, else why
    not: ``cancelled``, ``over``, ``party_only`` or ``full`` (reads only)."""
    now = now or utcnow()
    if activity.status != "published":
        return "cancelled"
    if now >= activity.ends_at:
        return "over"
    if activity.kind == "party" and db.session.get(PartyProfile, member.id) is None:
        return "party_only"
    if activity.capacity is not None:
        signup = get_signup(activity.id, member.id)
        mine = signup is not None and signup.status == "signed_up"
        if not mine and active_signup_count(activity.id) >= activity.capacity:
            return "full"
    return None
