from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.extensions import db

LEDGERS = ("HOURS", "POINTS")
#: member and merchant accounts may not go negative; unit system accounts may
ACCOUNT_KINDS = ("member", "merchant", "issuance", "expiry", "correction", "settlement", "pool")
SYSTEM_KINDS = ("issuance", "expiry", "correction", "settlement", "pool")
TRANSFER_CODES = (
    "earn_service",
    "earn_checkin",
    "earn_project",
    "award",
    "redeem",
    "expire",
    "donate",
    "correct",
    "settle",
)
HOLD_STATUSES = ("pending", "committed", "voided", "expired")
GENESIS_HASH = "0" * 64


class Account(db.Model):
    """One balance in one ledger: a member's, a merchant's, or a unit's system account.

    ``balance``, ``held`` and ``version`` are a cache of the entries, kept in step under
    the row lock every posting takes; ``ledger verify`` recomputes them.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        sa.UniqueConstraint("ledger", "owner_key"),
        sa.CheckConstraint("ledger IN ('HOURS', 'POINTS')", name="ledger_known"),
        sa.CheckConstraint("allow_negative OR balance - held >= 0", name="no_overdraft"),
        sa.CheckConstraint("held >= 0", name="held_not_negative"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: HOURS (minutes) or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: member, merchant, or a unit's issuance, expiry, correction, settlement, pool
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: who owns it, e.g. member:12, merchant:3, unit:7:issuance; unique per ledger
    owner_key: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: the member, for member accounts
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the unit whose system accounts it settles with: a system account's own unit, the
    #: member's home unit when a member account was opened; none for merchant accounts
    unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the merchant, for merchant accounts (merchants arrive in a later module)
    merchant_id: Mapped[int | None] = mapped_column(nullable=True)
    #: False for member and merchant accounts: no overdraft, checked under lock and by the database
    allow_negative: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: credits minus debits posted so far
    balance: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: pending debits (holds) not yet committed or voided
    held: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: entries posted so far; each posting raises it by exactly one
    version: Mapped[int] = mapped_column(nullable=False, default=0)
    #: hash of the newest entry (the head of this account's chain)
    head_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=GENESIS_HASH)
    #: when it was opened
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def available(self) -> int:
        return self.balance - self.held

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.ledger} {self.owner_key} balance={self.balance}>"


class Transfer(db.Model):
    """An amount moved from one account to another of the same ledger. Never updated."""

    __tablename__ = "transfers"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        sa.Index("ix_transfers_reference", "reference_type", "reference_id"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: HOURS or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: the account that gives
    debit_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the account that receives
    credit_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: minutes (HOURS) or points (POINTS), a positive integer
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: why: earn_checkin, award, redeem, expire, donate, correct, settle, ...
    code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: what caused it, e.g. attendance, hour_log, redemption, hold, pending_credit
    reference_type: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)
    #: the id of what caused it
    reference_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    #: the transfer this one corrects (code correct)
    corrects_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: transfers posted together (all or none) share this
    link_id: Mapped[str | None] = mapped_column(sa.String(36), index=True, nullable=True)
    #: unique forever; a retry with the same key returns this transfer
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    #: SHA-256 of the request's canonical body, to tell a retry from a conflict
    body_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: who posted it; NULL for the system (jobs)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the second person who approved a manual credit (four-eyes)
    approver_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: free text for people
    memo: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: server clock
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return (
            f"<Transfer {self.id} {self.ledger} {self.debit_account_id}->{self.credit_account_id}"
            f" {self.amount} {self.code}>"
        )


class Entry(db.Model):
    """One side of a transfer on one account, with the balance after it. Never updated."""

    __tablename__ = "entries"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "version"),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the transfer it belongs to
    transfer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the account it changes
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    #: signed change: negative for the debit side, positive for the credit side
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: the account's balance after this entry
    balance_after: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: the account's version after this entry (1, 2, 3, ... without gaps)
    version: Mapped[int] = mapped_column(nullable=False)
    #: hash of the account's previous entry (GENESIS_HASH for the first)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: SHA-256 over this entry's canonical content and prev_hash
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: server clock (the transfer's)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<Entry {self.id} acct={self.account_id} v{self.version} {self.amount:+d}>"


class Hold(db.Model):
    """A pending debit (two-phase): committed, voided or expired exactly once."""

    __tablename__ = "holds"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(
            "status IN ('pending', 'committed', 'voided', 'expired')", name="status_known"
        ),
        sa.Index("ix_holds_status_expires_at", "status", "expires_at"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: HOURS or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: the account whose funds are held
    debit_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the account that receives them on commit
    credit_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    #: the amount held
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: the transfer code used on commit, e.g. redeem
    code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: pending, committed, voided or expired
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="pending")
    #: unique forever, like a transfer's
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    #: SHA-256 of the request's canonical body
    body_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: what caused it (e.g. redemption)
    reference_type: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)
    #: the id of what caused it
    reference_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    #: who placed it
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: when it lapses if nobody resolves it
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: the transfer that committed it (possibly for less than the amount held)
    transfer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), nullable=True
    )
    #: when it was placed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was committed, voided or expired
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<Hold {self.id} {self.amount} {self.status}>"


class PointLot(db.Model):
    """POINTS credited to a member in one transfer, spent and expired oldest first (FIFO)."""

    __tablename__ = "point_lots"
    __table_args__ = (
        sa.CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        sa.Index("ix_point_lots_account_open", "account_id", "remaining", "id"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the member's POINTS account
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    #: the credit that created the lot
    transfer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: points credited
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: points not yet spent or expired
    remaining: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: end of validity; NULL never expires
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, nullable=True)
    #: when it was credited
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<PointLot {self.id} {self.remaining}/{self.amount} until {self.expires_at}>"


class PendingCredit(db.Model):
    """A manual award or correction that creates value, waiting for a second approver."""

    __tablename__ = "pending_credits"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: HOURS or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: award or correct
    code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: the account debited on approval (a unit's issuance or correction account)
    debit_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    #: the account credited on approval
    credit_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: minutes or points
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: for a correction: the transfer it corrects
    corrects_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), nullable=True
    )
    #: why, for the approver and the statement
    memo: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    #: the unit whose organizers may approve it
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: pending, approved or rejected
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="pending")
    #: unique forever: the client's key for the request
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    #: SHA-256 of the request's canonical body
    body_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: who asked
    requested_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    #: who approved or rejected (never the requester)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: the transfer posted on approval
    transfer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), nullable=True
    )
    #: when it was asked for
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was decided
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: why the second organizer rejected it (shown to the requester)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)

    def __repr__(self) -> str:
        return f"<PendingCredit {self.id} {self.code} {self.amount} {self.status}>"


class Checkpoint(db.Model):
    """A published summary of a ledger: entry count and a hash over every account head."""

    __tablename__ = "ledger_checkpoints"

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: HOURS or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: entries of this ledger with id <= max_entry_id
    entry_count: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: the newest entry id covered
    max_entry_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: SHA-256 over "account_id:version:hash" of every account's head, in account order
    heads_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: when it was taken
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Checkpoint {self.id} {self.ledger} n={self.entry_count}>"
