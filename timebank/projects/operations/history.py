"""The history of every change to a project or a need (who, when, why): append-only rows
that the pages show; the database refuses to edit or delete them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.models import REASON_MAX, Need, NeedEvent, Project, ProjectEvent


def _clip(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    return reason[:REASON_MAX] or None


def record_project_event(
    project: Project,
    kind: str,
    *,
    actor: Member | None,
    from_status: str | None = None,
    to_status: str | None = None,
    member_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> ProjectEvent:
    event = ProjectEvent(
        project_id=project.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor.id if actor is not None else None,
        member_id=member_id,
        reason=_clip(reason),
        created_at=now or utcnow(),
    )
    db.session.add(event)
    return event


def record_need_event(
    need: Need,
    kind: str,
    *,
    actor: Member | None,
    from_status: str | None = None,
    to_status: str | None = None,
    project_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> NeedEvent:
    event = NeedEvent(
        need_id=need.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor.id if actor is not None else None,
        project_id=project_id,
        reason=_clip(reason),
        created_at=now or utcnow(),
    )
    db.session.add(event)
    return event


def project_history(project_id: int) -> list[ProjectEvent]:
    """Every change to the project, oldest first."""
    return list(
        db.session.scalars(
            sa.select(ProjectEvent)
            .where(ProjectEvent.project_id == project_id)
            .options(selectinload(ProjectEvent.actor), selectinload(ProjectEvent.member))
            .order_by(ProjectEvent.created_at, ProjectEvent.id)
        )
    )


def need_history(need_id: int) -> list[NeedEvent]:
    """Every change to the need, oldest first."""
    return list(
        db.session.scalars(
            sa.select(NeedEvent)
            .where(NeedEvent.need_id == need_id)
            .options(selectinload(NeedEvent.actor))
            .order_by(NeedEvent.created_at, NeedEvent.id)
        )
    )
