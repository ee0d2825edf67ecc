"""Needs (需求清单): filing one (for oneself, or for a resident without a phone), declining,
merging duplicates, accepting into projects, resolving when the projects are verified, and
the resident's confirmation and rating. Contact details are shown only to handlers."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Guardianship, Member
from timebank.projects.errors import (
    AlreadyConfirmed,
    InvalidNeed,
    NotResolved,
    ProjectNotOpen,
    ReasonRequired,
)
from timebank.projects.models import (
    CATEGORIES,
    RATING,
    REASON_MAX,
    TEXT_MAX,
    TITLE_MAX,
    URGENCIES,
    Claim,
    Need,
    Project,
    ProjectNeed,
)
from timebank.projects.operations.history import record_need_event, record_project_event
from timebank.projects.operations.lookups import lock_need
from timebank.projects.operations.states import move_need
from timebank.projects.reasons import coded
from timebank.units import operations as units

_PHONE = re.compile(r"^[0-9+\- ]{3,20}$")


def require_reason(reason: str | None) -> str:
    """The reason, stripped and clipped; ReasonRequired when there is none."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired("Give a reason.", errors={"reason": ["Required."]})
    return reason[:REASON_MAX]


def _need_errors(*, title, category, urgency, description, contact_name, contact_phone) -> dict:
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Required."]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"At most {TITLE_MAX} characters."]
    if category not in CATEGORIES:
        errors["category"] = ["Unknown category."]
    if urgency not in URGENCIES:
        errors["urgency"] = ["Unknown urgency."]
    if len(description) > TEXT_MAX:
        errors["description"] = [f"At most {TEXT_MAX} characters."]
    if contact_name is not None and len(contact_name) > 60:
        errors["contact_name"] = ["At most 60 characters."]
    if contact_phone is not None and not _PHONE.match(contact_phone):
        errors["contact_phone"] = ["A phone number: digits, +, - and spaces."]
    return errors


@use_case
def file_need(
    *,
    resident: Member,
    filed_by: Member,
    title: str,
    category: str,
    description: str = "",
    urgency: str = "normal",
    unit_id: int | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    is_wish: bool = False,
    now: datetime | None = None,
) -> Need:
    """File a need (or a small wish) for ``resident``; ``filed_by`` is the resident, or a
    guardian or grid worker filing for them (the record keeps both).

    The unit defaults to the resident's home; it may be their home or a unit above it.
    The contact defaults to the resident's name and phone. Raises InvalidNeed, NotFound.
    """
    title, description = (title or "").strip(), (description or "").strip()
    contact_name = (contact_name or "").strip() or None
    contact_phone = (contact_phone or "").strip() or None
    errors = _need_errors(
        title=title,
        category=category,
        urgency=urgency,
        description=description,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    if unit_id is None:
        unit_id = resident.home_unit_id
    elif not units.is_within(resident.home_unit_id, units.get_unit(unit_id).id):
        errors["unit_id"] = ["The resident's home unit, or a unit above it."]
    if errors:
        raise InvalidNeed(
            "The need has invalid fields: %(fields)s.",
            errors=errors,
            params={"fields": ", ".join(sorted(errors))},
        )
    need = Need(
        unit_id=unit_id,
        resident_id=resident.id,
        filed_by_id=filed_by.id,
        is_wish=is_wish,
        title=title,
        category=category,
        description=description,
        urgency=urgency,
        contact_name=contact_name or resident.name,
        contact_phone=contact_phone or resident.phone,
        status="open",
        created_at=now or utcnow(),
    )
    db.session.add(need)
    db.session.flush()
    on_behalf = (
        coded("filed_for", resident=resident.id, by=filed_by.id) if need.filed_on_behalf else None
    )
    record_need_event(need, "filed", actor=filed_by, to_status="open", reason=on_behalf, now=now)
    db.session.flush()
    return need


@use_case
def decline_need(need: Need, *, actor: Member, reason: str, now: datetime | None = None) -> Need:
    """Decline an open need with a reason. Raises ReasonRequired, IllegalTransition."""
    reason = require_reason(reason)
    need = lock_need(need.id)
    move_need(need, "declined", actor=actor, reason=reason, now=now)
    need.decline_reason = reason
    db.session.flush()
    return need


@use_case
def merge_need(
    need: Need, into: Need, *, actor: Member, reason: str | None = None, now: datetime | None = None
) -> Need:
    """Merge a duplicate into another need; it is resolved when that one is.

    Raises InvalidNeed (into itself, or into a need that was merged or declined),
    IllegalTransition unless ``need`` is open.
    """
    if need.id == into.id:
        raise InvalidNeed("A need cannot be merged into itself.", errors={"into_id": ["Itself."]})
    first, second = sorted((need.id, into.id))
    locked = {first: lock_need(first), second: lock_need(second)}
    need, into = locked[need.id], locked[into.id]
    if into.status in ("merged", "declined"):
        raise InvalidNeed(
            "Merge into a need that is still handled; %(title)s is %(status)s.",
            params={"title": into.title, "status": into.status},
            errors={"into_id": ["Merged or declined."]},
        )
    why = (reason or "").strip() or coded("duplicate_of", need=into.id, title=into.title)
    move_need(need, "merged", actor=actor, reason=why, now=now)
    need.merged_into_id = into.id
    record_need_event(
        into,
        "merged_in",
        actor=actor,
        reason=coded("merged_in", need=need.id, title=need.title),
        now=now,
    )
    if into.status == "resolved":
        move_need(
            need, "resolved", actor=actor, reason=coded("resolved_with", need=into.id), now=now
        )
    db.session.flush()
    return need


@use_case
def accept_need(
    need: Need, project: Project, *, actor: Member, now: datetime | None = None
) -> Need:
    """Accept a need into a project (the project answers it); a need may be answered by
    several. Idempotent. Raises ProjectNotOpen for a verified or cancelled project,
    IllegalTransition for a need that is merged, declined or resolved."""
    need = lock_need(need.id)
    if project.status in ("verified", "cancelled"):
        raise ProjectNotOpen(
            "%(title)s is closed; accept the need into a project still under way.",
            params={"title": project.title},
        )
    linked = db.session.get(ProjectNeed, (project.id, need.id))
    if linked is not None:
        return need
    if need.status == "accepted":
        record_need_event(
            need, "project", actor=actor, project_id=project.id, reason=project.title, now=now
        )
    else:
        move_need(
            need, "accepted", actor=actor, project_id=project.id, reason=project.title, now=now
        )
    db.session.add(ProjectNeed(project_id=project.id, need_id=need.id, created_at=now or utcnow()))
    record_project_event(project, "need", actor=actor, reason=f"#{need.id} {need.title}", now=now)
    db.session.flush()
    return need


def resolve_with(need: Need, *, actor: Member | None, reason: str, now: datetime | None) -> None:
    """Resolve an accepted need and every duplicate merged into it."""
    move_need(need, "resolved", actor=actor, reason=reason, now=now)
    merged = db.session.scalars(
        sa.select(Need).where(Need.merged_into_id == need.id, Need.status == "merged")
    )
    for duplicate in merged:
        why = coded("resolved_with", need=need.id)
        move_need(duplicate, "resolved", actor=actor, reason=why, now=now)


def resolve_needs_of(project: Project, *, actor: Member, now: datetime | None = None) -> None:
    """After ``project`` is verified: resolve each need it answers whose projects (those
    not cancelled) are all verified now."""
    for need in _linked_needs(project.id):
        if need.status != "accepted":
            continue
        states = _project_states(need.id)
        if states and all(s == "verified" for s in states):
            why = coded("project_verified", title=project.title)
            resolve_with(need, actor=actor, reason=why, now=now)


def reopen_needs_of(project: Project, *, actor: Member, now: datetime | None = None) -> None:
    """After ``project`` is cancelled: a need no other project answers is open again (a
    small wish someone took stays with them)."""
    for need in _linked_needs(project.id):
        if need.status == "accepted" and need.taker_id is None and not _project_states(need.id):
            why = coded("project_cancelled", title=project.title)
            move_need(need, "open", actor=actor, reason=why, now=now)


def _linked_needs(project_id: int) -> list[Need]:
    return list(
        db.session.scalars(
            sa.select(Need)
            .join(ProjectNeed, ProjectNeed.need_id == Need.id)
            .where(ProjectNeed.project_id == project_id)
            .order_by(Need.id)
            .with_for_update(of=Need)
        )
    )


def _project_states(need_id: int) -> list[str]:
    """States of the projects answering the need, cancelled ones left out."""
    return list(
        db.session.scalars(
            sa.select(Project.status)
            .join(ProjectNeed, ProjectNeed.project_id == Project.id)
            .where(ProjectNeed.need_id == need_id, Project.status != "cancelled")
        )
    )


@use_case
def confirm_need(
    need: Need,
    *,
    actor: Member,
    rating: int,
    feedback: str | None = None,
    now: datetime | None = None,
) -> Need:
    """The resident (or their guardian, or the grid worker for them) confirms the result
    of a resolved need and rates it 1 to 5; once. Raises InvalidNeed, NotResolved,
    AlreadyConfirmed."""
    if rating not in RATING:
        raise InvalidNeed("Rate from 1 to 5.", errors={"rating": [RATING.message()]})
    need = lock_need(need.id)
    if need.status != "resolved":
        raise NotResolved("%(title)s is not resolved yet.", params={"title": need.title})
    if need.confirmed_at is not None:
        raise AlreadyConfirmed("%(title)s was already confirmed.", params={"title": need.title})
    now = now or utcnow()
    need.rating = rating
    need.feedback = (feedback or "").strip()[:REASON_MAX] or None
    need.confirmed_by_id = actor.id
    need.confirmed_at = now
    record_need_event(
        need, "confirm", actor=actor, reason=f"{rating}/5 {need.feedback or ''}".strip(), now=now
    )
    db.session.flush()
    return need


# ---------------------------------------------------------------- who sees the contact


class SeenNeed:
    """A need as one member sees it: the contact details hidden unless they handle it."""

    def __init__(self, need: Need, show_contact: bool):
        self.need = need
        self.show_contact = show_contact

    def __getattr__(self, name):
        return getattr(self.need, name)

    @property
    def contact_name(self) -> str | None:
        return self.need.contact_name if self.show_contact else None

    @property
    def contact_phone(self) -> str | None:
        return self.need.contact_phone if self.show_contact else None


def seen_needs(member: Member, needs: list[Need], organized: sa.Select | None) -> list[SeenNeed]:
    """The needs as ``member`` sees them. Handlers see the contact: the resident, who filed
    it, who took a small wish, who serves on a project answering it, and organizers of
    ``organized`` (the SELECT of unit ids where they may manage needs, or None)."""
    visible = {n.id for n in needs if member.id in (n.resident_id, n.filed_by_id, n.taker_id)}
    rest = [n.id for n in needs if n.id not in visible]
    if rest and organized is not None:
        visible.update(
            db.session.scalars(
                sa.select(Need.id).where(Need.id.in_(rest), Need.unit_id.in_(organized))
            )
        )
    rest = [i for i in rest if i not in visible]
    if rest:
        visible.update(
            db.session.scalars(
                sa.select(ProjectNeed.need_id)
                .join(Claim, Claim.project_id == ProjectNeed.project_id)
                .where(
                    ProjectNeed.need_id.in_(rest),
                    Claim.member_id == member.id,
                    Claim.status == "active",
                )
            )
        )
    return [SeenNeed(n, n.id in visible) for n in needs]


def merged_into_this(need: Need) -> list[Need]:
    """The duplicates merged into ``need``."""
    return list(
        db.session.scalars(sa.select(Need).where(Need.merged_into_id == need.id).order_by(Need.id))
    )


def residents_to_file_for(member: Member, organized: sa.Select | None) -> list[Member]:
    """Whom a grid worker files needs for: the residents they are a guardian of, and the
    residents without a smartphone living where they organize (``organized``: a SELECT of
    unit ids, or None)."""
    wards = sa.select(Guardianship.member_id).where(Guardianship.guardian_id == member.id)
    whom = Member.id.in_(wards)
    if organized is not None:
        whom = sa.or_(whom, Member.has_smartphone.is_(False) & Member.home_unit_id.in_(organized))
    return list(
        db.session.scalars(
            sa.select(Member)
            .where(whom, Member.status == "active", Member.id != member.id)
            .order_by(Member.name, Member.id)
            .limit(500)
        )
    )
