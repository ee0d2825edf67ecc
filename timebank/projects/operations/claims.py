"""Who serves on a project: volunteers claim places (接单), partner organizations claim
through their contact who names its people, organizers assign members (派单) who accept
or decline. Places are counted under the project's row lock, so the last place goes to
exactly one of many who ask at once; the project is staffed when every place is taken."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput, NotFound
from timebank.core.privacy import shown_name
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.models import Member
from timebank.projects.errors import (
    AlreadyServing,
    AssignmentNotPending,
    ClaimNotFound,
    ClaimsClosed,
    NotOrganizationContact,
    ProjectFull,
    ProjectNotOpen,
    ProjectStarted,
)
from timebank.projects.models import HOLDING, Claim, Project
from timebank.projects.operations.history import record_project_event
from timebank.projects.operations.lookups import lock_project
from timebank.projects.operations.needs import require_reason
from timebank.projects.operations.notices import notify_assignment
from timebank.projects.operations.organizations import is_contact, require_contact, require_people
from timebank.projects.operations.states import move_project
from timebank.projects.reasons import coded
from timebank.units.models import Organization, UnitClosure


def places_taken(project_id: int) -> int:
    """Places held: active claims and assignments waiting for an answer."""
    return db.session.scalar(
        sa.select(sa.func.count(Claim.id)).where(
            Claim.project_id == project_id, Claim.status.in_(HOLDING)
        )
    )


def member_claim(project_id: int, member_id: int) -> Claim | None:
    return db.session.scalar(
        sa.select(Claim).where(Claim.project_id == project_id, Claim.member_id == member_id)
    )


def claims_of(project_id: int) -> list[Claim]:
    """Everyone who holds or held a place on the project, in the order they came."""
    return list(
        db.session.scalars(
            sa.select(Claim)
            .where(Claim.project_id == project_id)
            .options(selectinload(Claim.member), selectinload(Claim.organization))
            .order_by(Claim.created_at, Claim.id)
        )
    )


def my_claims(member: Member) -> list[Claim]:
    """The member's places and assignments, the newest project first."""
    return list(
        db.session.scalars(
            sa.select(Claim)
            .join(Project, Project.id == Claim.project_id)
            .where(Claim.member_id == member.id)
            .options(selectinload(Claim.project), selectinload(Claim.organization))
            .order_by(Project.starts_at.desc(), Claim.id.desc())
        )
    )


def _require_open(project: Project, now: datetime) -> None:
    if project.status == "staffed":
        raise ProjectFull("All %(places)s places are taken.", params={"places": project.places})
    if project.status != "open":
        raise ProjectNotOpen("%(title)s is not open for claims.", params={"title": project.title})
    if now > project.deadline:
        raise ClaimsClosed("Claims for %(title)s have closed.", params={"title": project.title})


def _require_free(project: Project, wanted: int = 1) -> None:
    free = project.places - places_taken(project.id)
    if wanted > free:
        raise ProjectFull(
            "Only %(free)s of %(places)s places are left.",
            params={"free": max(free, 0), "places": project.places},
        )


def _after_taking(project: Project, actor: Member, now: datetime) -> None:
    if project.status == "open" and places_taken(project.id) >= project.places:
        move_project(project, "staffed", actor=actor, reason=coded("all_places_taken"), now=now)


def _after_freeing(project: Project, actor: Member, now: datetime) -> None:
    if project.status == "staffed" and places_taken(project.id) < project.places:
        move_project(project, "open", actor=actor, reason=coded("place_freed"), now=now)


def _hold(project, member, *, kind, status, actor, now, organization_id=None) -> Claim:
    """Create the member's row, or reuse the one they withdrew or declined."""
    claim = member_claim(project.id, member.id)
    if claim is None:
        claim = Claim(project_id=project.id, member_id=member.id)
        db.session.add(claim)
    claim.kind, claim.status, claim.organization_id = kind, status, organization_id
    claim.created_by_id, claim.created_at = actor.id, now
    claim.reason, claim.decided_at = None, None
    return claim


@use_case
def claim_place(
    project: Project, member: Member, *, actor: Member | None = None, now: datetime | None = None
) -> Claim:
    """``member`` takes a place (``actor``: they, or their guardian). Idempotent; a
    pending assignment claimed is accepted. Raises ProjectFull, ProjectNotOpen,
    ClaimsClosed."""
    now, actor = now or utcnow(), actor or member
    project = lock_project(project.id)
    claim = member_claim(project.id, member.id)
    if claim is not None and claim.status == "active":
        return claim
    if claim is not None and claim.status == "pending":
        return answer_assignment(claim, accept=True, actor=actor, now=now)
    _require_open(project, now)
    _require_free(project)
    claim = _hold(project, member, kind="volunteer", status="active", actor=actor, now=now)
    record_project_event(project, "claim", actor=actor, member_id=member.id, now=now)
    _after_taking(project, actor, now)
    db.session.flush()
    return claim


@use_case
def claim_for_organization(
    project: Project,
    org: Organization,
    *,
    contact: Member,
    member_ids: list[int],
    now: datetime | None = None,
) -> list[Claim]:
    """A partner organization claims the project: its contact names the people who serve,
    one place each, all or none. Those already serving keep their place.

    Raises NotOrganizationContact, NotOrganizationMember, InvalidInput (nobody named),
    ProjectFull (more named than places left), ProjectNotOpen, ClaimsClosed.
    """
    now = now or utcnow()
    require_contact(contact, org)
    if not member_ids:
        raise InvalidInput("Name who serves.", errors={"member_ids": ["Required."]})
    people = require_people(org, member_ids)
    project = lock_project(project.id)
    _require_open(project, now)
    new = [
        m
        for m in people
        if (c := member_claim(project.id, m.id)) is None or c.status not in HOLDING
    ]
    _require_free(project, len(new))
    claims = [
        _hold(
            project,
            m,
            kind="organization",
            status="active",
            actor=contact,
            now=now,
            organization_id=org.id,
        )
        for m in new
    ]
    if new:
        # the append-only history counts the people; their claims name them (masked on the
        # roster), so no name is copied where removal could not clear it
        record_project_event(
            project, "organization_claim", actor=contact, reason=f"{org.name} ({len(new)})", now=now
        )
    _after_taking(project, contact, now)
    db.session.flush()
    return claims


@use_case
def assign_member(
    project: Project, member: Member, *, actor: Member, now: datetime | None = None
) -> Claim:
    """An organizer assigns a member (派单); the member then accepts or declines. The place
    is held meanwhile. Raises AlreadyServing, ProjectFull, ProjectNotOpen, InvalidInput
    (a member who is not active)."""
    now = now or utcnow()
    if not member.is_active:
        raise InvalidInput("%(name)s is not an active member.", params={"name": shown_name(member)})
    project = lock_project(project.id)
    claim = member_claim(project.id, member.id)
    if claim is not None and claim.status in HOLDING:
        raise AlreadyServing(
            "%(name)s already serves on %(title)s.",
            params={"name": shown_name(member), "title": project.title},
        )
    if project.status == "staffed":
        _require_free(project)
    if project.status != "open":
        raise ProjectNotOpen("%(title)s is not open.", params={"title": project.title})
    _require_free(project)
    claim = _hold(project, member, kind="assignment", status="pending", actor=actor, now=now)
    record_project_event(project, "assign", actor=actor, member_id=member.id, now=now)
    _after_taking(project, actor, now)
    db.session.flush()
    notify_assignment(project, claim, organizer_name=actor.name, now=now)
    return claim


@use_case
def answer_assignment(
    claim: Claim,
    *,
    accept: bool,
    actor: Member,
    reason: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """The member accepts an assignment, or declines it with a reason (the place is
    freed). Raises AssignmentNotPending, ReasonRequired."""
    now = now or utcnow()
    if not accept:
        reason = require_reason(reason)
    project = lock_project(claim.project_id)
    claim = db.session.scalar(
        sa.select(Claim).where(Claim.id == claim.id).execution_options(populate_existing=True)
    )
    if claim.status != "pending":
        raise AssignmentNotPending("This assignment was already answered.")
    claim.decided_at = now
    if accept:
        claim.status = "active"
        record_project_event(project, "accept", actor=actor, member_id=claim.member_id, now=now)
    else:
        claim.status, claim.reason = "declined", reason
        record_project_event(
            project, "decline", actor=actor, member_id=claim.member_id, reason=reason, now=now
        )
        _after_freeing(project, actor, now)
    db.session.flush()
    return claim


@use_case
def withdraw_claim(
    project: Project,
    member: Member,
    *,
    actor: Member,
    as_contact: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Give a place back before the project starts. ``actor`` is the member (or their
    guardian), or, ``as_contact``, the contact of the organization that named them.

    Raises ClaimNotFound, ProjectStarted, NotOrganizationContact.
    """
    now = now or utcnow()
    project = lock_project(project.id)
    claim = member_claim(project.id, member.id)
    if claim is None or claim.status not in HOLDING:
        raise ClaimNotFound(
            "%(name)s holds no place on %(title)s.",
            params={"name": shown_name(member), "title": project.title},
        )
    if as_contact and not (
        claim.organization_id is not None and is_contact(actor, claim.organization_id)
    ):
        raise NotOrganizationContact("Only the organization's contact withdraws its people.")
    if now >= project.starts_at or project.status in ("in_progress", "done", "verified"):
        raise ProjectStarted(
            "%(title)s has started; the place can no longer be withdrawn.",
            params={"title": project.title},
        )
    claim.status, claim.decided_at = "withdrawn", now
    claim.reason = (reason or "").strip()[:500] or None
    record_project_event(
        project, "withdraw", actor=actor, member_id=member.id, reason=claim.reason, now=now
    )
    _after_freeing(project, actor, now)
    db.session.flush()
    return claim


def serving_claim(project_id: int, member_id: int) -> Claim | None:
    """The member's active place on the project, locked (hours are summed under it)."""
    return db.session.scalar(
        sa.select(Claim)
        .where(
            Claim.project_id == project_id,
            Claim.member_id == member_id,
            Claim.status == "active",
        )
        .with_for_update()
    )


def find_member(
    text: str, unit_id: int, *, actor: Member | None = None, action: str = ""
) -> Member:
    """The member an organizer means by a phone number, or by a name unique among the
    active members living in the subtree of ``unit_id`` or, given ``actor`` and
    ``action``, in any subtree where the actor may do that action (a project of one grid
    is staffed from the whole community its organizer looks after, as a phone would
    find them). Raises NotFound, InvalidInput."""
    text = (text or "").strip()[:60]
    digits = re.sub(r"[\s-]", "", text).removeprefix("+86")
    if digits.isdigit():
        member = people.find_member_by_phone(people.normalize_phone(digits))
        if member is None or not member.is_active:
            raise NotFound("No member has this phone number.")
        return member
    roots = {unit_id}
    if actor is not None and action:
        roots |= set(access.scope_roots(actor, action))
    homes = sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id.in_(roots))
    matches = list(
        db.session.scalars(
            sa.select(Member)
            .where(
                Member.home_unit_id.in_(homes),
                Member.status == "active",
                Member.name == " ".join(text.split()),
            )
            .order_by(Member.id)
            .limit(2)
        )
    )
    if not matches:
        raise NotFound("Nobody called %(name)s lives in this unit.", params={"name": text})
    if len(matches) > 1:
        raise InvalidInput(
            "More than one member is called %(name)s; use the phone number.",
            params={"name": text},
        )
    return matches[0]
