from __future__ import annotations

from marshmallow import fields, validate

from timebank.core.schemas import Id, StrictSchema
from timebank.inbox.operations import PAGE_MAX


class NotificationSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    link = fields.String(dump_only=True, allow_none=True)
    locale = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    read_at = fields.DateTime(dump_only=True, allow_none=True)
    read = fields.Boolean(dump_only=True)


class NotificationListArgs(StrictSchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread ones"})
    before = Id(strict=False, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=PAGE_MAX))


class NotificationPageSchema(StrictSchema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread = fields.Integer(metadata={"description": "the caller's unread notifications"})
    next_cursor = fields.Integer(allow_none=True)


class MarkedSchema(StrictSchema):
    marked = fields.Integer(metadata={"description": "notifications marked read now"})
    unread = fields.Integer()
