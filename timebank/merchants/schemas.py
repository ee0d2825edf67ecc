"""Marshmallow schemas of the merchants API: fields whitelisted, ids and server-set fields
dump_only, every nullable response field says so."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from timebank.core.privacy import MemberName, MemberPhone, shown_name
from timebank.core.schemas import Id, StrictSchema
from timebank.merchants.models import (
    ADDRESS_MAX,
    BENEFITS,
    BUDGET_POINTS,
    HOURS_MAX,
    LATITUDE,
    LONGITUDE,
    MERCHANT_CATEGORIES,
    MERCHANT_STATUSES,
    NAME_MAX,
    PER_MEMBER,
    PERCENT,
    POINTS_COST,
    REASON_MAX,
    REDEMPTION_STATUSES,
    SERVICE_MINUTES,
    STOCK,
    YUAN_FEN,
    category_name,
)
from timebank.merchants.operations.offers import DESCRIPTION_MAX


def _int(bounds, **kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=bounds.schema(), **kwargs)


def _optional_int(bounds) -> fields.Integer:
    return _int(bounds, load_default=None, allow_none=True)


def _nullable_int(bounds) -> fields.Integer:
    return _int(bounds, allow_none=True)


class MerchantSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    unit_id = Id(required=True)
    unit_name = fields.String(attribute="unit.name", dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    address = fields.String(required=True, validate=validate.Length(min=1, max=ADDRESS_MAX))
    category = fields.String(required=True, validate=validate.OneOf(MERCHANT_CATEGORIES))
    category_name = fields.Function(lambda m: category_name(m.category), dump_only=True)
    opening_hours = fields.String(load_default="", validate=validate.Length(max=HOURS_MAX))
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    contact_phone = fields.String(required=True, validate=validate.Length(min=5, max=20))
    lat = fields.Float(
        allow_nan=False, load_default=None, allow_none=True, validate=LATITUDE.schema()
    )
    lng = fields.Float(
        allow_nan=False, load_default=None, allow_none=True, validate=LONGITUDE.schema()
    )
    #: an organizer adding a shop names its owner by phone; a shop applying leaves it out
    owner_phone = fields.String(load_only=True, validate=validate.Length(max=30))
    owner_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    status_reason = fields.String(dump_only=True, allow_none=True)
    decided_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class MerchantUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=NAME_MAX))
    address = fields.String(validate=validate.Length(min=1, max=ADDRESS_MAX))
    category = fields.String(validate=validate.OneOf(MERCHANT_CATEGORIES))
    opening_hours = fields.String(validate=validate.Length(max=HOURS_MAX))
    contact_name = fields.String(validate=validate.Length(min=1, max=60))
    contact_phone = fields.String(validate=validate.Length(min=5, max=20))
    lat = fields.Float(allow_nan=False, allow_none=True, validate=LATITUDE.schema())
    lng = fields.Float(allow_nan=False, allow_none=True, validate=LONGITUDE.schema())


class MerchantListArgs(StrictSchema):
    unit_id = Id(strict=False)


class UnitMerchantArgs(StrictSchema):
    status = fields.String(validate=validate.OneOf(MERCHANT_STATUSES))


class DecisionReasonSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class StaffInviteSchema(StrictSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=30))


class StaffInvitedSchema(StrictSchema):
    """The same answer for any phone: nobody is named, the phone comes back masked."""

    phone = fields.String(metadata={"description": "the phone invited, masked (139****0001)"})
    status = fields.String(metadata={"description": "invited"})


class StaffInvitationSchema(StrictSchema):
    id = fields.Integer()
    merchant_id = fields.Integer()
    merchant_name = fields.String(attribute="merchant.name")
    status = fields.String(metadata={"description": "pending, accepted, declined, withdrawn"})
    created_at = fields.DateTime()


class StaffSchema(StrictSchema):
    id = fields.Integer()
    name = fields.Function(
        shown_name, metadata={"description": "masked (张*) for the shop's people"}
    )
    phone = MemberPhone(metadata={"description": "masked (139****0001) for the shop's people"})


class OfferSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    merchant_id = fields.Integer(dump_only=True)
    merchant_name = fields.String(attribute="merchant.name", dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=DESCRIPTION_MAX))
    points_cost = _int(POINTS_COST, required=True)
    benefit = fields.String(required=True, validate=validate.OneOf(BENEFITS))
    discount_fen = _optional_int(YUAN_FEN)
    percent_off = _optional_int(PERCENT)
    cap_fen = _optional_int(YUAN_FEN)
    item_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=NAME_MAX)
    )
    valid_from = fields.AwareDateTime(required=True)
    valid_until = fields.AwareDateTime(required=True)
    stock = _optional_int(STOCK)
    budget_points = _optional_int(BUDGET_POINTS)
    per_member_daily = _optional_int(PER_MEMBER)
    per_member_monthly = _optional_int(PER_MEMBER)
    min_service_minutes = _int(SERVICE_MINUTES, load_default=0)
    unit_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=50))
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    withdrawn_at = fields.DateTime(dump_only=True, allow_none=True)

    @validates_schema
    def _window(self, data, **kwargs):
        start, end = data.get("valid_from"), data.get("valid_until")
        if start is not None and end is not None and end <= start:
            raise ValidationError("Must be after valid_from.", field_name="valid_until")


class OfferUpdateSchema(StrictSchema):
    """What may change of an offer (merchants.update_offer): stock, limits and end at any
    time; what it gives and costs only until someone redeemed it."""

    title = fields.String(validate=validate.Length(min=1, max=NAME_MAX))
    description = fields.String(validate=validate.Length(max=DESCRIPTION_MAX))
    points_cost = _int(POINTS_COST)
    benefit = fields.String(validate=validate.OneOf(BENEFITS))
    discount_fen = _nullable_int(YUAN_FEN)
    percent_off = _nullable_int(PERCENT)
    cap_fen = _nullable_int(YUAN_FEN)
    item_name = fields.String(allow_none=True, validate=validate.Length(min=1, max=NAME_MAX))
    valid_from = fields.AwareDateTime()
    valid_until = fields.AwareDateTime()
    stock = _nullable_int(STOCK)
    budget_points = _nullable_int(BUDGET_POINTS)
    per_member_daily = _nullable_int(PER_MEMBER)
    per_member_monthly = _nullable_int(PER_MEMBER)
    min_service_minutes = _int(SERVICE_MINUTES)


class OfferForMemberSchema(StrictSchema):
    offer = fields.Nested(OfferSchema)
    merchant_address = fields.String(attribute="offer.merchant.address")
    affordable = fields.Boolean()
    missing_points = fields.Integer()
    #: nothing left of its stock or budget
    sold_out = fields.Boolean()
    #: redemptions left of its stock; null without a stock
    stock_left = fields.Integer(allow_none=True)
    #: null when the member may redeem it, else why not (a stable code)
    ineligible = fields.Function(
        lambda o: o.ineligible.code if o.ineligible else None, allow_none=True
    )
    reason = fields.Function(
        lambda o: o.ineligible.message if o.ineligible else None, allow_none=True
    )


class RedeemCodeSchema(StrictSchema):
    member_id = fields.Integer()
    token = fields.String(metadata={"description": "what the QR code encodes"})
    short_code = fields.String(metadata={"description": "<member id>-<6 digits>, to type"})
    step = fields.Integer()
    expires_in = fields.Float(metadata={"description": "seconds until the code rotates"})
    svg = fields.String()


class RedeemRequestSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=300))
    offer_id = Id(required=True)
    idempotency_key = fields.String(required=True, validate=validate.Length(min=1, max=120))


class RedemptionSchema(StrictSchema):
    id = fields.Integer()
    merchant_id = fields.Integer()
    merchant_name = fields.String(attribute="merchant.name")
    offer_id = fields.Integer()
    offer_title = fields.String(attribute="offer.title")
    member_id = fields.Integer()
    member_name = MemberName(metadata={"description": "masked (张*) for the shop's staff"})
    points = fields.Integer()
    status = fields.String(validate=validate.OneOf(REDEMPTION_STATUSES))
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    refunded_at = fields.DateTime(allow_none=True)
    refund_reason = fields.String(allow_none=True)
    transfer_id = fields.Integer(allow_none=True)
    refund_transfer_id = fields.Integer(allow_none=True)


class RedemptionListArgs(StrictSchema):
    status = fields.String(validate=validate.OneOf(REDEMPTION_STATUSES))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class RefundSchema(StrictSchema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class TallySchema(StrictSchema):
    count = fields.Integer()
    points = fields.Integer()


class SummarySchema(StrictSchema):
    today = fields.Nested(TallySchema)
    month = fields.Nested(TallySchema)
    balance = fields.Integer(metadata={"description": "points received, not yet settled"})
    waiting = fields.Integer(metadata={"description": "redemptions waiting at the counter"})


class StatementSchema(StrictSchema):
    id = fields.Integer()
    merchant_id = fields.Integer()
    merchant_name = fields.String(attribute="merchant.name")
    unit_id = fields.Integer()
    month = fields.String()
    redemptions = fields.Integer()
    refunds = fields.Integer()
    points_redeemed = fields.Integer()
    points_refunded = fields.Integer()
    points_net = fields.Integer()
    point_value_fen = fields.Integer()
    amount_fen = fields.Integer()
    amount_yuan = fields.Function(lambda s: f"{s.amount_fen / 100:.2f}")
    status = fields.String()
    built_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    settle_transfer_id = fields.Integer(allow_none=True)


class MonthSchema(StrictSchema):
    month = fields.String(
        required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"), metadata={"example": "2026-11"}
    )


class MonthArgs(StrictSchema):
    month = fields.String(validate=validate.Regexp(r"^\d{4}-\d{2}$"))


class PaySchema(StrictSchema):
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))


class PaySeveralSchema(PaySchema):
    statement_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=100))
