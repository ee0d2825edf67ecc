from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.extensions import db
from timebank.units.models import Organization, Unit

ROLES = ("volunteer", "organizer", "merchant_staff", "admin")
MEMBER_STATUSES = ("unverified", "pending", "active", "rejected", "suspended", "removed")


class Member(UserMixin, db.Model):
    """A person: resident, volunteer, party member, organizer, shop staff or admin."""

    __tablename__ = "members"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('unverified', 'pending', 'active', 'rejected', 'suspended', 'removed')",
            name="status_known",
        ),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: mainland mobile number, 11 digits, unique; the login name
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    #: full name as on the roster, e.g. 王秀英
    name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: argon2id hash; NULL for a member who cannot log in (no smartphone)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    #: the unit (usually a grid or building) the member lives in
    home_unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: unverified (phone not confirmed), pending (awaiting approval), active, rejected,
    #: suspended, removed (pseudonymised at their request; the ledger keeps the rows)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="active")
    #: when the phone number was confirmed by a one-time code
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: False for residents who need a guardian to act for them
    has_smartphone: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: preferred page language, zh_CN or en; NULL follows the browser
    locale: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    #: raised to end every session at once (a new password, "log out everywhere")
    session_epoch: Mapped[int] = mapped_column(nullable=False, default=0)
    #: when the member was created
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    home_unit: Mapped[Unit] = relationship()
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="member", foreign_keys="RoleAssignment.member_id"
    )
    party: Mapped[PartyProfile | None] = relationship(
        back_populates="member", foreign_keys="PartyProfile.member_id", uselist=False
    )

    def get_id(self) -> str:  # Flask-Login: the session names the member and the epoch
        return f"{self.id}.{self.session_epoch}"

    @property
    def is_active(self) -> bool:  # Flask-Login: only active members may log in
        return self.status == "active"

    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.name!r} {self.status}>"


class RoleAssignment(db.Model):
    """A role held over a unit and everything below it."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "role", "unit_id"),
        sa.CheckConstraint(
            "role IN ('volunteer', 'organizer', 'merchant_staff', 'admin')", name="role_known"
        ),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: who holds the role
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: volunteer, organizer, merchant_staff or admin
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: the root of the subtree the role covers
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: for merchant staff: the one merchant they act for
    merchant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("merchants.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: who granted it; NULL for the CLI or demo loader
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was granted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="roles", foreign_keys=[member_id])
    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<RoleAssignment {self.member_id} {self.role}@{self.unit_id}>"


class PartyProfile(db.Model):
    """Party data of a member (党员): branch, workplace and the dual report (双报到)."""

    __tablename__ = "party_profiles"

    #: the member; one profile each
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    #: the party branch the member belongs to, e.g. 兰州石化公司第二党支部
    branch: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: the partner organization the member works for, when it is one
    workplace_org_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: workplace as free text (for employers that are not partner organizations)
    workplace_name: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    #: the residential community the member reported to; NULL until they report in
    reported_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the date of the dual report (双报到)
    reported_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    #: when the profile was created
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="party", foreign_keys=[member_id])
    workplace_org: Mapped[Organization | None] = relationship()
    reported_unit: Mapped[Unit | None] = relationship()

    def __repr__(self) -> str:
        return f"<PartyProfile {self.member_id} {self.branch!r} reported={self.reported_on}>"


GUARDIANSHIP_STATUSES = ("pending", "active", "declined")


class Guardianship(db.Model):
    """A family member or grid worker who may act for a member without a smartphone.

    It starts ``pending``: the member confirms it, or (for a member without a phone) a
    second organizer does; only an ``active`` one lets the guardian act.
    """

    __tablename__ = "guardianships"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "guardian_id"),
        sa.CheckConstraint("member_id <> guardian_id", name="not_self"),
        sa.CheckConstraint("status IN ('pending', 'active', 'declined')", name="status_known"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the member who is acted for
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: the member who acts
    guardian_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: e.g. 女儿, 网格员
    relation: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: pending (asked for), active (confirmed) or declined
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="pending")
    #: who asked for it (NULL: set up by the system, e.g. the demo or an import)
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    #: who confirmed or declined it: the member, or a second organizer
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    #: when it was set up
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was confirmed or declined
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    guardian: Mapped[Member] = relationship(foreign_keys=[guardian_id])

    def __repr__(self) -> str:
        return f"<Guardianship {self.guardian_id} for {self.member_id} {self.status}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the member it authenticates
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: hex SHA-256 of the token
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    #: when it was issued
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it stops working
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: when it was revoked, if it was
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} member={self.member_id}>"


PHONE_CODE_PURPOSES = ("join", "login")


class PhoneVerification(db.Model):
    """A one-time code sent by SMS to prove a phone number.

    A registration's details (name, unit) ride on the code sent for it and are applied
    only when that code comes back, with the password its bearer chooses then: whoever
    proves the phone sets the password, nobody else.
    """

    __tablename__ = "phone_verifications"
    __table_args__ = (
        sa.CheckConstraint("purpose IN ('join', 'login')", name="purpose_known"),
        sa.CheckConstraint("attempts >= 0 AND attempts <= 5", name="attempts_bounded"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the phone it was sent to
    phone: Mapped[str] = mapped_column(sa.String(20), index=True, nullable=False)
    #: join (a registration) or login (a first login or a new password)
    purpose: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="join")
    #: join: the name the registration gives
    name: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    #: join: the unit of the join link used
    unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), nullable=True
    )
    #: hex SHA-256 of phone and code
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: wrong guesses so far; five locks the code
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    #: when it was sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it stops working
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: when it was used
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<PhoneVerification {self.id} {self.phone}>"


class JoinLink(db.Model):
    """A community's join link, also printed as a QR poster."""

    __tablename__ = "join_links"

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the unit new residents join
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: the random code in the URL
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    #: the organizer who made it
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was made
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was withdrawn, if it was
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<JoinLink {self.code} unit={self.unit_id}>"
