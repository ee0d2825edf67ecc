import pytest

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
    """10,000 units: one subtree lookup is an index search on the closure table."""
    street = units.create_unit(name="大街道", kind="street", parent_id=None)
    rows = []
    for c in range(10):
        community = units.create_unit(name=f"社区{c}", kind="community", parent_id=street.id)
        for g in range(10):
            grid = units.create_unit(name=f"网格{g}", kind="grid", parent_id=community.id)
            rows.append(grid)
    for grid in rows:
        for b in range(99):
            units.create_unit(name=f"楼{b}", kind="building", parent_id=grid.id)
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
