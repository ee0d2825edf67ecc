"""Members: find and create them, grant roles over a unit's subtree, list and count the
members living in a subtree."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from timebank.core.access import ORGANIZERS, Target, remember_official
from timebank.core.clock import utcnow
from timebank.core.db import get_by_id
from timebank.core.errors import InvalidInput
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.errors import MemberNotFound, PhoneTaken
from timebank.people.models import ROLES, Member, PartyProfile, RoleAssignment
from timebank.people.operations.audit import record_audit
from timebank.people.operations.credentials import (
    check_password_strength,
    hash_password,
    normalize_phone,
)
from timebank.people.operations.notices import notify_invited
from timebank.units import operations as units
from timebank.units.models import UnitClosure


def get_member(member_id: int) -> Member:
    """Return the member or raise NotFound."""
    member = get_by_id(Member, member_id)
    if member is None:
        raise MemberNotFound("Member %(id)s does not exist.", params={"id": member_id})
    return member


def official_role(member_id: sa.ColumnElement) -> sa.Exists:
    """EXISTS: the member holds an organizer's or an admin's role (``access.is_official``),
    to read with a member whose name an answer shows."""
    return sa.exists().where(
        RoleAssignment.member_id == member_id, RoleAssignment.role.in_(sorted(ORGANIZERS))
    )


_MEMBER_SHOWN = sa.select(Member, official_role(Member.id)).where(
    Member.id == sa.bindparam("member")
)


@functools.lru_cache(maxsize=8)
def _shown_with(also: tuple) -> sa.Select:
    return _MEMBER_SHOWN.add_columns(*also) if also else _MEMBER_SHOWN


def get_member_shown(member_id: int) -> Member:
    """``get_member``, and whether the member is an official read in the same statement,
    so showing their name (masked or whole) asks nothing more. Raises NotFound."""
    return read_member_shown(member_id)[0]


def read_member_shown(member_id: int, *also: sa.ColumnElement, **params) -> tuple:
    """``(member, *values of also)``: ``get_member_shown``, and in the same statement the
    columns ``also`` (e.g. scalar subqueries of what the caller reads next; each is
    evaluated once, with the member's row), their bound parameters in ``params``. Pass
    the same ``also`` (built once, with bound parameters) on every call: the statement is
    then built once too. Raises NotFound."""
    found = db.session.execute(_shown_with(also), {"member": member_id, **params}).first()
    if found is None:
        raise MemberNotFound("Member %(id)s does not exist.", params={"id": member_id})
    remember_official(member_id, found[1])
    return (found[0], *found[2:])


def lock_member(member: Member) -> Member:
    """The member's row, locked until the transaction ends (PostgreSQL; SQLite's write
    lock holds it anyway) and read afresh: a decision on a member (approve, reject,
    suspend, move, remove) checks the status it changes on the row it writes, so of two
    at once the second sees what the first did."""
    return db.session.scalar(
        sa.select(Member)
        .where(Member.id == member.id)
        .with_for_update(of=Member)
        .execution_options(populate_existing=True)
    )


def member_names(member_ids: list[int]) -> dict[int, str]:
    """``{id: name}`` of the members that exist among ``member_ids``, in one query."""
    rows = db.session.execute(sa.select(Member.id, Member.name).where(Member.id.in_(member_ids)))
    return {key: value for key, value in rows}


def active_member_id_by_phone(raw: str) -> int | None:
    """The id of the active member with this phone, or None; InvalidPhone for a bad one."""
    member = find_member_by_phone(normalize_phone(raw))
    return member.id if member is not None and member.status == "active" else None


@use_case
def set_locale(member: Member, locale: str) -> None:
    """The member's page language from now on (zh_CN or en)."""
    member.locale = locale
    db.session.flush()


def member_target(member_id: int) -> Target:
    """What an action on a member is done to: the member, in their home unit."""
    member = get_member(member_id)
    return Target(unit=member.home_unit_id, member=member.id)


def action_to_grant(role: str) -> str:
    """The action that granting ``role`` needs: organizers may make volunteers, only
    admins may grant any other role."""
    return "roles.grant" if role == "volunteer" else "roles.grant_any"


def find_member_by_phone(phone: str) -> Member | None:
    """The member with this phone (already normalized), or None."""
    return db.session.scalar(sa.select(Member).where(Member.phone == phone))


def check_name(name: str | None) -> str:
    """The name, trimmed; InvalidInput unless it has 1 to 60 characters."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput(
            "A member needs a name of 1 to 60 characters.",
            errors={"name": ["From 1 to 60 characters."]},
        )
    return name


@use_case
def create_member(
    *,
    phone: str,
    name: str,
    home_unit_id: int,
    password: str | None = None,
    password_hash: str | None = None,
    status: str = "active",
    has_smartphone: bool = True,
    roles: Iterable[tuple[str, int]] = (),
    actor: Member | None = None,
    invite: bool = True,
) -> Member:
    """Create a member (phone unique) with optional roles ``[(role, unit_id), ...]``.

    An active member an organizer (``actor``) adds is told how to log in (an invitation
    to their inbox and by their channel, after the commit), unless ``invite`` is False
    (a roster import invites the rows it keeps, once they are all read).

    Raises InvalidInput for a bad phone, name or password, NotFound for a missing
    unit, Conflict (``phone_taken``) when the phone already belongs to someone.
    """
    phone = normalize_phone(phone)
    name = check_name(name)
    if password is not None:
        # argon2 is slow: hashed before the first statement, so no write lock waits for it
        password_hash = hash_password(check_password_strength(password, phone=phone))
    units.get_unit(home_unit_id)
    if find_member_by_phone(phone) is not None:
        raise PhoneTaken(
            "The phone %(phone)s is already registered.",
            params={"phone": phone},
        )
    member = Member(
        phone=phone,
        name=name,
        home_unit_id=home_unit_id,
        password_hash=password_hash,
        status=status,
        has_smartphone=has_smartphone,
        phone_verified_at=utcnow() if status == "active" else None,
    )
    db.session.add(member)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise PhoneTaken(
            "The phone %(phone)s is already registered.",
            params={"phone": phone},
        ) from None
    for role, unit_id in roles:
        grant_role(member, role, unit_id, granted_by=actor)
    record_audit("member.create", actor=actor, subject=member)
    if invite and actor is not None and status == "active":
        notify_invited(member)
    return member


@use_case
def grant_role(
    member: Member, role: str, unit_id: int, *, granted_by: Member | None = None
) -> RoleAssignment:
    """Give ``member`` a role over ``unit_id``'s subtree; idempotent."""
    if role not in ROLES:
        raise InvalidInput(
            "Unknown role %(role)s.", errors={"role": ["Unknown role."]}, params={"role": role}
        )
    units.get_unit(unit_id)
    for existing in member.roles:
        if existing.role == role and existing.unit_id == unit_id:
            return existing
    assignment = RoleAssignment(
        member=member,
        role=role,
        unit_id=unit_id,
        granted_by_id=granted_by.id if granted_by else None,
    )
    db.session.add(assignment)
    db.session.flush()
    record_audit("role.grant", actor=granted_by, subject=member, detail=f"{role}@{unit_id}")
    return assignment


#: the member as their home page shows them: their roles (with each role's unit), home
#: unit and party profile in one statement with the member, not three lazy loads and one
#: per role
_AT_HOME = (
    sa.select(Member)
    .where(Member.id == sa.bindparam("member"))
    .options(
        joinedload(Member.roles).joinedload(RoleAssignment.unit),
        joinedload(Member.home_unit),
        joinedload(Member.party),
    )
    .execution_options(populate_existing=True)
)


def member_at_home(member: Member) -> Member:
    """``member`` with their roles and their units, home unit and party profile loaded
    (the home page's), in one statement."""
    return db.session.execute(_AT_HOME, {"member": member.id}).unique().scalar_one()


def members_in_unit_select(
    unit_id: int, *, status: str | None = None, party: str | None = None
) -> sa.Select:
    """Members living in the subtree of ``unit_id``, by name.

    ``party``: ``member`` (any party member), ``reported`` (reported in here or
    below), ``not_reported`` (party member who has not reported in); InvalidInput for
    any other value.
    """
    query = (
        sa.select(Member)
        .where(Member.home_unit_id.in_(units.subtree_ids_select(unit_id)))
        .options(  # lists show each member's roles, party data and home: no query per row
            selectinload(Member.roles).joinedload(RoleAssignment.unit),
            selectinload(Member.party),
            joinedload(Member.home_unit),
        )
        .order_by(Member.name, Member.id)
    )
    if status is not None:
        query = query.where(Member.status == status)
    if party is not None:
        query = query.join(PartyProfile, PartyProfile.member_id == Member.id)
        if party == "reported":
            query = query.where(PartyProfile.reported_on.is_not(None))
        elif party == "not_reported":
            query = query.where(PartyProfile.reported_on.is_(None))
        elif party != "member":
            raise InvalidInput(
                "party must be member, reported or not_reported.", errors={"party": ["?"]}
            )
    return query


def count_members(
    unit_ids: Iterable[int], *, status: str | None = None, created_before: datetime | None = None
) -> int:
    """Members living in the subtrees of ``unit_ids`` (each counted once), in one query;
    ``created_before``: only those registered before then (waiting that long)."""
    roots = list(unit_ids)
    if not roots:
        return 0
    query = sa.select(sa.func.count(Member.id)).where(
        Member.home_unit_id.in_(
            sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id.in_(roots))
        )
    )
    if status is not None:
        query = query.where(Member.status == status)
    if created_before is not None:
        query = query.where(Member.created_at < created_before)
    return db.session.scalar(query)


def list_members(unit_id: int, **filters) -> list[Member]:
    """The members of members_in_unit_select(unit_id, **filters), as a list."""
    return list(db.session.scalars(members_in_unit_select(unit_id, **filters)))
