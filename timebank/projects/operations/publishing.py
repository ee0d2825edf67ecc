"""Publishing a project in a unit, linked to the needs it answers and the resources it
uses, and moving it through its states: open, in progress, done, verified, cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.errors import HourLogsPending, IllegalTransition, InvalidProject
from timebank.projects.models import (
    CATEGORIES,
    DAILY_MINUTES,
    PLACES,
    POINTS_PER_HOUR,
    SKILLS_MAX,
    TEXT_MAX,
    TITLE_MAX,
    HourLog,
    Project,
    ProjectResource,
)
from timebank.projects.operations.history import record_project_event
from timebank.projects.operations.lookups import get_need, get_resource, lock_project
from timebank.projects.operations.needs import (
    accept_need,
    reopen_needs_of,
    require_reason,
    resolve_needs_of,
)
from timebank.projects.operations.states import MANUAL_PROJECT_STATES, move_project
from timebank.units import operations as units

#: the longest a project may run
MAX_DURATION = timedelta(days=366)


def _window_errors(starts_at, ends_at, deadline, daily_minutes) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if any(t is not None and t.tzinfo is None for t in (starts_at, ends_at, deadline)):
        return {"starts_at": ["Give a time zone."]}
    if ends_at <= starts_at:
        errors["ends_at"] = ["The end must be after the start."]
    elif ends_at - starts_at > MAX_DURATION:
        errors["ends_at"] = ["A project runs at most a year."]
    if deadline is not None and deadline > ends_at:
        errors["deadline"] = ["Claims must close before the project ends."]
    window = int((ends_at - starts_at).total_seconds() // 60)
    if daily_minutes is not None:
        if daily_minutes not in DAILY_MINUTES:
            errors["daily_minutes"] = [DAILY_MINUTES.message()]
        elif 0 < window < daily_minutes:
            errors["daily_minutes"] = ["More than the whole schedule."]
    elif 0 < window < DAILY_MINUTES.low:
        errors["ends_at"] = [f"A project runs at least {DAILY_MINUTES.low} minutes."]
    return errors


def _project_errors(*, title, category, places, points_per_hour, description, skills, note):
    errors: dict[str, list[str]] = {}
    if not title or len(title) > TITLE_MAX:
        errors["title"] = [f"1 to {TITLE_MAX} characters."]
    if category not in CATEGORIES:
        errors["category"] = ["Unknown category."]
    if places not in PLACES:
        errors["places"] = [PLACES.message()]
    if points_per_hour not in POINTS_PER_HOUR:
        errors["points_per_hour"] = [POINTS_PER_HOUR.message()]
    if len(description) > TEXT_MAX:
        errors["description"] = [f"At most {TEXT_MAX} characters."]
    if len(skills) > SKILLS_MAX or len(note) > SKILLS_MAX:
        errors["skills"] = [f"At most {SKILLS_MAX} characters."]
    return errors


@use_case
def create_project(
    *,
    actor: Member,
    unit_id: int,
    title: str,
    category: str,
    places: int,
    starts_at: datetime,
    ends_at: datetime,
    deadline: datetime | None = None,
    daily_minutes: int | None = None,
    description: str = "",
    skills: str = "",
    schedule_note: str = "",
    points_per_hour: int = 0,
    need_ids: list[int] | tuple[int, ...] = (),
    resource_ids: list[int] | tuple[int, ...] = (),
    publish: bool = False,
    now: datetime | None = None,
) -> Project:
    """Create a project (a draft, or open when ``publish``) in a unit, answering needs and
    using resources. Claims close at ``deadline`` (default: the start); a member logs at
    most ``daily_minutes`` a day (default: the schedule's length, up to a day).

    Raises InvalidProject, NotFound (unit, need, resource), and what accepting a need
    raises (IllegalTransition for a declined or merged need).
    """
    units.get_unit(unit_id)
    title = (title or "").strip()
    description, skills = (description or "").strip(), (skills or "").strip()
    schedule_note = (schedule_note or "").strip()
    errors = _project_errors(
        title=title,
        category=category,
        places=places,
        points_per_hour=points_per_hour,
        description=description,
        skills=skills,
        note=schedule_note,
    )
    errors.update(_window_errors(starts_at, ends_at, deadline, daily_minutes))
    if errors:
        raise InvalidProject(
            "The project has invalid fields: %(fields)s.",
            errors=errors,
            params={"fields": ", ".join(sorted(errors))},
        )
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    window = int((ends_at - starts_at).total_seconds() // 60)
    project = Project(
        unit_id=unit_id,
        title=title,
        description=description,
        category=category,
        places=places,
        skills=skills,
        starts_at=starts_at,
        ends_at=ends_at,
        deadline=(deadline or starts_at).astimezone(UTC),
        daily_minutes=daily_minutes or min(window, 1440),
        schedule_note=schedule_note,
        points_per_hour=points_per_hour,
        status="draft",
        created_by_id=actor.id,
        created_at=now or utcnow(),
    )
    db.session.add(project)
    db.session.flush()
    record_project_event(project, "status", actor=actor, to_status="draft", now=now)
    for resource_id in sorted(set(resource_ids)):
        link_resource(project, get_resource(resource_id), actor=actor, now=now)
    for need_id in sorted(set(need_ids)):
        accept_need(get_need(need_id), project, actor=actor, now=now)
    if publish:
        move_project(project, "open", actor=actor, now=now)
    db.session.flush()
    return project


def link_resource(project: Project, resource, *, actor: Member, now: datetime | None = None):
    """The project uses the resource; idempotent."""
    if db.session.get(ProjectResource, (project.id, resource.id)) is None:
        db.session.add(ProjectResource(project_id=project.id, resource_id=resource.id))
        record_project_event(
            project, "resource", actor=actor, reason=f"#{resource.id} {resource.title}", now=now
        )
        db.session.flush()


def pending_hour_logs(project_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(HourLog.id)).where(
            HourLog.project_id == project_id, HourLog.status == "pending"
        )
    )


@use_case
def change_project_status(
    project: Project,
    to: str,
    *,
    actor: Member,
    reason: str | None = None,
    now: datetime | None = None,
) -> Project:
    """An organizer moves a project: publish (draft → open), start (→ in_progress), finish
    (→ done), reopen (done → in_progress, with a reason), verify (done → verified, once no
    hours wait for a decision: the needs it answers are then resolved), cancel (with a
    reason: needs no other project answers are open again).

    Raises IllegalTransition (also for ``staffed``, which follows the places taken),
    ReasonRequired, HourLogsPending.
    """
    project = lock_project(project.id)
    if to not in MANUAL_PROJECT_STATES or (to == "open" and project.status != "draft"):
        raise IllegalTransition(
            "A project cannot go from %(from)s to %(to)s.",
            params={"from": project.status, "to": to},
            errors={"status": ["open and staffed follow the places taken"]},
        )
    if to == "cancelled" or (to == "in_progress" and project.status == "done"):
        reason = require_reason(reason)
    if to == "verified" and project.status == "done" and pending_hour_logs(project.id):
        raise HourLogsPending(
            "Decide every hour log of %(title)s before verifying it.",
            params={"title": project.title},
        )
    move_project(project, to, actor=actor, reason=reason, now=now)
    if to == "verified":
        resolve_needs_of(project, actor=actor, now=now)
    elif to == "cancelled":
        reopen_needs_of(project, actor=actor, now=now)
    db.session.flush()
    return project
