"""Units: create the tree, query subtrees and ancestors, attach partner organizations."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from timebank.core import access
from timebank.core.access import Target
from timebank.core.audit import record_audit
from timebank.core.errors import InvalidInput
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.units.errors import (
    OrganizationExists,
    OrganizationNotFound,
    UnitExists,
    UnitKindNotAllowed,
    UnitNotFound,
)
from timebank.units.models import (
    CHILD_KINDS,
    ORGANIZATION_KINDS,
    UNIT_KINDS,
    Organization,
    Unit,
    UnitClosure,
)


def get_unit(unit_id: int) -> Unit:
    """Return the unit or raise NotFound."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise UnitNotFound("Unit %(id)s does not exist.", params={"id": unit_id})
    return unit


def unit_target(unit_id: int) -> Target:
    """What an action on unit ``unit_id`` is done to; UnitNotFound if there is none."""
    return Target(unit=get_unit(unit_id).id)


@use_case
def set_place(unit_id: int, *, lat: float | None, lng: float | None, actor=None) -> Unit:
    """Save (or, with None and None, forget) the unit's usual meeting place, offered to
    its activities. Raises InvalidInput unless both or neither are given, on Earth."""
    unit = get_unit(unit_id)
    if (lat is None) != (lng is None):
        raise InvalidInput(
            "A place needs both latitude and longitude.", errors={"lat": ["Give both."]}
        )
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("That place is not on Earth.", errors={"lat": ["Out of range."]})
    before = {"lat": unit.lat, "lng": unit.lng}
    unit.lat, unit.lng = lat, lng
    db.session.flush()
    if before != {"lat": lat, "lng": lng}:
        record_audit(
            "unit.update", actor=actor, target=f"unit:{unit.id}", before=before,
            after={"lat": lat, "lng": lng}, detail=unit.name,
        )  # fmt: skip
    return unit


def unit_names(unit_ids: list[int]) -> dict[int, str]:
    """``{id: name}`` of the units that exist among ``unit_ids``, in one query."""
    rows = db.session.execute(sa.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))
    return {key: value for key, value in rows}


def visible_units(actor, *, kind: str | None = None) -> list[Unit]:
    """The units ``actor`` may see: admins all, organizers their subtrees, everyone the
    line from their home unit up to the street."""
    if access.is_admin(actor):
        return list_units(kind=kind)
    roots = access.scope_roots(actor, "units.tree")
    if roots:
        return list_units(within=roots, kind=kind)
    line = [get_unit(uid) for uid in reversed(ancestor_ids(actor.home_unit_id))]
    return [u for u in line if kind is None or u.kind == kind]


@use_case
def create_unit(*, name: str, kind: str, parent_id: int | None, actor=None) -> Unit:
    """Add a unit under ``parent_id`` (None for a root street office), on record as done
    by ``actor`` (None: the system), who must organize the parent (a root: be an admin).

    The tree keeps its shape (CHILD_KINDS): a street only at the top, a community under
    a street, a grid under a community, a building under a grid. Raises InvalidInput for
    an unknown kind or blank name, UnitKindNotAllowed for a kind out of place, NotFound
    for a missing parent, Conflict when the parent already has a child of that name.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A unit needs a name.", errors={"name": ["Required."]})
    if kind not in UNIT_KINDS:
        raise InvalidInput(
            "Unknown unit kind %(kind)s; use one of %(kinds)s.",
            params={"kind": kind, "kinds": ", ".join(UNIT_KINDS)},
            errors={"kind": ["Unknown kind."]},
        )
    parent = get_unit(parent_id) if parent_id is not None else None
    if actor is not None:
        # a root street office is for admins; anything else for organizers of the parent
        if parent is None:
            access.authorize(actor, "units.create_root")
        else:
            access.authorize(actor, "units.create", Target(unit=parent.id))
    allowed = CHILD_KINDS[parent.kind if parent is not None else None]
    if kind not in allowed:
        raise UnitKindNotAllowed(
            "That kind does not belong here: a street office is at the top, a community "
            "under a street, a grid under a community, a building under a grid.",
            errors={"kind": [f"One of: {', '.join(allowed)}."]},
        )
    sibling = db.session.scalar(
        sa.select(Unit.id).where(Unit.parent_id == parent_id, Unit.name == name)
    )
    if sibling is not None:
        raise UnitExists("%(name)s already exists here.", params={"name": name})
    unit = Unit(name=name, kind=kind, parent_id=parent_id, depth=parent.depth + 1 if parent else 0)
    db.session.add(unit)
    db.session.flush()
    closure = UnitClosure.__table__
    db.session.execute(closure.insert().values(ancestor_id=unit.id, descendant_id=unit.id, depth=0))
    if parent is not None:
        db.session.execute(
            closure.insert().from_select(
                ["ancestor_id", "descendant_id", "depth"],
                sa.select(closure.c.ancestor_id, sa.literal(unit.id), closure.c.depth + 1).where(
                    closure.c.descendant_id == parent.id
                ),
            )
        )
    record_audit(
        "unit.create", actor=actor, target=f"unit:{unit.id}",
        after={"name": name, "kind": kind, "parent_id": parent_id}, detail=name,
    )  # fmt: skip
    return unit


def subtree_ids_select(unit_id: int) -> sa.Select:
    """A SELECT of the ids of ``unit_id`` and every unit below it, for use in IN (...)."""
    return sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)


def ancestor_ids(unit_id: int) -> list[int]:
    """Ids of ``unit_id`` and every unit above it, nearest first."""
    rows = db.session.execute(
        sa.select(UnitClosure.ancestor_id)
        .where(UnitClosure.descendant_id == unit_id)
        .order_by(UnitClosure.depth)
    )
    return [row[0] for row in rows]


def line_of(unit_id: int) -> list[Unit]:
    """``unit_id`` and every unit above it, from the street down."""
    ids = list(reversed(ancestor_ids(unit_id)))
    found = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids]


def is_within(unit_id: int, ancestor_id: int) -> bool:
    """True when ``unit_id`` is ``ancestor_id`` or lies below it."""
    return (
        db.session.scalar(
            sa.select(sa.literal(1)).where(
                UnitClosure.ancestor_id == ancestor_id, UnitClosure.descendant_id == unit_id
            )
        )
        is not None
    )


def list_units(*, within: Iterable[int] | None = None, kind: str | None = None) -> list[Unit]:
    """Units, optionally limited to the subtrees of ``within`` and to one kind."""
    query = sa.select(Unit).order_by(Unit.depth, Unit.id)
    if within is not None:
        roots = list(within)
        query = query.where(
            Unit.id.in_(
                sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id.in_(roots))
            )
        )
    if kind is not None:
        query = query.where(Unit.kind == kind)
    return list(db.session.scalars(query))


def unit_tree(root_ids: Iterable[int] | None = None) -> list[dict]:
    """The tree as nested dicts ``{"unit": Unit, "children": [...]}``, in one query."""
    return nest(list_units(within=root_ids))


def nest(units: list[Unit]) -> list[dict]:
    """Units (parents before children) as nested ``{"unit": Unit, "children": [...]}``."""
    nodes = {u.id: {"unit": u, "children": []} for u in units}
    roots = []
    for unit in units:
        node = nodes[unit.id]
        parent = nodes.get(unit.parent_id) if unit.parent_id is not None else None
        if parent is None:
            roots.append(node)
        else:
            parent["children"].append(node)
    return roots


def top_units(unit_ids: Iterable[int]) -> list[int]:
    """Drop every id that lies below another id of the set (the roots of a scope)."""
    ids = set(unit_ids)
    if not ids:
        return []
    covered = set(
        db.session.scalars(
            sa.select(UnitClosure.descendant_id).where(
                UnitClosure.ancestor_id.in_(ids),
                UnitClosure.descendant_id.in_(ids),
                UnitClosure.depth > 0,
            )
        )
    )
    return sorted(ids - covered)


@use_case
def create_organization(
    *, unit_id: int, name: str, kind: str, contact: str | None, actor=None
) -> Organization:
    """Attach a partner organization to a unit; Conflict if the name is taken there."""
    get_unit(unit_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("An organization needs a name.", errors={"name": ["Required."]})
    if kind not in ORGANIZATION_KINDS:
        raise InvalidInput(
            "Unknown organization kind %(kind)s.",
            errors={"kind": ["Unknown."]},
            params={"kind": kind},
        )
    exists = db.session.scalar(
        sa.select(Organization.id).where(Organization.unit_id == unit_id, Organization.name == name)
    )
    if exists is not None:
        raise OrganizationExists(
            "%(name)s is already a partner of this unit.",
            params={"name": name},
        )
    org = Organization(unit_id=unit_id, name=name, kind=kind, contact=contact)
    db.session.add(org)
    db.session.flush()
    record_audit(
        "organization.create", actor=actor, target=f"unit:{unit_id}",
        after={"organization": org.id, "name": name, "kind": kind}, detail=name,
    )  # fmt: skip
    return org


def list_organizations(unit_id: int) -> list[Organization]:
    """Partner organizations attached anywhere in the subtree of ``unit_id``."""
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.unit_id.in_(subtree_ids_select(unit_id)))
            .order_by(Organization.name)
        )
    )


def get_organization(org_id: int) -> Organization:
    """Return the organization or raise NotFound."""
    org = db.session.get(Organization, org_id)
    if org is None:
        raise OrganizationNotFound(
            "Organization %(id)s does not exist.",
            params={"id": org_id},
        )
    return org
