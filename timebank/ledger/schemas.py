from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from timebank.core.schemas import MAX_ID, Id, StrictSchema
from timebank.ledger.models import LEDGERS


class LedgerBalanceSchema(StrictSchema):
    balance = fields.Integer()
    held = fields.Integer()
    available = fields.Integer()


class BalancesSchema(StrictSchema):
    HOURS = fields.Integer(metadata={"description": "minutes of service, balance"})
    POINTS = fields.Integer(metadata={"description": "points, balance"})
    held = fields.Dict(keys=fields.String(), values=fields.Integer())
    available = fields.Dict(keys=fields.String(), values=fields.Integer())


class TransferSchema(StrictSchema):
    id = fields.Integer()
    ledger = fields.String()
    debit_account_id = fields.Integer()
    credit_account_id = fields.Integer()
    amount = fields.Integer()
    code = fields.String()
    reference_type = fields.String(allow_none=True)
    reference_id = fields.String(allow_none=True)
    corrects_id = fields.Integer(allow_none=True)
    link_id = fields.String(allow_none=True)
    idempotency_key = fields.String()
    actor_id = fields.Integer(allow_none=True)
    approver_id = fields.Integer(allow_none=True)
    memo = fields.String(allow_none=True)
    created_at = fields.DateTime()


class PendingCreditSchema(StrictSchema):
    id = fields.Integer()
    ledger = fields.String()
    code = fields.String()
    amount = fields.Integer()
    memo = fields.String()
    unit_id = fields.Integer()
    status = fields.String()
    credit_account_id = fields.Integer()
    corrects_id = fields.Integer(allow_none=True)
    requested_by_id = fields.Integer()
    decided_by_id = fields.Integer(allow_none=True)
    transfer_id = fields.Integer(allow_none=True)
    idempotency_key = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    reject_reason = fields.String(allow_none=True)


class DecisionSchema(StrictSchema):
    """The body of a decision on a pending credit (optional)."""

    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "why it is rejected (ignored on approve)"},
    )


class TransferResultSchema(StrictSchema):
    status = fields.String(metadata={"description": "posted, or pending_approval (four-eyes)"})
    transfers = fields.List(fields.Nested(TransferSchema))
    pending_credit = fields.Nested(PendingCreditSchema, allow_none=True)


class DonationPreviewArgs(StrictSchema):
    """Whom a donation would reach: a member by id or phone, or a pool; and how much."""

    amount = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10**9))
    recipient_id = Id(load_default=None, allow_none=True)
    recipient_phone = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=30)
    )
    pool_unit_id = Id(load_default=None, allow_none=True)
    memo = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @validates_schema
    def _one_recipient(self, data, **kwargs):
        named = [k for k in ("recipient_id", "recipient_phone", "pool_unit_id") if data.get(k)]
        if len(named) != 1:
            raise ValidationError(
                "Name recipient_id, recipient_phone or pool_unit_id.", "recipient_id"
            )


class DonationPreviewSchema(StrictSchema):
    """What the donor confirms before giving: the recipient masked (王**, 139****0001)."""

    minutes = fields.Integer()
    recipient_id = fields.Integer(allow_none=True)
    recipient_name = fields.String()
    recipient_phone = fields.String()
    pool_unit_id = fields.Integer(allow_none=True)
    pool_name = fields.String()
    memo = fields.String(allow_none=True)


class TransferRequestSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(("award", "correct", "donate")))
    ledger = fields.String(load_default="HOURS", validate=validate.OneOf(LEDGERS))
    amount = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10**9))
    idempotency_key = fields.String(required=True, validate=validate.Length(min=1, max=100))
    memo = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    member_id = Id(load_default=None, allow_none=True)
    recipient_id = Id(load_default=None, allow_none=True)
    pool_unit_id = Id(load_default=None, allow_none=True)
    corrects_transfer_id = Id(load_default=None, allow_none=True)

    @validates_schema
    def _fields_for_kind(self, data, **kwargs):
        kind = data["kind"]
        if kind == "award" and data.get("member_id") is None:
            raise ValidationError("An award names member_id.", "member_id")
        if kind == "correct" and data.get("corrects_transfer_id") is None:
            raise ValidationError(
                "A correction names corrects_transfer_id.", "corrects_transfer_id"
            )
        if kind == "donate":
            if (data.get("recipient_id") is None) == (data.get("pool_unit_id") is None):
                raise ValidationError("Donate to recipient_id or to pool_unit_id.", "recipient_id")
            if data["ledger"] != "HOURS":
                raise ValidationError("Only HOURS can be donated.", "ledger")
        if kind in ("award", "correct") and not (data.get("memo") or "").strip():
            raise ValidationError("Say why in memo.", "memo")


class HistoryArgs(StrictSchema):
    ledger = fields.String(validate=validate.OneOf(LEDGERS))
    before = fields.Integer(validate=validate.Range(min=1, max=2**62))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class StatementLineSchema(StrictSchema):
    entry_id = fields.Integer()
    transfer_id = fields.Integer()
    ledger = fields.String()
    amount = fields.Integer(metadata={"description": "signed: negative spends, positive earns"})
    balance_after = fields.Integer()
    code = fields.String()
    memo = fields.String(allow_none=True)
    reference_type = fields.String(allow_none=True)
    reference_id = fields.String(allow_none=True)
    counterparty = fields.String()
    created_at = fields.DateTime()


class HistoryPageSchema(StrictSchema):
    items = fields.List(fields.Nested(StatementLineSchema))
    next_cursor = fields.Integer(allow_none=True)


class PendingListArgs(StrictSchema):
    unit_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(
        load_default="pending", validate=validate.OneOf(("pending", "approved", "rejected"))
    )


class VerifySchema(StrictSchema):
    ok = fields.Boolean()
    accounts = fields.Integer()
    entries = fields.Integer()
    transfers = fields.Integer()
    checkpoints = fields.Integer()
    problem = fields.String(allow_none=True)
    ledger_sums = fields.Dict(keys=fields.String(), values=fields.Integer())
    #: the checks beside the ledger's own, e.g. {"transparency": {"HOURS": {"leaves": 12, ...}}}
    extra = fields.Dict(keys=fields.String(), values=fields.Dict())


class CheckpointSchema(StrictSchema):
    id = fields.Integer()
    ledger = fields.String()
    entry_count = fields.Integer()
    max_entry_id = fields.Integer()
    heads_hash = fields.String()
    created_at = fields.DateTime()
