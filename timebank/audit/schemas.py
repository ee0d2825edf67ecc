"""The audit search's query string and its answer."""

from __future__ import annotations

from marshmallow import fields, validate

from timebank.core.schemas import DAYS, Id, PageArgs, StrictSchema


class AuditArgs(PageArgs):
    """Filters of GET /audit and /audit.csv; dates are local days, both included."""

    actor_id = Id(strict=False, metadata={"description": "who acted"})
    member_id = Id(
        strict=False,
        metadata={"description": "the member the act concerned, or was done for"},
    )
    action = fields.String(
        validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]*)*$"),
        metadata={"description": "exact (member.approve), or a prefix ending in '.' (member.)"},
    )
    target_type = fields.String(
        validate=validate.Regexp(r"^[a-z_]{1,40}$"), metadata={"example": "unit"}
    )
    target_id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,38}$"))
    date_from = fields.Date(
        data_key="from", validate=DAYS, metadata={"description": "first day, YYYY-MM-DD"}
    )
    date_to = fields.Date(
        data_key="to", validate=DAYS, metadata={"description": "last day, YYYY-MM-DD"}
    )


class AuditEventSchema(StrictSchema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    on_behalf_of_id = fields.Integer(allow_none=True)
    on_behalf_of_name = fields.String(allow_none=True)
    subject_member_id = fields.Integer(allow_none=True)
    subject_name = fields.String(allow_none=True)
    action = fields.String()
    target = fields.String(allow_none=True)
    before = fields.Raw(allow_none=True, metadata={"description": "summary before, as JSON"})
    after = fields.Raw(allow_none=True, metadata={"description": "summary after, as JSON"})
    detail = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)


class AuditPageSchema(StrictSchema):
    items = fields.List(fields.Nested(AuditEventSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
