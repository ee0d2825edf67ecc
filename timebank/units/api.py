"""/api/v1/units: the grid tree and partner organizations."""

from __future__ import annotations

from timebank.core import access
from timebank.core.access import requires
from timebank.core.web import ApiBlueprint, ApiView
from timebank.units import operations as units
from timebank.units.schemas import OrganizationSchema, UnitListArgs, UnitSchema, UnitTreeSchema

blp = ApiBlueprint("units_api", __name__, url_prefix="/api/v1/units", description="The grid tree")
UNIT = "/<int(max=2147483647):unit_id>"


@blp.route("")
class Units(ApiView):
    @requires("units.list")
    @blp.arguments(UnitListArgs, location="query")
    @blp.response(200, UnitSchema(many=True))
    def get(self, args):
        """Units the caller may see: admins all, organizers their subtrees, everyone the
        line from their home unit up to the street."""
        return units.visible_units(access.current_actor(), kind=args.get("kind"))

    @requires("units.create")
    @blp.arguments(UnitSchema)
    @blp.response(201, UnitSchema)
    def post(self, data):
        """Create a unit under a parent the caller organizes (a root: admins only)."""
        return units.create_unit(
            name=data["name"], kind=data["kind"], parent_id=data["parent_id"],
            actor=access.current_actor(),
        )  # fmt: skip


@blp.route(UNIT)
class UnitById(ApiView):
    @requires("units.view", target=units.unit_target)
    @blp.response(200, UnitSchema)
    def get(self, unit_id):
        """One unit: in the caller's scope, or above their home."""
        return units.get_unit(unit_id)


@blp.route(f"{UNIT}/tree")
class UnitTree(ApiView):
    @requires("units.tree", target=units.unit_target)
    @blp.response(200, UnitTreeSchema)
    def get(self, unit_id):
        """The subtree below a unit, nested."""
        return units.unit_tree([unit_id])[0]


@blp.route(f"{UNIT}/organizations")
class Organizations(ApiView):
    @requires("units.tree", target=units.unit_target)
    @blp.response(200, OrganizationSchema(many=True))
    def get(self, unit_id):
        """Partner organizations (共建单位) in the unit's subtree."""
        return units.list_organizations(unit_id)

    @requires("organizations.manage", target=units.unit_target)
    @blp.arguments(OrganizationSchema)
    @blp.response(201, OrganizationSchema)
    def post(self, data, unit_id):
        """Attach a partner organization to the unit."""
        return units.create_organization(unit_id=unit_id, actor=access.current_actor(), **data)
