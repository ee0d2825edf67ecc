"""Corrections: a mistake is fixed by a transfer the other way that links to the one it
corrects; the corrections of a transfer never add up to more than it."""

from __future__ import annotations

from dataclasses import dataclass

from timebank.core.audit import record_audit
from timebank.core.errors import InvalidInput
from timebank.ledger.models import PendingCredit, Transfer
from timebank.ledger.operations.accounts import get_account
from timebank.ledger.operations.manual import check_correction_room, request_manual_credit
from timebank.ledger.operations.posting import (
    TransferRequest,
    existing_transfers,
    get_transfer,
    lock_accounts,
    post_linked,
    validate,
)


def post_correction(request: TransferRequest) -> tuple[Transfer, bool]:
    """Post a correcting transfer (``request.corrects_id`` names the original) that takes
    value back; returns (the transfer, whether its key had posted it before).

    The one door for every correction that posts at once (an organizer's, a shop's
    refund): under the two accounts' locks, a replay of the key is told apart first (the
    correction it replays used that room up), then the corrections of the original,
    this one included, may not exceed it. Raises CorrectionExceedsOriginal (409), and
    what posting raises."""
    validate(request)
    lock_accounts([request.debit_account_id, request.credit_account_id])
    existing = existing_transfers([request])
    if existing is not None:
        return existing[0], True
    check_correction_room(request.corrects_id, request.amount)
    [transfer] = post_linked([request])
    return transfer, False


@dataclass(frozen=True)
class CorrectionResult:
    """What a correction did: posted the correcting ``transfer``, or, when it gives value
    back to a member, asked a second person to approve it (``pending``). ``replayed``
    when the key had done so before: decided under the accounts' locks."""

    transfer: Transfer | None = None
    pending: PendingCredit | None = None
    replayed: bool = False


def correct_transfer(
    original_id: int,
    *,
    amount: int,
    memo: str,
    idempotency_key: str,
    actor_id: int,
    unit_id: int,
) -> CorrectionResult:
    """Reverse all or part of a transfer by a correcting transfer that links to it.

    Taking value back from a member posts at once. Giving value to a member (reversing a
    debit) creates value and waits for a second approver of ``unit_id``: the result holds
    a PendingCredit then. Raises InvalidInput when the corrections would exceed the
    original amount (``correction_exceeds_original``), or for a correction of a
    correction, and what posting raises.
    """
    original = get_transfer(original_id)
    if original.code == "correct":
        raise InvalidInput("A correction cannot itself be corrected; post a new transfer.")
    memo = (memo or "").strip()
    if not memo:
        raise InvalidInput("Say why the transfer is corrected.", errors={"memo": ["Required."]})
    receiver = get_account(original.debit_account_id)
    if receiver.kind == "member":
        asked = request_manual_credit(
            ledger=original.ledger,
            code="correct",
            member_id=receiver.member_id,
            member_unit_id=receiver.unit_id,
            unit_id=unit_id,
            amount=amount,
            memo=memo,
            idempotency_key=idempotency_key,
            requested_by_id=actor_id,
            corrects_id=original_id,
            debit_account_id=original.credit_account_id,
        )
        return CorrectionResult(pending=asked.pending, replayed=asked.replayed)
    request = TransferRequest(
        ledger=original.ledger,
        debit_account_id=original.credit_account_id,
        credit_account_id=original.debit_account_id,
        amount=amount,
        code="correct",
        idempotency_key=idempotency_key,
        actor_id=actor_id,
        corrects_id=original_id,
        memo=memo,
        reference_type="transfer",
        reference_id=str(original_id),
    )
    transfer, replayed = post_correction(request)
    if replayed:
        return CorrectionResult(transfer=transfer, replayed=True)
    record_audit(
        "ledger.correct", actor=actor_id, subject=get_account(transfer.debit_account_id).member_id,
        target=f"transfer:{original_id}",
        after={"transfer": transfer.id, "ledger": transfer.ledger, "amount": amount}, detail=memo,
    )  # fmt: skip
    return CorrectionResult(transfer=transfer)
