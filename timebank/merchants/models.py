"""Merchants, their offers, redemptions at the counter, and monthly statements.

A redemption is the record of one scan at a counter: the points are held in the ledger
(a hold on the member's POINTS account) until staff confirm (the hold commits to the
merchant's account) or void it, or it times out. The ledger holds the money; these rows
hold what the shop and the member see, and what the limits and the statements count.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.core.rules import Bounds
from timebank.extensions import db
from timebank.people.models import Member
from timebank.units.models import Unit

MERCHANT_STATUSES = ("pending", "approved", "rejected", "suspended")
#: 菜市场/肉菜店, 理发店, 药店, 超市, 餐馆, 维修, other
MERCHANT_CATEGORIES = (
    "grocery", "barber", "pharmacy", "supermarket", "restaurant", "repair", "other",
)  # fmt: skip
BENEFITS = ("discount", "percent", "item")
OFFER_STATUSES = ("active", "withdrawn")
#: held (points on hold), confirmed (taken), voided (staff cancelled), expired (nobody
#: confirmed in time), refunded (confirmed, then given back)
REDEMPTION_STATUSES = ("held", "confirmed", "voided", "expired", "refunded")
#: what counts against an offer's stock, budget and per-member limits
COUNTED_STATUSES = ("held", "confirmed")
STATEMENT_STATUSES = ("open", "paid")

#: limits written once, for the API schemas, the page forms and the operations
POINTS_COST = Bounds(1, 100_000)
YUAN_FEN = Bounds(1, 10_000_000)
PERCENT = Bounds(1, 100)
STOCK = Bounds(1, 1_000_000)
BUDGET_POINTS = Bounds(1, 100_000_000)
PER_MEMBER = Bounds(1, 1000)
SERVICE_MINUTES = Bounds(0, 1_000_000)
LATITUDE = Bounds(-90, 90)
LONGITUDE = Bounds(-180, 180)
NAME_MAX = 120
ADDRESS_MAX = 200
HOURS_MAX = 120
REASON_MAX = 500

CATEGORY_NAMES = {
    "grocery": _l("Meat and vegetables"),
    "barber": _l("Barber"),
    "pharmacy": _l("Pharmacy"),
    "supermarket": _l("Supermarket"),
    "restaurant": _l("Restaurant"),
    "repair": _l("Repairs"),
    "other": _l("Other"),
}


def category_name(code: str) -> str:
    return str(CATEGORY_NAMES.get(code, code))


class Merchant(db.Model):
    """A shop in a unit that accepts points; its staff redeem them at the counter."""

    __tablename__ = "merchants"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "name"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'suspended')", name="status_known"
        ),
        sa.CheckConstraint(
            "category IN ('grocery', 'barber', 'pharmacy', 'supermarket', 'restaurant', "
            "'repair', 'other')",
            name="category_known",
        ),
    )

    #: primary key; the ledger's merchant account is ``merchant:<id>``
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the unit the shop serves (usually a community); its organizers approve and settle
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: shop name, e.g. 上坎老王肉菜店
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: street address, e.g. 西固区西柳沟街道上坎路12号
    address: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: grocery, barber, pharmacy, supermarket, restaurant, repair or other
    category: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: opening hours as the shop states them, e.g. 每天 7:00–19:30
    opening_hours: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    #: the person to call, e.g. 王建国
    contact_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: the phone to call
    contact_phone: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: latitude (WGS-84), when the shop gave one
    lat: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: longitude (WGS-84)
    lng: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: pending (applied), approved, rejected or suspended
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="pending")
    #: why it was rejected or suspended
    status_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: the member who runs the shop: edits it, publishes offers, invites staff
    owner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: who applied for it or added it (the owner, or an organizer)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: the organizer who last approved, rejected, suspended or reinstated it
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when that was
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: when it applied or was added
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    unit: Mapped[Unit] = relationship()
    owner: Mapped[Member] = relationship(foreign_keys=[owner_id])

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lng is not None

    def __repr__(self) -> str:
        return f"<Merchant {self.id} {self.name!r} {self.status}>"


INVITATION_STATUSES = ("pending", "accepted", "declined", "withdrawn")


class StaffInvitation(db.Model):
    """The owner asked a member to be staff of the shop. The member holds the
    merchant-staff role only once they accept; nobody is told who has a phone."""

    __tablename__ = "merchant_staff_invitations"
    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "member_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'withdrawn')", name="status_known"
        ),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the shop
    merchant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("merchants.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: the member invited
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: who invited them (the owner, or an organizer of the shop's unit)
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: pending, accepted, declined or withdrawn (the staff member was removed)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="pending")
    #: when it was sent (again)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when the member answered, or it was withdrawn
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    merchant: Mapped[Merchant] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<StaffInvitation {self.id} merchant={self.merchant_id} {self.status}>"


class Offer(db.Model):
    """What a member gets for points at one merchant, within limits. Never edited: a
    changed offer is a new one, so every redemption names what it was."""

    __tablename__ = "offers"
    __table_args__ = (
        sa.CheckConstraint("points_cost > 0", name="cost_positive"),
        sa.CheckConstraint("valid_until > valid_from", name="validity_positive"),
        sa.CheckConstraint("status IN ('active', 'withdrawn')", name="status_known"),
        sa.CheckConstraint(
            "(benefit = 'discount' AND discount_fen > 0) OR "
            "(benefit = 'percent' AND percent_off BETWEEN 1 AND 100 AND cap_fen > 0) OR "
            "(benefit = 'item' AND item_name IS NOT NULL)",
            name="benefit_complete",
        ),
        sa.CheckConstraint(
            "(stock IS NULL OR stock > 0) AND (budget_points IS NULL OR budget_points > 0) "
            "AND (per_member_daily IS NULL OR per_member_daily > 0) "
            "AND (per_member_monthly IS NULL OR per_member_monthly > 0) "
            "AND min_service_minutes >= 0",
            name="limits_positive",
        ),
        sa.Index("ix_offers_merchant_status", "merchant_id", "status"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the merchant that honours it
    merchant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("merchants.id", ondelete="RESTRICT"), nullable=False
    )
    #: e.g. 满30元减5元, 免费理发一次
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: conditions for the customer, in the shop's words
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: points taken from the member per redemption
    points_cost: Mapped[int] = mapped_column(nullable=False)
    #: discount (fixed yuan off), percent (a percentage off up to a cap) or item
    benefit: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: discount: the fixed amount off, in fen
    discount_fen: Mapped[int | None] = mapped_column(nullable=True)
    #: percent: the percentage off (10 means 10% off, 九折)
    percent_off: Mapped[int | None] = mapped_column(nullable=True)
    #: percent: the most taken off, in fen
    cap_fen: Mapped[int | None] = mapped_column(nullable=True)
    #: item: what the customer gets, e.g. 口罩一盒
    item_name: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    #: first moment it may be redeemed (UTC)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: end of validity (UTC), exclusive
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: redemptions it may have in all (held and confirmed count); NULL: no limit
    stock: Mapped[int | None] = mapped_column(nullable=True)
    #: points it may take in all; NULL: no limit
    budget_points: Mapped[int | None] = mapped_column(nullable=True)
    #: redemptions per member per local day; NULL: no limit
    per_member_daily: Mapped[int | None] = mapped_column(nullable=True)
    #: redemptions per member per local month; NULL: no limit
    per_member_monthly: Mapped[int | None] = mapped_column(nullable=True)
    #: verified service (minutes of HOURS earned) a member needs first, e.g. 300 for 5 hours
    min_service_minutes: Mapped[int] = mapped_column(nullable=False, default=0)
    #: active or withdrawn
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="active")
    #: who published it
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was withdrawn
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    merchant: Mapped[Merchant] = relationship()
    units: Mapped[list[OfferUnit]] = relationship(
        cascade="all, delete-orphan", order_by="OfferUnit.unit_id"
    )

    @property
    def unit_ids(self) -> list[int]:
        return [u.unit_id for u in self.units]

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title!r} {self.points_cost} pts {self.status}>"


class OfferUnit(db.Model):
    """An offer restricted to members living in these units' subtrees (none: everyone)."""

    __tablename__ = "offer_units"

    #: the offer
    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True
    )
    #: a unit whose residents (its whole subtree) may redeem it
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True, index=True
    )

    def __repr__(self) -> str:
        return f"<OfferUnit {self.offer_id} unit={self.unit_id}>"


class Redemption(db.Model):
    """One scan of a member's redeem code at a counter, for one offer: a hold on the
    member's points, then confirmed, voided or expired, and perhaps refunded."""

    __tablename__ = "redemptions"
    __table_args__ = (
        # one code, one redemption: a replay on another counter is refused here
        sa.UniqueConstraint("member_id", "code_step"),
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.CheckConstraint(
            "status IN ('held', 'confirmed', 'voided', 'expired', 'refunded')",
            name="status_known",
        ),
        sa.CheckConstraint(
            "status NOT IN ('confirmed', 'refunded') OR transfer_id IS NOT NULL",
            name="confirmed_has_transfer",
        ),
        sa.CheckConstraint(
            "status <> 'refunded' OR refund_transfer_id IS NOT NULL", name="refund_has_transfer"
        ),
        sa.Index("ix_redemptions_offer_member_created", "offer_id", "member_id", "created_at"),
        sa.Index("ix_redemptions_offer_status", "offer_id", "status"),
        sa.Index("ix_redemptions_merchant_created", "merchant_id", "created_at"),
        sa.Index("ix_redemptions_status_expires_at", "status", "expires_at"),
    )

    #: primary key; the ledger's reference_id of its hold and its transfer
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the merchant (the offer's, repeated for the merchant's lists and its scope)
    merchant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("merchants.id", ondelete="RESTRICT"), nullable=False
    )
    #: the offer redeemed
    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("offers.id", ondelete="RESTRICT"), nullable=False
    )
    #: the member whose points it takes (indexed by the unique constraint)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    #: the time step of the member's redeem code: each code redeems once
    code_step: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: points taken (the offer's cost)
    points: Mapped[int] = mapped_column(nullable=False)
    #: held, confirmed, voided, expired or refunded
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="held")
    #: unique forever: the counter's key; a retry with it returns this redemption
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    #: SHA-256 of the request (code and offer), to tell a retry from a conflict
    body_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: the ledger hold on the member's points; set in the transaction that creates the row
    hold_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("holds.id", ondelete="RESTRICT"), unique=True, nullable=True
    )
    #: the ledger transfer that took the points (on confirm)
    transfer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), unique=True, nullable=True
    )
    #: the correcting transfer that gave them back (on refund)
    refund_transfer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), unique=True, nullable=True
    )
    #: the staff member who scanned the code
    staff_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the staff member who confirmed or voided it
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the staff member who refunded it
    refunded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: when the code was scanned (server clock)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when the hold lapses unless confirmed
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: when it was confirmed, voided or expired
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: when it was refunded
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: why it was refunded
    refund_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)

    merchant: Mapped[Merchant] = relationship()
    offer: Mapped[Offer] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<Redemption {self.id} offer={self.offer_id} {self.points} pts {self.status}>"


class Statement(db.Model):
    """What a unit owes a merchant for one local month, built from the ledger: the
    redeem transfers credited to the merchant in the month, less their refunds."""

    __tablename__ = "merchant_statements"
    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "period_start"),
        sa.CheckConstraint("status IN ('open', 'paid')", name="status_known"),
        sa.CheckConstraint("points_net = points_redeemed - points_refunded", name="net_adds_up"),
        sa.CheckConstraint("points_net >= 0 AND points_refunded >= 0", name="points_not_negative"),
        sa.CheckConstraint("amount_fen = points_net * point_value_fen", name="amount_adds_up"),
        sa.CheckConstraint("status <> 'paid' OR paid_at IS NOT NULL", name="paid_has_a_date"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the merchant paid
    merchant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("merchants.id", ondelete="RESTRICT"), nullable=False
    )
    #: the unit that pays (the merchant's), whose settlement account receives the points
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the first local day of the month
    period_start: Mapped[date] = mapped_column(sa.Date, index=True, nullable=False)
    #: redeem transfers in the month
    redemptions: Mapped[int] = mapped_column(nullable=False, default=0)
    #: of those, how many were refunded
    refunds: Mapped[int] = mapped_column(nullable=False, default=0)
    #: points of those redeem transfers
    points_redeemed: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: points given back by their refunds
    points_refunded: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: points owed for: redeemed less refunded
    points_net: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: the rate, fen per point (TIMEBANK_POINT_VALUE_FEN when built)
    point_value_fen: Mapped[int] = mapped_column(nullable=False)
    #: what the unit owes, in fen: points_net * point_value_fen
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: open (may be rebuilt) or paid (settled in the ledger; never changes again)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="open")
    #: when the figures were last computed from the ledger
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when an organizer marked it paid
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: who marked it paid
    paid_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the bank transfer or receipt number the organizer gave
    payment_reference: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    #: the ledger's settle transfer (merchant -> unit settlement); NULL when nothing was owed
    settle_transfer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transfers.id", ondelete="RESTRICT"), unique=True, nullable=True
    )
    #: when it was first built
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    merchant: Mapped[Merchant] = relationship()

    @property
    def month(self) -> str:
        return self.period_start.strftime("%Y-%m")

    def __repr__(self) -> str:
        return f"<Statement {self.id} merchant={self.merchant_id} {self.month} {self.status}>"
