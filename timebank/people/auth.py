"""Who is calling, and what their roles cover: the people side of core/access.py.

Bearer tokens authenticate /api, Flask-Login sessions authenticate pages. A guardian
acting for a member sends ``X-On-Behalf-Of: <member id>`` (pages: ``?for=<member id>``);
then ``access.acting_member()`` is the member and ``access.current_actor()`` the
guardian, and both are recorded on what they do.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from timebank.core import access
from timebank.core.audit import recorded_on_behalf
from timebank.core.db import get_by_id
from timebank.core.errors import AuthenticationRequired
from timebank.core.schemas import MAX_ID
from timebank.core.uow import reads_before_writes
from timebank.extensions import db, login_manager
from timebank.people import operations as people
from timebank.people.errors import InvalidOnBehalfOf, TokenInvalid
from timebank.people.models import Guardianship, Member, RoleAssignment
from timebank.units import operations as units


@login_manager.user_loader
def load_user(session_id: str) -> Member | None:
    """The member a page session names, unless their sessions were ended since."""
    member_id, _, epoch = str(session_id).partition(".")
    try:
        member = get_by_id(Member, int(member_id))  # every page asks: a SELECT built once
    except (TypeError, ValueError):
        return None
    if member is None or str(member.session_epoch) != epoch:
        return None
    return member


def authenticate_api_request() -> None:
    """before_request for /api/: resolve the bearer token, if any, into g.api_member."""
    g.api_member = None
    g.api_token = None
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("Use 'Authorization: Bearer <token>'.")
    with reads_before_writes():  # on SQLite the write lock waits for the view's first write
        g.api_member, g.api_token = people.member_for_token(token.strip())


def _is_api() -> bool:
    return request.path.startswith("/api/")


class PeopleAccess:
    """The queries core/access.py asks; see ``AccessBackend`` there."""

    def current_actor(self) -> Member | None:
        if _is_api():
            return g.get("api_member")
        if current_user.is_authenticated:
            return current_user._get_current_object()
        return None

    def acting_for(self, actor: Member) -> Member:
        raw = request.headers.get("X-On-Behalf-Of") if _is_api() else request.args.get("for")
        if not raw:
            return actor
        # isascii: "²".isdigit() is True, but int("²") raises
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
            raise InvalidOnBehalfOf("X-On-Behalf-Of must be a member id.")
        if int(raw) == actor.id:
            return actor
        return people.guardian_may_act_for(actor, int(raw))

    def roles_cover_unit(self, member_id: int, roles: frozenset[str], unit_id: int) -> bool:
        granted = {unit for role, unit, _ in grants_of(member_id).roles if role in roles}
        return bool(granted) and not granted.isdisjoint(_line(unit_id))

    def roles_cover_merchant(self, member_id: int, roles: frozenset[str], merchant_id: int) -> bool:
        return any(
            role in roles and merchant == merchant_id
            for role, _, merchant in grants_of(member_id).roles
        )

    def has_role(self, member_id: int, roles: frozenset[str]) -> bool:
        return any(role in roles for role, _, _ in grants_of(member_id).roles)

    def role_roots(self, member_id: int, roles: frozenset[str]) -> list[int]:
        granted = grants_of(member_id).roles
        return units.top_units(unit for role, unit, _ in granted if role in roles)

    def in_home_line(self, member: Member, unit_id: int) -> bool:
        return unit_id in _line(member.home_unit_id)

    def wards(self, guardian_id: int) -> list[int]:
        return sorted(grants_of(guardian_id).wards)

    def record_on_behalf(self, actor: Member, member: Member, action: str) -> None:
        if recorded_on_behalf(actor, member):
            return  # the operation put the act on record itself, with what it did
        people.record_audit(
            f"on_behalf:{action}",
            actor=actor,
            subject=member,
            on_behalf_of=member,
            detail=f"{request.method} {request.path}",
        )

    def subtree_select(self, unit_id: int):
        return units.subtree_ids_select(unit_id)

    def guards(self, guardian_id: int, member_id: int) -> bool:
        return member_id in grants_of(guardian_id).wards


def require_login() -> Member:
    """The caller, for code outside a declared endpoint; AuthenticationRequired if none."""
    member = PeopleAccess().current_actor()
    if member is None:
        raise AuthenticationRequired()
    return member


# ---------------------------------------------------------------- one read per request


@dataclass(frozen=True)
class Grants:
    """What a member may do as whom: their roles (role, unit, merchant or None) and the
    members they guard (active guardianships)."""

    roles: tuple[tuple[str, int, int | None], ...]
    wards: frozenset[int]


#: a member's roles, then (role NULL) the members they guard
_GRANTS = sa.union_all(
    sa.select(RoleAssignment.role, RoleAssignment.unit_id, RoleAssignment.merchant_id).where(
        RoleAssignment.member_id == sa.bindparam("member")
    ),
    sa.select(sa.null(), Guardianship.member_id, sa.null()).where(
        Guardianship.guardian_id == sa.bindparam("member"), Guardianship.status == "active"
    ),
)


def grants_of(member_id: int) -> Grants:
    """The member's roles and wards, read in one query, once per request. A flush that
    writes a role or a guardianship, and a rollback, forget what was read."""

    def read() -> Grants:
        rows = db.session.execute(_GRANTS, {"member": member_id}).all()
        return Grants(
            roles=tuple(
                (role, unit, merchant) for role, unit, merchant in rows if role is not None
            ),
            wards=frozenset(unit for role, unit, _ in rows if role is None),
        )

    return access.remembered(("grants", member_id), read)


def _line(unit_id: int) -> frozenset[int]:
    """``unit_id`` and every unit above it (units never move), once per request."""
    return access.remembered(("line", unit_id), lambda: frozenset(units.ancestor_ids(unit_id)))


_GRANT_MODELS = (RoleAssignment, Guardianship)


@sa.event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    for changed in (session.new, session.dirty, session.deleted):
        if any(isinstance(obj, _GRANT_MODELS) for obj in changed):
            access.forget_memo()
            return


@sa.event.listens_for(Session, "after_soft_rollback")
def _after_rollback(_session: Session, _transaction) -> None:
    access.forget_memo()
