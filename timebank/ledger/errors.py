"""Errors of the ledger: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    default_message = "Not enough balance."
    word_params = ("ledger",)


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class HoldNotPending(Conflict):
    code = "hold_not_pending"


class AccountNotFound(NotFound):
    code = "account_not_found"


class AlreadyDecided(Conflict):
    code = "already_decided"


class CorrectionExceedsOriginal(Conflict):
    code = "correction_exceeds_original"


class GuardianSelfDealing(Forbidden):
    code = "guardian_self_dealing"


class HoldNotFound(NotFound):
    code = "hold_not_found"


class IdempotencyKeyRequired(InvalidInput):
    code = "idempotency_key_required"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class LedgerMismatch(InvalidInput):
    code = "ledger_mismatch"


class PendingCreditNotFound(NotFound):
    code = "pending_credit_not_found"


class SameAccount(InvalidInput):
    code = "same_account"


class TransferNotFound(NotFound):
    code = "transfer_not_found"


class UnknownLedger(InvalidInput):
    code = "unknown_ledger"


class HoldExpired(HoldNotPending):
    code = "hold_expired"
    commit_anyway = True


class IdempotencyInProgress(IdempotencyConflict):
    code = "idempotency_in_progress"
