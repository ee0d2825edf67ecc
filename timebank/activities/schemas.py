from __future__ import annotations

from marshmallow import fields, validate

from timebank.activities.models import (
    ACTIVITY_KINDS,
    ACTIVITY_STATUSES,
    ADDRESS_MAX,
    ATTENDANCE_STATUSES,
    CAPACITY,
    CHECKIN_MODES,
    DESCRIPTION_MAX,
    LATITUDE,
    LONGITUDE,
    POINTS,
    RADIUS_M,
    TITLE_MAX,
    category_name,
)
from timebank.activities.operations import MAX_BULK
from timebank.core.schemas import DAYS, Id, Moment, PageArgs, RefusalSchema, StrictSchema


def Latitude(**kwargs) -> fields.Float:  # noqa: N802 - reads like a field class
    return fields.Float(allow_nan=False, validate=LATITUDE.schema(), **kwargs)


def Longitude(**kwargs) -> fields.Float:  # noqa: N802 - reads like a field class
    return fields.Float(allow_nan=False, validate=LONGITUDE.schema(), **kwargs)


def Count(**kwargs) -> fields.Integer:  # noqa: N802 - reads like a field class
    return fields.Integer(strict=True, validate=POINTS.schema(), **kwargs)


class ActivitySchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    unit_id = Id(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=DESCRIPTION_MAX))
    address = fields.String(load_default="", validate=validate.Length(max=ADDRESS_MAX))
    category = fields.String(required=True, validate=validate.Length(min=1, max=40))
    category_name = fields.Function(lambda a: category_name(a.category), dump_only=True)
    kind = fields.String(load_default="service", validate=validate.OneOf(ACTIVITY_KINDS))
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    lat = Latitude(load_default=None, allow_none=True)
    lng = Longitude(load_default=None, allow_none=True)
    radius_m = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=RADIUS_M.schema()
    )
    capacity = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=CAPACITY.schema()
    )
    signup_required = fields.Boolean(load_default=False)
    points_per_hour = Count(load_default=0)
    checkin_bonus = Count(load_default=0)
    checkin_mode = fields.String(load_default="kiosk", validate=validate.OneOf(CHECKIN_MODES))
    requires_checkout = fields.Boolean(load_default=True)
    status = fields.String(dump_only=True)
    cancel_reason = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class ActivityListArgs(PageArgs):
    unit_id = Id(strict=False)  # a query string carries text
    date_from = fields.Date(data_key="from", validate=DAYS)
    date_to = fields.Date(data_key="to", validate=DAYS)
    category = fields.String(validate=validate.Length(max=40))
    kind = fields.String(validate=validate.OneOf(ACTIVITY_KINDS))
    status = fields.String(validate=validate.OneOf(ACTIVITY_STATUSES))


class ActivityPageSchema(StrictSchema):
    items = fields.List(fields.Nested(ActivitySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class CancelSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class SignupSchema(StrictSchema):
    activity_id = fields.Integer()
    member_id = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()
    withdrawn_at = fields.DateTime(allow_none=True)


class QrSchema(StrictSchema):
    activity_id = fields.Integer()
    token = fields.String()
    short_code = fields.String()
    url = fields.String()
    step = fields.Integer()
    expires_in = fields.Float()
    svg = fields.String()
    checked_in = fields.Integer()
    checked_out = fields.Integer()


class BadgeSchema(StrictSchema):
    member_id = fields.Integer()
    token = fields.String()
    short_code = fields.String(metadata={"description": "the code to type: <member id>-<digits>"})
    step = fields.Integer()
    expires_in = fields.Float()
    svg = fields.String()


class CheckinRequestSchema(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=300))
    #: the activity the client believes it is scanning for (optional)
    activity_id = Id(load_default=None, allow_none=True)
    lat = Latitude(load_default=None, allow_none=True)
    lng = Longitude(load_default=None, allow_none=True)
    #: when the phone scanned the code, for a scan uploaded later (offline)
    scanned_at = Moment(load_default=None, allow_none=True)
    #: the client's random id of this scan; re-uploads with it change nothing
    nonce = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(min=8, max=64), validate.Regexp(r"^[A-Za-z0-9_.:-]+$")],
    )


class BadgeScanSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=300))


class ManualCheckinSchema(StrictSchema):
    member_id = Id(required=True)


class AttendanceSchema(StrictSchema):
    id = fields.Integer()
    activity_id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String(attribute="member.name")
    status = fields.String()
    checked_in_at = fields.DateTime()
    checked_out_at = fields.DateTime(allow_none=True)
    checkout_auto_closed = fields.Boolean()
    manual = fields.Boolean()
    review_reason = fields.String(allow_none=True)
    minutes = fields.Integer(allow_none=True)
    points = fields.Integer(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class ApprovalSchema(StrictSchema):
    #: the attendances approved now (or before) and credited
    decided = fields.List(fields.Nested(AttendanceSchema))
    #: the others, each with the reason it was kept back
    refused = fields.List(fields.Nested(RefusalSchema))
    #: approved, but with something to look at (zero_minutes: nothing but a bonus credited)
    warnings = fields.List(fields.Nested(RefusalSchema))


class ActivityUpdateSchema(StrictSchema):
    """The fields an organizer may change; each is optional. After the first check-in,
    only title, description, address, category, capacity and signup_required."""

    title = fields.String(validate=validate.Length(min=1, max=TITLE_MAX))
    description = fields.String(validate=validate.Length(max=DESCRIPTION_MAX))
    address = fields.String(validate=validate.Length(max=ADDRESS_MAX))
    category = fields.String(validate=validate.Length(min=1, max=40))
    kind = fields.String(validate=validate.OneOf(ACTIVITY_KINDS))
    starts_at = Moment()
    ends_at = Moment()
    lat = Latitude(allow_none=True)
    lng = Longitude(allow_none=True)
    radius_m = fields.Integer(strict=True, allow_none=True, validate=RADIUS_M.schema())
    capacity = fields.Integer(strict=True, allow_none=True, validate=CAPACITY.schema())
    signup_required = fields.Boolean()
    points_per_hour = Count()
    checkin_bonus = Count()
    checkin_mode = fields.String(validate=validate.OneOf(CHECKIN_MODES))
    requires_checkout = fields.Boolean()


class CheckinResultSchema(StrictSchema):
    #: checked_in, checked_out, already_checked_in or already_checked_out
    result = fields.String(attribute="action")
    #: True for a replay: nothing new was recorded
    already = fields.Boolean()
    #: already_checked_in for a replay, else null
    code = fields.Function(lambda r: "already_checked_in" if r.already else None, allow_none=True)
    method = fields.String(attribute="checkin.method")
    scanned_at = fields.DateTime(attribute="checkin.scanned_at")
    distance_m = fields.Integer(attribute="checkin.distance_m", allow_none=True)
    activity_title = fields.String(attribute="attendance.activity.title")
    attendance = fields.Nested(AttendanceSchema)


class AttendanceListArgs(StrictSchema):
    status = fields.String(validate=validate.OneOf(ATTENDANCE_STATUSES))


class AttendanceIdsSchema(StrictSchema):
    ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=MAX_BULK))


class RejectAttendanceSchema(AttendanceIdsSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CloseCheckoutsSchema(StrictSchema):
    closed = fields.Integer()


class CategorySchema(StrictSchema):
    code = fields.String()
    name = fields.String()
