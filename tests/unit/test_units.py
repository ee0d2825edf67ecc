import pytest
import sqlalchemy as sa

from tests import factories
from timebank.core.errors import Conflict, InvalidInput, NotFound
from timebank.extensions import db
from timebank.units import operations as units


def test_subtree_and_ancestors(app):
    d = factories.create_district()
    subtree = set(db.session.scalars(units.subtree_ids_select(d["a"].id)))
    assert subtree == {d["a"].id, d["grid_a"].id, d["building_a"].id}
    assert units.ancestor_ids(d["building_a"].id) == [
        d["building_a"].id,
        d["grid_a"].id,
        d["a"].id,
        d["street"].id,
    ]
    assert units.is_within(d["building_a"].id, d["a"].id)
    assert not units.is_within(d["building_b"].id, d["a"].id)
    assert d["building_a"].depth == 3


def test_tree_nests_children(app):
    d = factories.create_district()
    [root] = units.unit_tree([d["street"].id])
    assert root["unit"].id == d["street"].id
    assert {c["unit"].name for c in root["children"]} == {"上坎社区", "古浪路社区"}
    grid = root["children"][0]["children"][0]
    assert grid["children"][0]["unit"].kind == "building"


def test_top_units_drops_nested_ids(app):
    d = factories.create_district()
    assert units.top_units([d["a"].id, d["grid_a"].id, d["b"].id]) == sorted([d["a"].id, d["b"].id])


def test_create_unit_rejects_bad_input(app):
    d = factories.create_district()
    with pytest.raises(InvalidInput):
        units.create_unit(name=" ", kind="grid", parent_id=d["a"].id)
    with pytest.raises(InvalidInput):
        units.create_unit(name="X", kind="planet", parent_id=d["a"].id)
    with pytest.raises(NotFound):
        units.create_unit(name="X", kind="grid", parent_id=999_999)
    with pytest.raises(Conflict):
        units.create_unit(name="第1网格", kind="grid", parent_id=d["a"].id)


def test_subtree_query_stays_indexed_at_ten_thousand_units(app):
    """10,000 units: one subtree lookup is an index search on the closure table.

    The street, communities and grids are made by ``create_unit``; the 9,900 buildings in
    bulk, with the closure rows ``create_unit`` writes (checked against one it made), so
    the set-up takes a second instead of most of a minute."""
    street = units.create_unit(name="大街道", kind="street", parent_id=None)
    rows = []
    for c in range(10):
        community = units.create_unit(name=f"社区{c}", kind="community", parent_id=street.id)
        for g in range(10):
            grid = units.create_unit(name=f"网格{g}", kind="grid", parent_id=community.id)
            rows.append(grid)
    made = units.create_unit(name="楼0", kind="building", parent_id=rows[0].id)
    _add_buildings_in_bulk(
        [{"name": f"楼{b}", "kind": "building", "parent_id": grid.id, "depth": 3,
          "created_at": made.created_at} for grid in rows for b in range(99)
         if (grid.id, b) != (rows[0].id, 0)]
    )  # fmt: skip
    bulk = db.session.scalar(
        sa.select(units.Unit.id).where(units.Unit.parent_id == rows[0].id, units.Unit.name == "楼1")
    )
    assert _closure_shape(bulk) == _closure_shape(made.id)
    total = db.session.scalar(db.select(db.func.count()).select_from(units.Unit))
    assert total == 1 + 10 + 100 + 100 * 99
    first_community = rows[0].parent_id
    ids = list(db.session.scalars(units.subtree_ids_select(first_community)))
    assert len(ids) == 1 + 10 + 10 * 99
    compiled = units.subtree_ids_select(first_community)
    plan_sql = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    text = str(compiled.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(r) for r in db.session.execute(db.text(plan_sql + text)))
    assert "SCAN unit_closure" not in plan and "Seq Scan" not in plan, plan


def _add_buildings_in_bulk(buildings: list[dict]) -> None:
    """Insert the units, then their closure rows: the self pair, and each ancestor of the
    parent one edge further."""
    unit, closure = units.Unit.__table__, units.UnitClosure.__table__
    db.session.execute(unit.insert(), buildings)
    new = (
        sa.select(unit.c.id, unit.c.parent_id)
        .where(unit.c.kind == "building", ~unit.c.id.in_(sa.select(closure.c.descendant_id)))
        .subquery()
    )
    above = sa.select(closure.c.ancestor_id, new.c.id, closure.c.depth + 1).join(
        new, closure.c.descendant_id == new.c.parent_id
    )
    self_pairs = sa.select(new.c.id, new.c.id, sa.literal(0))
    columns = ["ancestor_id", "descendant_id", "depth"]
    db.session.execute(closure.insert().from_select(columns, above.union_all(self_pairs)))


def _closure_shape(unit_id: int) -> list[tuple[int, str]]:
    """A unit's ancestors in the closure, as (depth, ancestor's name)."""
    closure = units.UnitClosure
    rows = db.session.execute(
        sa.select(closure.depth, units.Unit.name)
        .join(units.Unit, units.Unit.id == closure.ancestor_id)
        .where(closure.descendant_id == unit_id)
        .order_by(closure.depth)
    ).all()
    return [(depth, name if depth else "itself") for depth, name in rows]


def test_organizations_are_listed_for_subtree(app):
    d = factories.create_district()
    units.create_organization(unit_id=d["a"].id, name="兰州石化公司", kind="company", contact=None)
    units.create_organization(unit_id=d["b"].id, name="西固区第一小学", kind="school", contact=None)
    assert [o.name for o in units.list_organizations(d["a"].id)] == ["兰州石化公司"]
    assert len(units.list_organizations(d["street"].id)) == 2
    with pytest.raises(Conflict):
        units.create_organization(
            unit_id=d["a"].id, name="兰州石化公司", kind="company", contact=None
        )
