"""Finding needs, resources, projects, claims and hour logs; what an action on each is done
to (its unit, and for some actions its member); the lists a member sees."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from timebank.core import access
from timebank.core.access import Target
from timebank.core.pending import PendingCredit
from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.errors import (
    ClaimNotFound,
    HourLogNotFound,
    NeedNotFound,
    ProjectNotFound,
    ResourceNotFound,
)
from timebank.projects.models import Claim, HourLog, Need, Project, Resource
from timebank.units import operations as units
from timebank.units.models import UnitClosure


def get_need(need_id: int) -> Need:
    """Return the need or raise NeedNotFound."""
    need = db.session.get(Need, need_id)
    if need is None:
        raise NeedNotFound("Need %(id)s does not exist.", params={"id": need_id})
    return need


def get_resource(resource_id: int) -> Resource:
    """Return the resource or raise ResourceNotFound."""
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        raise ResourceNotFound("Resource %(id)s does not exist.", params={"id": resource_id})
    return resource


def get_project(project_id: int) -> Project:
    """Return the project or raise ProjectNotFound."""
    project = db.session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound("Project %(id)s does not exist.", params={"id": project_id})
    return project


def get_claim(claim_id: int) -> Claim:
    """Return the claim (a place on a project) or raise ClaimNotFound."""
    claim = db.session.get(Claim, claim_id)
    if claim is None:
        raise ClaimNotFound("Assignment %(id)s does not exist.", params={"id": claim_id})
    return claim


def get_hour_log(log_id: int) -> HourLog:
    """Return the hour log or raise HourLogNotFound."""
    log = db.session.get(HourLog, log_id)
    if log is None:
        raise HourLogNotFound("Hour log %(id)s does not exist.", params={"id": log_id})
    return log


def lock_project(project_id: int) -> Project:
    """The project row, locked FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE already
    serialises writers): places are counted and states changed under this lock.
    Raises ProjectNotFound."""
    project = db.session.scalar(
        sa.select(Project)
        .where(Project.id == project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if project is None:
        raise ProjectNotFound("Project %(id)s does not exist.", params={"id": project_id})
    return project


def lock_need(need_id: int) -> Need:
    """The need row, locked FOR UPDATE on PostgreSQL. Raises NeedNotFound."""
    need = db.session.scalar(
        sa.select(Need)
        .where(Need.id == need_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if need is None:
        raise NeedNotFound("Need %(id)s does not exist.", params={"id": need_id})
    return need


# ---------------------------------------------------------------- targets


def need_target(need_id: int) -> Target:
    """An action on a need is done in its unit. NeedNotFound if none."""
    return Target(unit=get_need(need_id).unit_id)


def need_resident_target(need_id: int) -> Target:
    """A need's unit and its resident (who may act on their own need). NeedNotFound."""
    need = get_need(need_id)
    return Target(unit=need.unit_id, member=need.resident_id)


def wish_taker_target(need_id: int) -> Target:
    """A taken wish is given back by its taker (or their guardian). NeedNotFound."""
    need = get_need(need_id)
    if need.taker_id is None:
        return Target(unit=need.unit_id)
    return Target(member=need.taker_id)


def resource_target(resource_id: int) -> Target:
    return Target(unit=get_resource(resource_id).unit_id)


def project_target(project_id: int) -> Target:
    return Target(unit=get_project(project_id).unit_id)


def may_open_project(actor, project: Project) -> bool:
    """May ``actor`` open the project's page? Anyone once it is published; a draft only
    its organizers (the one rule the page checks and every link to a project asks)."""
    if project.status != "draft":
        return True
    return access.may(actor, "projects.manage", Target(unit=project.unit_id))


def assignment_target(claim_id: int) -> Target:
    """An assignment is answered by the member assigned (or their guardian)."""
    return Target(member=get_claim(claim_id).member_id)


def hour_log_titles(log_ids: list[int]) -> dict[int, str]:
    """``{hour log id: the project's or the small wish's title}``, in one query."""
    rows = db.session.execute(
        sa.select(HourLog.id, sa.func.coalesce(Project.title, Need.title))
        .outerjoin(Project, Project.id == HourLog.project_id)
        .outerjoin(Need, Need.id == HourLog.need_id)
        .where(HourLog.id.in_(log_ids))
    )
    return {key: value for key, value in rows}


#: built once, run with the member (the volunteer's home asks on every visit)
_LOGS_WAITING = (
    sa.select(HourLog.served_on, HourLog.minutes, sa.func.coalesce(Project.title, Need.title))
    .outerjoin(Project, Project.id == HourLog.project_id)
    .outerjoin(Need, Need.id == HourLog.need_id)
    .where(HourLog.member_id == sa.bindparam("member_id"), HourLog.status == "pending")
    .order_by(HourLog.served_on.desc())
    .limit(100)
)


def my_hour_logs_waiting(member_id: int) -> list[PendingCredit]:
    """The member's hour logs that wait for an organizer (core.pending's source)."""
    rows = db.session.execute(_LOGS_WAITING, {"member_id": member_id})
    return [
        PendingCredit(kind="hour_log", what=title, served=served_on, minutes=minutes)
        for served_on, minutes, title in rows
    ]


def hour_log_target(log_id: int) -> Target:
    """An hour log's unit (whose organizers approve it) and the member who served."""
    log = get_hour_log(log_id)
    return Target(unit=log.unit_id, member=log.member_id)


# ---------------------------------------------------------------- what a member sees


def nearby_unit_ids_select(member: Member, manage_action: str) -> sa.Select:
    """Units whose lists a member sees: the line from their home up to the street,
    everything below their home, and every subtree where they may ``manage_action``.
    (Lists only: any member may open any need, resource or project by id.)"""
    up = sa.select(UnitClosure.ancestor_id).where(UnitClosure.descendant_id == member.home_unit_id)
    down = sa.select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == member.home_unit_id
    )
    roots = access.scope_roots(member, manage_action)
    if not roots:
        return sa.union(up, down)
    return sa.union(up, down, organized_units_select(roots))


def organized_units_select(roots: list[int]) -> sa.Select:
    """Ids of every unit in the subtrees of ``roots``."""
    return sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id.in_(roots))


def _filtered(query: sa.Select, model, *, unit_id, category, status) -> sa.Select:
    if unit_id is not None:
        query = query.where(model.unit_id.in_(units.subtree_ids_select(unit_id)))
    if category is not None:
        query = query.where(model.category == category)
    if status is not None:
        query = query.where(model.status == status)
    return query


def needs_select(
    member: Member,
    *,
    unit_id: int | None = None,
    category: str | None = None,
    status: str | None = None,
    wish: bool | None = None,
) -> sa.Select:
    """Needs ``member`` sees, newest first, filtered by unit subtree, category, state and
    whether they are small wishes."""
    query = (
        sa.select(Need)
        .options(selectinload(Need.unit), selectinload(Need.resident))
        .order_by(Need.created_at.desc(), Need.id.desc())
    )
    if not access.is_admin(member):
        query = query.where(Need.unit_id.in_(nearby_unit_ids_select(member, "needs.manage")))
    if wish is not None:
        query = query.where(Need.is_wish.is_(wish))
    return _filtered(query, Need, unit_id=unit_id, category=category, status=status)


def resources_select(
    member: Member,
    *,
    unit_id: int | None = None,
    category: str | None = None,
    status: str | None = None,
) -> sa.Select:
    """Resources ``member`` sees, newest first, filtered."""
    query = (
        sa.select(Resource)
        .options(selectinload(Resource.organization), selectinload(Resource.offered_by))
        .order_by(Resource.created_at.desc(), Resource.id.desc())
    )
    if not access.is_admin(member):
        query = query.where(
            Resource.unit_id.in_(nearby_unit_ids_select(member, "resources.manage"))
        )
    return _filtered(query, Resource, unit_id=unit_id, category=category, status=status)


def projects_select(
    member: Member,
    *,
    unit_id: int | None = None,
    category: str | None = None,
    status: str | None = None,
) -> sa.Select:
    """Projects ``member`` sees, soonest first, filtered; drafts only where they manage."""
    query = (
        sa.select(Project)
        .options(selectinload(Project.unit))
        .order_by(Project.starts_at, Project.id)
    )
    roots = access.scope_roots(member, "projects.manage")
    drafts_visible = Project.unit_id.in_(organized_units_select(roots)) if roots else sa.false()
    if not access.is_admin(member):
        query = query.where(Project.unit_id.in_(nearby_unit_ids_select(member, "projects.manage")))
    query = query.where(sa.or_(Project.status != "draft", drafts_visible))
    return _filtered(query, Project, unit_id=unit_id, category=category, status=status)


def projects_in(roots: list[int], statuses: tuple[str, ...]) -> list[Project]:
    """Projects in the subtrees of ``roots`` in one of ``statuses``, newest first."""
    if not roots:
        return []
    return list(
        db.session.scalars(
            sa.select(Project)
            .where(Project.unit_id.in_(organized_units_select(roots)), Project.status.in_(statuses))
            .order_by(Project.starts_at.desc(), Project.id.desc())
            .limit(100)
        )
    )


def needs_in(roots: list[int], statuses: tuple[str, ...], *, besides: int) -> list[Need]:
    """Needs in the subtrees of ``roots`` in one of ``statuses`` (not ``besides``)."""
    if not roots:
        return []
    return list(
        db.session.scalars(
            sa.select(Need)
            .where(
                Need.unit_id.in_(organized_units_select(roots)),
                Need.status.in_(statuses),
                Need.id != besides,
            )
            .order_by(Need.created_at.desc(), Need.id.desc())
            .limit(100)
        )
    )
