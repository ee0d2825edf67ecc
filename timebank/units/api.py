"""/api/v1/units: the grid tree and partner organizations."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from timebank.core.errors import Forbidden
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.auth import calling_member
from timebank.units import operations as units
from timebank.units.schemas import OrganizationSchema, UnitListArgs, UnitSchema, UnitTreeSchema

blp = Blueprint("units_api", __name__, url_prefix="/api/v1/units", description="The grid tree")


def visible_roots(member) -> list[int] | None:
    """Admins see everything (None); organizers their subtrees; others their home unit's line."""
    if people.is_admin(member):
        return None
    roots = people.scope_roots(member, "units.view")
    return roots


@blp.route("")
class Units(MethodView):
    @blp.arguments(UnitListArgs, location="query")
    @blp.response(200, UnitSchema(many=True))
    def get(self, args):
        """Units the caller may see: admins all, organizers their subtrees."""
        member = calling_member()
        roots = visible_roots(member)
        if roots is not None and not roots:
            return [
                units.get_unit(uid) for uid in reversed(units.ancestor_ids(member.home_unit_id))
            ]
        return units.list_units(within=roots, kind=args.get("kind"))

    @blp.arguments(UnitSchema)
    @blp.response(201, UnitSchema)
    def post(self, data):
        """Create a unit under a parent the caller organizes (a root: admins only)."""
        member = calling_member()
        if data["parent_id"] is None:
            if not people.is_admin(member):
                raise Forbidden("Only an admin can create a street office (a root unit).")
        else:
            units.get_unit(data["parent_id"])
            people.authorize(member, "units.create", data["parent_id"])
        unit = units.create_unit(name=data["name"], kind=data["kind"], parent_id=data["parent_id"])
        db.session.commit()
        return unit


@blp.route("/<int(max=2147483647):unit_id>")
class UnitById(MethodView):
    @blp.response(200, UnitSchema)
    def get(self, unit_id):
        """One unit."""
        member = calling_member()
        unit = units.get_unit(unit_id)
        if unit_id not in units.ancestor_ids(member.home_unit_id):
            people.authorize(member, "units.view", unit_id)
        return unit


@blp.route("/<int(max=2147483647):unit_id>/tree")
class UnitTree(MethodView):
    @blp.response(200, UnitTreeSchema)
    def get(self, unit_id):
        """The subtree below a unit, nested."""
        member = calling_member()
        units.get_unit(unit_id)
        people.authorize(member, "units.view", unit_id)
        return units.unit_tree([unit_id])[0]


@blp.route("/<int(max=2147483647):unit_id>/organizations")
class Organizations(MethodView):
    @blp.response(200, OrganizationSchema(many=True))
    def get(self, unit_id):
        """Partner organizations (共建单位) in the unit's subtree."""
        member = calling_member()
        units.get_unit(unit_id)
        people.authorize(member, "units.view", unit_id)
        return units.list_organizations(unit_id)

    @blp.arguments(OrganizationSchema)
    @blp.response(201, OrganizationSchema)
    def post(self, data, unit_id):
        """Attach a partner organization to the unit."""
        member = calling_member()
        units.get_unit(unit_id)
        people.authorize(member, "organizations.manage", unit_id)
        org = units.create_organization(unit_id=unit_id, **data)
        db.session.commit()
        return org
