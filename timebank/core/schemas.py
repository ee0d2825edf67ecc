"""Schema building blocks shared by every module's API."""

from __future__ import annotations

from datetime import UTC, datetime

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


class RefusalSchema(StrictSchema):
    """One item of a bulk decision kept back (or approved with a warning)."""

    #: the item concerned (an attendance, an hour log)
    id = fields.Integer()
    #: a stable code: the error's (four_eyes, checkout_missing, ...) or zero_minutes
    code = fields.String()
    #: for people, in the caller's language
    detail = fields.String()


class ProblemSchema(Schema):
    """Every API error (RFC 9457 problem details, ``application/problem+json``)."""

    type = fields.String(required=True, metadata={"example": "urn:timebank:problem:forbidden"})
    title = fields.String(required=True, metadata={"description": "the HTTP status phrase"})
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "stable, for programs"})
    detail = fields.String(required=True, metadata={"description": "for people"})
    errors = fields.Dict(metadata={"description": "field name -> messages, for invalid input"})


#: the moments an API accepts: their UTC form must exist (9999-12-31T20:00-12:00 does not)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)
#: local days a filter may name (activities, the audit log): the edges of date's range
#: overflow when a day is turned into UTC or the day after it is taken
DAYS = validate.Range(min=EARLIEST.date(), max=LATEST.date())


class Moment(fields.AwareDateTime):
    """A date and time with its UTC offset, between 1900 and 9998 once in UTC."""

    default_error_messages = {"out_of_range": "Give a moment between 1900 and 9998."}

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_utc = moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("out_of_range") from None
        if not EARLIEST <= in_utc <= LATEST:
            raise self.make_error("out_of_range")
        return moment
