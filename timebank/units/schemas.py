from __future__ import annotations

from marshmallow import fields, validate

from timebank.core.schemas import Id, StrictSchema
from timebank.units.models import ORGANIZATION_KINDS, UNIT_KINDS


class UnitSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    parent_id = Id(allow_none=True, load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    depth = fields.Integer(dump_only=True)


class UnitTreeSchema(StrictSchema):
    id = fields.Integer(attribute="unit.id")
    name = fields.String(attribute="unit.name")
    kind = fields.String(attribute="unit.kind")
    children = fields.List(fields.Nested(lambda: UnitTreeSchema()))


class UnitListArgs(StrictSchema):
    kind = fields.String(validate=validate.OneOf(UNIT_KINDS))


class OrganizationSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    unit_id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(load_default="company", validate=validate.OneOf(ORGANIZATION_KINDS))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
