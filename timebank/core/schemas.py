"""Schema building blocks shared by every module's API."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MAX_ID = 2_147_483_647


class StrictSchema(Schema):
    """Rejects unknown fields; ids and server-set fields are dump_only in subclasses."""

    class Meta:
        unknown = RAISE


def Id(*, strict: bool = True, **kwargs) -> fields.Integer:  # noqa: N802 - reads like a field
    """A database id: 1 to 2**31-1. JSON bodies send numbers (strict); query strings text."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class PageArgs(StrictSchema):
    page = fields.Integer(strict=False, load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(
        strict=False, load_default=50, validate=validate.Range(min=1, max=200)
    )


class ProblemSchema(Schema):
    """Every API error (RFC 9457 problem details, ``application/problem+json``)."""

    type = fields.String(required=True, metadata={"example": "urn:timebank:problem:forbidden"})
    title = fields.String(required=True, metadata={"description": "the HTTP status phrase"})
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "stable, for programs"})
    detail = fields.String(required=True, metadata={"description": "for people"})
    errors = fields.Dict(metadata={"description": "field name -> messages, for invalid input"})
