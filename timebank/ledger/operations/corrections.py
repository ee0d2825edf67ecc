"""Corrections: a mistake is fixed by a transfer the other way that links to the one it
corrects; the corrections of a transfer never add up to more than it."""

from __future__ import annotations

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


def correct_transfer(
    original_id: int,
    *,
    amount: int,
    memo: str,
    idempotency_key: str,
    actor_id: int,
    unit_id: int,
) -> Transfer | PendingCredit:
    """Reverse all or part of a transfer by a correcting transfer that links to it.

    Taking value back from a member posts at once. Giving value to a member (reversing a
    debit) creates value and waits for a second approver: a PendingCredit is returned.
    Raises InvalidInput when the corrections would exceed the original amount.
    """
    original = get_transfer(original_id)
    if original.code == "correct":
        raise InvalidInput("A correction cannot itself be corrected; post a new transfer.")
    memo = (memo or "").strip()
    if not memo:
        raise InvalidInput("Say why the transfer is corrected.", errors={"memo": ["Required."]})
    receiver = get_account(original.debit_account_id)
    if receiver.kind == "member":
        check_correction_room(original_id, amount)
        return request_manual_credit(
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
    validate(request)
    existing = existing_transfers([request])
    if existing is not None:
        return existing[0]
    lock_accounts([original.debit_account_id, original.credit_account_id])
    check_correction_room(original_id, amount)
    return post_linked([request])[0]
