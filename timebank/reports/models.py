"""What reports keep: service certificates (志愿服务证明) and members' choice to stay off
public lists. Every figure a report shows is computed; nothing here is a total."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.extensions import db
from timebank.people.models import Member
from timebank.transparency.models import SignedCheckpoint
from timebank.units.models import Unit

CERTIFICATE_STATUSES = ("requested", "issued", "rejected", "revoked")
ID_TYPES = ("resident_id", "passport", "hk_macao_permit", "taiwan_permit", "other")


class Certificate(db.Model):
    """A volunteer service certificate (志愿服务证明, 民政部令第67号): requested by the member
    or issued by an organizer of the member's unit, signed with the deployment's Ed25519 key.

    Its signed content is rebuilt from these columns (``certificates.canonical_content``),
    so a changed column no longer matches the signature; its hours are recomputed from the
    ledger entries up to ``entry_watermark``. Rows are never deleted: a mistake is revoked.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('requested', 'issued', 'rejected', 'revoked')", name="status_known"
        ),
        sa.CheckConstraint("period_last >= period_first", name="period_forward"),
        sa.CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
        sa.Index("ix_certificates_unit_status", "unit_id", "status"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: printed on the certificate and in its QR code's /verify/<serial>; random, unique
    serial: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    #: requested, issued, rejected (a request turned down) or revoked (with a reason)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="requested")
    #: the volunteer it certifies
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the member's home unit when it was asked for: its organizers decide
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), nullable=False
    )
    #: first local day of service covered
    period_first: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: last local day of service covered (inclusive)
    period_last: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: what it is for, in the member's words (school, employer, court)
    purpose: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: the least hours (in minutes) the member asked to have certified; NULL: whatever there is
    minutes_wanted: Mapped[int | None] = mapped_column(nullable=True)
    #: ID document type (resident_id, passport, ...); NULL where none was recorded
    id_type: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    #: the ID number, masked (620102********1234): the whole number is never stored
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    #: the volunteer number printed (志愿者编号): the national system's, else ours
    volunteer_number: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: issued: the name at issue (a later change of name does not alter the certificate)
    name: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    #: issued: verified service minutes (activities, projects, small wishes) in the period
    minutes: Mapped[int | None] = mapped_column(nullable=True)
    #: issued: of ``minutes``, those from manual awards (marked as such on the certificate)
    manual_minutes: Mapped[int | None] = mapped_column(nullable=True)
    #: issued: the service content, JSON: [[kind, title, minutes, times], ...] largest first
    content: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: issued: the highest ledger entry id counted; verification recounts up to it
    entry_watermark: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    #: issued: the ids of the ledger entries behind its hours, JSON (for inclusion proofs)
    entry_ids: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: sealed: the newest signed checkpoint of the HOURS log that held all its entries when
    #: it was sealed (at issue, or by the checkpoint job after); NULL: awaiting its seal.
    #: Its inclusion proofs are recomputed from the log against this checkpoint's root.
    checkpoint_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transparency_checkpoints.id", ondelete="RESTRICT"), index=True,
        nullable=True,
    )  # fmt: skip
    #: when it was sealed
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: issued: the issuing organization (出具单位), e.g. 上坎社区居民委员会
    issuer_name: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    #: issued: the unit whose organizer issued it (the nearest above the member's home)
    issuer_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), nullable=True
    )
    #: issued: the organization's responsible person (负责人)
    responsible_person: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    #: issued: the handler (经办人): the organizer who issued it, by name at issue
    handler_name: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    #: issued: how to reach the organization (联系方式)
    contact: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    #: issued: the local date of issue (出具日期)
    issued_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    #: issued: the Ed25519 signature of the canonical content, base64
    signature: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    #: issued: the id of the key that signed (C2SP key id, hex)
    key_id: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    #: who asked (the member, their guardian, or the organizer who issued it directly)
    requested_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    #: the organizer who issued, turned down or revoked it
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: why a request was turned down, or why it was revoked (shown on /verify)
    reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: when it was asked for
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was issued or turned down
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: when it was revoked
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    checkpoint: Mapped[SignedCheckpoint | None] = relationship(foreign_keys=[checkpoint_id])

    def __repr__(self) -> str:
        return f"<Certificate {self.serial} member={self.member_id} {self.status}>"


class ListPreference(db.Model):
    """A member's choice to stay off public lists (the honour roll on the notice board)."""

    __tablename__ = "list_preferences"

    #: the member; one row each, none until they choose
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    #: True: left off every public list
    hidden: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: when they last chose
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<ListPreference {self.member_id} hidden={self.hidden}>"


class ReportFlow(db.Model):
    """Derived, rebuildable: the member side of a transfer the roll-ups count, with the
    unit of the member's account beside it, so a subtree's period is one range of one
    index instead of a scan of every transfer of the period joined to its accounts.

    Filled from the ledger by ``refresh_flows`` (the ``report-flows`` job, ``timebank
    reports refresh``) up to the mark in ``report_marks``; a roll-up adds the transfers
    past the mark straight from the ledger, so it never waits for the job.
    ``timebank reports rebuild`` empties and refills it; a test checks it against the ledger.
    """

    __tablename__ = "report_flows"
    __table_args__ = (
        sa.Index(
            "ix_report_flows_unit_time",
            "unit_id",
            "created_at",
            "ledger",
            "code",
            "side",
            "member_id",
            "amount",
            "transfer_id",
        ),  # fmt: skip
    )

    #: the transfer
    transfer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), primary_key=True
    )
    #: c: the member's account was credited; d: debited (a donation between members has both)
    side: Mapped[str] = mapped_column(sa.String(1), primary_key=True)
    #: the unit of the member's account (their home when it was opened)
    unit_id: Mapped[int] = mapped_column(nullable=False)
    #: the member
    member_id: Mapped[int] = mapped_column(nullable=False)
    #: HOURS or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: the transfer's code
    code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: the transfer's amount (positive)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: when the transfer was posted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<ReportFlow {self.transfer_id}{self.side} unit={self.unit_id} {self.code}>"


class ReportMark(db.Model):
    """How far a derived table has been filled from the ledger."""

    __tablename__ = "report_marks"

    #: the derived table, e.g. report_flows
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: every transfer with an id up to this one is in it
    transfer_id: Mapped[int] = mapped_column(nullable=False, default=0)
    #: when it last moved
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReportMark {self.name} {self.transfer_id}>"
