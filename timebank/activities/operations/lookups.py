"""Finding activities: categories, one activity, the lists a member sees, the local clock,
and the preconditions every operation on an activity checks first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from timebank.activities.errors import ActivityCancelled, ActivityNotFound, NotPartyMember
from timebank.activities.models import Activity
from timebank.core import access
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.db import get_by_id
from timebank.extensions import db
from timebank.people.models import Member, PartyProfile
from timebank.units import operations as units
from timebank.units.models import UnitClosure


def categories() -> tuple[str, ...]:
    """The category codes this deployment offers (TIMEBANK_ACTIVITY_CATEGORIES)."""
    return tuple(current_app.config["TIMEBANK_ACTIVITY_CATEGORIES"])


def get_activity(activity_id: int) -> Activity:
    """Return the activity or raise NotFound."""
    activity = get_by_id(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound("Activity %(id)s does not exist.", params={"id": activity_id})
    return activity


def activity_target(activity_id: int) -> Target:
    """What an action on an activity is done to: its unit. ActivityNotFound if none."""
    return Target(unit=get_activity(activity_id).unit_id)


def attendance_titles(attendance_ids: list[int]) -> dict[int, str]:
    """``{attendance id: the activity's title}``, in one query (statements name the
    activity a credit was earned at)."""
    from timebank.activities.models import Attendance

    rows = db.session.execute(
        sa.select(Attendance.id, Activity.title)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Attendance.id.in_(attendance_ids))
    )
    return {key: value for key, value in rows}


def lock_activity(activity_id: int) -> Activity:
    """The activity row, locked FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already serialises writers). Raises ActivityNotFound."""
    activity = db.session.scalar(
        sa.select(Activity)
        .where(Activity.id == activity_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if activity is None:
        raise ActivityNotFound("Activity %(id)s does not exist.", params={"id": activity_id})
    return activity


def require_published(activity: Activity) -> None:
    """Raise ActivityCancelled unless the activity is published."""
    if activity.status != "published":
        raise ActivityCancelled("%(title)s was cancelled.", params={"title": activity.title})


def require_party_member(activity: Activity, member: Member) -> None:
    """Raise NotPartyMember when a party activity meets someone who is not one."""
    if activity.kind == "party" and db.session.get(PartyProfile, member.id) is None:
        raise NotPartyMember("Only party members attend party activities.")


def nearby_unit_ids_select(member: Member) -> sa.Select:
    """Units whose activities a member's lists show: their home unit's line up to the
    street, everything below their home unit, and every subtree they organize.

    Lists only: any active member may open, join and check in to any activity (walk-ins
    from other communities are welcome, as the 爱心+ services are).
    """
    up = sa.select(UnitClosure.ancestor_id).where(UnitClosure.descendant_id == member.home_unit_id)
    down = sa.select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == member.home_unit_id
    )
    roots = access.scope_roots(member, "activities.manage")
    if not roots:
        return sa.union(up, down)
    organized = sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id.in_(roots))
    return sa.union(up, down, organized)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in the deployment's time zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def activities_select(
    member: Member,
    *,
    unit_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    when: str | None = None,
    now: datetime | None = None,
) -> sa.Select:
    """Activities ``member`` may see, soonest first, filtered.

    ``unit_id`` limits to that unit's subtree; dates are local days, inclusive.
    ``when``: ``upcoming`` (not ended yet, soonest first) or ``past`` (ended, the latest
    first); None for both.
    """
    query = sa.select(Activity).order_by(Activity.starts_at, Activity.id)
    if when is not None:
        now = now or utcnow()
        if when == "past":
            query = query.where(Activity.ends_at <= now).order_by(None)
            query = query.order_by(Activity.ends_at.desc(), Activity.id.desc())
        else:
            query = query.where(Activity.ends_at > now)
    if not access.is_admin(member):
        query = query.where(Activity.unit_id.in_(nearby_unit_ids_select(member)))
    if unit_id is not None:
        query = query.where(Activity.unit_id.in_(units.subtree_ids_select(unit_id)))
    if date_from is not None:
        query = query.where(Activity.ends_at >= local_day_start(date_from))
    if date_to is not None:
        query = query.where(Activity.starts_at < local_day_start(date_to + timedelta(days=1)))
    if category is not None:
        query = query.where(Activity.category == category)
    if kind is not None:
        query = query.where(Activity.kind == kind)
    if status is not None:
        query = query.where(Activity.status == status)
    return query


def list_activities(member: Member, **filters) -> list[Activity]:
    return list(db.session.scalars(activities_select(member, **filters)))
