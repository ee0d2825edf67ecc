"""Publishing an activity, and cancelling it."""

from __future__ import annotations

from datetime import UTC, datetime

from timebank.activities.errors import InvalidActivity
from timebank.activities.models import (
    ACTIVITY_KINDS,
    ADDRESS_MAX,
    CAPACITY,
    CHECKIN_MODES,
    DESCRIPTION_MAX,
    LATITUDE,
    LONGITUDE,
    MAX_DURATION,
    POINTS,
    RADIUS_M,
    TITLE_MAX,
    Activity,
)
from timebank.activities.operations.lookups import categories, lock_activity
from timebank.activities.operations.reminders import notify_cancellation
from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.models import Member
from timebank.units import operations as units


@use_case
def create_activity(
    *,
    actor: Member,
    unit_id: int,
    title: str,
    category: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    address: str = "",
    kind: str = "service",
    lat: float | None = None,
    lng: float | None = None,
    radius_m: int | None = None,
    capacity: int | None = None,
    signup_required: bool = False,
    points_per_hour: int = 0,
    checkin_bonus: int = 0,
    checkin_mode: str = "kiosk",
    requires_checkout: bool = True,
) -> Activity:
    """Publish an activity in a unit the actor organizes.

    Raises NotFound for a missing unit, InvalidInput for a bad window, category, place,
    capacity or points rule.
    """
    units.get_unit(unit_id)
    title = (title or "").strip()
    errors = field_errors(
        title=title,
        description=description,
        address=address,
        category=category,
        kind=kind,
        checkin_mode=checkin_mode,
        starts_at=starts_at,
        ends_at=ends_at,
        place=(lat, lng, radius_m),
        capacity=capacity,
        points=(points_per_hour, checkin_bonus),
    )
    if errors:
        raise InvalidActivity(
            "The activity has invalid fields: %(fields)s.",
            errors=errors,
            params={"fields": ", ".join(sorted(errors))},
        )
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    activity = Activity(
        unit_id=unit_id,
        title=title,
        description=(description or "").strip(),
        address=(address or "").strip(),
        category=category,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        capacity=capacity,
        signup_required=signup_required,
        points_per_hour=points_per_hour,
        checkin_bonus=checkin_bonus,
        checkin_mode=checkin_mode,
        requires_checkout=requires_checkout,
        status="published",
        created_by_id=actor.id,
    )
    db.session.add(activity)
    db.session.flush()
    people.record_audit("activity.create", actor=actor, detail=f"activity {activity.id}")
    return activity


def field_errors(
    *,
    title: str,
    description: str | None,
    category: str,
    address: str | None = None,
    kind: str,
    checkin_mode: str,
    starts_at: datetime,
    ends_at: datetime,
    place: tuple[float | None, float | None, int | None],
    capacity: int | None,
    points: tuple[int, int],
) -> dict[str, list[str]]:
    """Field name -> messages for every field of a new activity that breaks a rule."""
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Required."]
    if category not in categories():
        errors["category"] = ["Unknown category."]
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = ["Unknown kind."]
    if checkin_mode not in CHECKIN_MODES:
        errors["checkin_mode"] = ["Unknown mode."]
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        errors["starts_at"] = ["Give a time zone."]
    elif ends_at <= starts_at:
        errors["ends_at"] = ["The end must be after the start."]
    elif ends_at - starts_at > MAX_DURATION:
        errors["ends_at"] = ["An activity lasts at most 7 days."]
    if any(v is not None for v in place) and any(v is None for v in place):
        errors["radius_m"] = ["A place needs latitude, longitude and radius."]
    lat, lng, radius_m = place
    for name, value, bounds in (
        ("lat", lat, LATITUDE),
        ("lng", lng, LONGITUDE),
        ("radius_m", radius_m, RADIUS_M),
        ("capacity", capacity, CAPACITY),
    ):
        if value is not None and value not in bounds:
            errors[name] = [bounds.message()]
    for name, value in zip(("points_per_hour", "checkin_bonus"), points, strict=True):
        if value not in POINTS:
            errors[name] = [POINTS.message()]
    if len(title) > TITLE_MAX:
        errors["title"] = [f"At most {TITLE_MAX} characters."]
    if len(description or "") > DESCRIPTION_MAX:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
    if len((address or "").strip()) > ADDRESS_MAX:
        errors["address"] = [f"At most {ADDRESS_MAX} characters."]
    return errors


@use_case
def cancel_activity(
    activity: Activity, *, actor: Member, reason: str, now: datetime | None = None
) -> Activity:
    """Cancel: no new check-ins or credits; what was already approved stays credited.
    Every member signed up is told through the inbox (once).

    Idempotent. Raises ActivityNotFound if the activity was deleted meanwhile.
    """
    activity = lock_activity(activity.id)
    if activity.status == "cancelled":
        return activity
    activity.status = "cancelled"
    activity.cancel_reason = (reason or "").strip()[:500] or None
    activity.cancelled_at = now or utcnow()
    db.session.flush()
    people.record_audit("activity.cancel", actor=actor, detail=f"activity {activity.id}: {reason}")
    notify_cancellation(activity, now=activity.cancelled_at)
    return activity
