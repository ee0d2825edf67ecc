"""Refunds: a merchant gives back a confirmed redemption's points, within a configurable
period (TIMEBANK_REFUND_DAYS), by a correcting transfer linked to the original ``redeem``
transfer. Nothing is edited; the merchant returns what it received, so no second person
approves it (the ledger's ``correct_transfer`` asks for one when value reaches a member
from a unit's account)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants.errors import (
    RedemptionNotConfirmed,
    RedemptionSettled,
    RefundPeriodOver,
)
from timebank.merchants.models import REASON_MAX, Redemption
from timebank.merchants.operations.news import tell_member_refunded
from timebank.merchants.operations.redemptions import audit_redemption, lock_redemption
from timebank.merchants.operations.settlement import is_settled, lock_merchant
from timebank.people.models import Member


def refund_period() -> timedelta:
    return timedelta(days=current_app.config["TIMEBANK_REFUND_DAYS"])


def refundable(redemption: Redemption, now: datetime) -> bool:
    """Confirmed and still inside the refund period (a page shows the button then)."""
    return (
        redemption.status == "confirmed"
        and redemption.resolved_at is not None
        and now <= redemption.resolved_at + refund_period()
    )


@use_case
def refund_redemption(
    redemption_id: int, *, staff: Member, reason: str | None = None, now: datetime | None = None
) -> Redemption:
    """Give a confirmed redemption's points back to the member: a ``correct`` transfer
    from the merchant's account, linked to the ``redeem`` transfer it corrects.

    Raises RedemptionNotConfirmed (held, voided, expired or already refunded),
    RefundPeriodOver, RedemptionSettled (its month was paid), CorrectionExceedsOriginal
    (an organizer's correction already gave the points back), and what posting raises.
    """
    now = now or utcnow()
    redemption = lock_redemption(redemption_id)
    if redemption.status != "confirmed":
        raise RedemptionNotConfirmed("Only a confirmed redemption can be refunded.")
    if not refundable(redemption, now):
        raise RefundPeriodOver(
            "Redemptions can be refunded for %(days)s days; this one is older.",
            params={"days": refund_period().days},
        )
    lock_merchant(redemption.merchant_id)  # no statement is paid while we refund
    original = ledger.get_transfer(redemption.transfer_id)
    if is_settled(redemption.merchant_id, original.created_at):
        raise RedemptionSettled(
            "This redemption's month was already settled with the shop; it cannot be refunded."
        )
    memo = (reason or "").strip()[:REASON_MAX] or None
    # the same door as an organizer's correction: no room left (a correction gave the
    # points back already) is CorrectionExceedsOriginal, never a second refund
    refund, _replayed = ledger.post_correction(
        ledger.TransferRequest(
            ledger=original.ledger,
            debit_account_id=original.credit_account_id,
            credit_account_id=original.debit_account_id,
            amount=original.amount,
            code="correct",
            corrects_id=original.id,
            idempotency_key=f"redemption:{redemption.id}:refund",
            actor_id=staff.id,
            reference_type="redemption",
            reference_id=str(redemption.id),
            memo=memo,
        )
    )
    redemption.status = "refunded"
    redemption.refund_transfer_id = refund.id
    redemption.refunded_by_id = staff.id
    redemption.refunded_at = now
    redemption.refund_reason = memo
    db.session.flush()
    audit_redemption("redemption.refund", redemption, staff, "confirmed", detail=memo)
    tell_member_refunded(redemption, now)
    return redemption
