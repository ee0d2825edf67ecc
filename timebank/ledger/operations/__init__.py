"""Ledger operations: open accounts, post transfers (single or linked), holds, corrections,
four-eyes manual credits, donations, point lots and expiry, verification and checkpoints.

One file per topic; callers import the package (``from timebank.ledger import operations
as ledger``) and find every public name here:

- accounts.py     opening accounts; the unit that answers for a transfer
- hashing.py      the hash chain's canonical content
- posting.py      TransferRequest, locking, replays, balance checks, appending
- lots.py         point lots, kept in step by every POINTS posting
- expiry.py       expiring points past their date
- manual.py       credits from evidence; awards and corrections a second person approves
- corrections.py  correcting a transfer by a linked one
- donations.py    giving HOURS to family or a community pool
- holds.py        two-phase debits
- history.py      balances and statements
- integrity.py    verify and checkpoints
- requests.py     what people ask for, one use case each: donate, ask_award, correct
- sql.py          the tables and the DB-API cursor the hot paths share

Every posting locks the accounts it touches (PostgreSQL: SELECT ... FOR UPDATE in id order;
SQLite: the transaction began with BEGIN IMMEDIATE), decides under that lock whether its
key was used before (a replay returns the original and says so: ``replayed`` on Posted,
DonationResult, ManualCreditResult and CorrectionResult), checks balances, then appends
the transfer, its two entries (each chained to its account's previous entry by SHA-256)
and updates the accounts' cached balance, version and head. Nothing is ever updated or deleted
in transfers or entries; the database's triggers refuse it.
"""

from timebank.ledger.operations.accounts import (
    get_account,
    member_account,
    merchant_account,
    system_account,
    unit_of_transfer,
)
from timebank.ledger.operations.corrections import (
    CorrectionResult,
    correct_transfer,
    post_correction,
)
from timebank.ledger.operations.donations import DonationResult, donate_hours
from timebank.ledger.operations.expiry import expire_points
from timebank.ledger.operations.hashing import canonical_time, entry_hash, transfer_digest
from timebank.ledger.operations.history import StatementLine, balances, member_history
from timebank.ledger.operations.holds import (
    commit_hold,
    expire_hold,
    expire_holds,
    place_hold,
    void_hold,
)
from timebank.ledger.operations.integrity import (
    VerifyReport,
    create_checkpoint,
    list_checkpoints,
    record_verification,
    register_check,
    run_verification,
    verify_ledger,
)
from timebank.ledger.operations.manual import (
    Evidence,
    ManualCreditResult,
    approve_manual_credit,
    check_key_kind,
    count_pending_credits,
    credit_evidence,
    credit_from_evidence,
    get_pending_credit,
    list_pending_credits,
    pending_credit_target,
    reject_manual_credit,
    request_manual_credit,
    requested_by,
)
from timebank.ledger.operations.posting import (
    Posted,
    TransferRequest,
    get_transfer,
    post_groups,
    post_linked,
    post_transfer,
)
from timebank.ledger.operations.requests import (
    DonationPreview,
    ask_award,
    correct,
    donate,
    donation_pools,
    preview_donation,
    register_after_donation,
)
from timebank.ledger.operations.sql import ACCOUNTS, ENTRIES, LOTS, TRANSFERS

__all__ = [
    "ACCOUNTS",
    "ENTRIES",
    "LOTS",
    "TRANSFERS",
    "CorrectionResult",
    "DonationPreview",
    "DonationResult",
    "Evidence",
    "ManualCreditResult",
    "Posted",
    "StatementLine",
    "TransferRequest",
    "VerifyReport",
    "approve_manual_credit",
    "ask_award",
    "correct",
    "donate",
    "donation_pools",
    "preview_donation",
    "register_after_donation",
    "run_verification",
    "check_key_kind",
    "balances",
    "canonical_time",
    "commit_hold",
    "correct_transfer",
    "count_pending_credits",
    "create_checkpoint",
    "credit_evidence",
    "credit_from_evidence",
    "donate_hours",
    "entry_hash",
    "expire_hold",
    "expire_holds",
    "expire_points",
    "get_account",
    "get_pending_credit",
    "get_transfer",
    "list_checkpoints",
    "list_pending_credits",
    "member_account",
    "member_history",
    "merchant_account",
    "pending_credit_target",
    "place_hold",
    "post_correction",
    "post_groups",
    "post_linked",
    "post_transfer",
    "record_verification",
    "register_check",
    "reject_manual_credit",
    "request_manual_credit",
    "requested_by",
    "system_account",
    "transfer_digest",
    "unit_of_transfer",
    "verify_ledger",
    "void_hold",
]
