"""Offers: what a member gets for points at a merchant, within a validity period, a
total stock or budget, per-member limits, and who may redeem it (members of given
units, or members with enough verified service)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from timebank.core.access import Target
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.db import get_by_id
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger.models import Account, Transfer
from timebank.merchants.errors import (
    InvalidOffer,
    MerchantNotApproved,
    NotEligible,
    NotEnoughService,
    NotInOfferUnits,
    OfferEnded,
    OfferNotFound,
    OfferNotStarted,
    OfferRedeemed,
    OfferWithdrawn,
)
from timebank.merchants.models import (
    BENEFITS,
    BUDGET_POINTS,
    NAME_MAX,
    PER_MEMBER,
    PERCENT,
    POINTS_COST,
    SERVICE_MINUTES,
    STOCK,
    YUAN_FEN,
    Merchant,
    Offer,
    OfferUnit,
    Redemption,
)
from timebank.merchants.operations.limits import offer_usage, offers_left
from timebank.merchants.operations.profiles import nearby_unit_ids_select
from timebank.people.models import Member
from timebank.units import operations as units
from timebank.units.models import UnitClosure

#: HOURS credited for verified service: what "minimum service" counts
EARN_CODES = ("earn_service", "earn_checkin", "earn_project")
DESCRIPTION_MAX = 2000


#: built once: building a statement costs more than running it (issue 24)
_OFFER = (
    sa.select(Offer)
    .options(joinedload(Offer.merchant), joinedload(Offer.units))
    .where(Offer.id == sa.bindparam("ident"))
)


def get_offer(offer_id: int) -> Offer:
    """Return the offer (with its merchant and units) or raise OfferNotFound."""
    offer = get_by_id(Offer, offer_id, _OFFER)
    if offer is None:
        raise OfferNotFound("Offer %(id)s does not exist.", params={"id": offer_id})
    return offer


def offer_target(offer_id: int) -> Target:
    """What an action on an offer is done to: its merchant, in the merchant's unit."""
    row = db.session.execute(
        sa.select(Offer.merchant_id, Merchant.unit_id)
        .join(Merchant, Merchant.id == Offer.merchant_id)
        .where(Offer.id == offer_id)
    ).first()
    if row is None:
        raise OfferNotFound("Offer %(id)s does not exist.", params={"id": offer_id})
    return Target(unit=row.unit_id, merchant=row.merchant_id)


def offer_owner_target(offer_id: int) -> Target:
    """As ``offer_target``, naming the merchant's owner (``self_ok`` actions)."""
    offer = get_offer(offer_id)
    merchant = offer.merchant
    return Target(unit=merchant.unit_id, merchant=merchant.id, member=merchant.owner_id)


def has_limits(offer: Offer) -> bool:
    """Stock, budget or per-member limits: what concurrent redemptions must not exceed."""
    limits = (offer.stock, offer.budget_points, offer.per_member_daily, offer.per_member_monthly)
    return any(limit is not None for limit in limits)


def lock_offer(offer_id: int) -> Offer:
    """The offer row, locked on PostgreSQL (FOR NO KEY UPDATE: redemptions referring to
    it still insert); SQLite's BEGIN IMMEDIATE already serialises writers."""
    offer = db.session.scalar(
        sa.select(Offer)
        .where(Offer.id == offer_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if offer is None:
        raise OfferNotFound("Offer %(id)s does not exist.", params={"id": offer_id})
    return offer


def _check_bounds(fields: dict) -> dict:
    """Field errors of an offer's numbers, in the operation's words."""
    errors = {}
    checks = {
        "points_cost": POINTS_COST, "discount_fen": YUAN_FEN, "percent_off": PERCENT,
        "cap_fen": YUAN_FEN, "stock": STOCK, "budget_points": BUDGET_POINTS,
        "per_member_daily": PER_MEMBER, "per_member_monthly": PER_MEMBER,
        "min_service_minutes": SERVICE_MINUTES,
    }  # fmt: skip
    for name, bounds in checks.items():
        value = fields.get(name)
        if value is not None and (isinstance(value, bool) or value not in bounds):
            errors[name] = [bounds.message()]
    return errors


def _check_benefit(fields: dict) -> dict:
    benefit = fields.get("benefit")
    needs = {"discount": ("discount_fen",), "percent": ("percent_off", "cap_fen")}
    needs["item"] = ("item_name",)
    if benefit not in BENEFITS:
        return {"benefit": ["discount, percent or item."]}
    return {name: ["Required."] for name in needs[benefit] if not fields.get(name)}


@use_case
def create_offer(
    merchant: Merchant,
    *,
    actor: Member,
    title: str,
    points_cost: int,
    benefit: str,
    valid_from: datetime,
    valid_until: datetime,
    unit_ids: list[int] | tuple[int, ...] = (),
    **fields,
) -> Offer:
    """Publish an offer of an approved merchant.

    ``fields``: description, discount_fen, percent_off, cap_fen, item_name, stock,
    budget_points, per_member_daily, per_member_monthly, min_service_minutes. Raises
    MerchantNotApproved, InvalidOffer naming the bad fields, NotFound for a unit.
    """
    if merchant.status != "approved":
        raise MerchantNotApproved("%(name)s is not approved.", params={"name": merchant.name})
    title = (title or "").strip()
    fields = {"title": title, "points_cost": points_cost, "benefit": benefit, **fields}
    if fields.get("item_name") is not None:
        fields["item_name"] = fields["item_name"].strip() or None
    errors = _check_bounds(fields) | _check_benefit(fields)
    if not title or len(title) > NAME_MAX:
        errors["title"] = [f"1 to {NAME_MAX} characters."]
    if len(fields.get("description") or "") > DESCRIPTION_MAX:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
    if valid_from.tzinfo is None or valid_until.tzinfo is None or valid_until <= valid_from:
        errors["valid_until"] = ["After valid_from (both with a time zone)."]
    if errors:
        raise InvalidOffer("The offer is incomplete or wrong.", errors=errors)
    for unit_id in set(unit_ids):
        units.get_unit(unit_id)
    keep = {"discount": {"discount_fen"}, "percent": {"percent_off", "cap_fen"}}
    keep["item"] = {"item_name"}
    for name in {"discount_fen", "percent_off", "cap_fen", "item_name"} - keep[benefit]:
        fields.pop(name, None)  # a discount has no item, an item no percentage
    offer = Offer(
        merchant=merchant,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by_id=actor.id,
        status="active",
        units=[OfferUnit(unit_id=u) for u in sorted(set(unit_ids))],
        **{**fields, "description": fields.get("description") or ""},
    )
    db.session.add(offer)
    db.session.flush()
    return offer


#: what an offer gives and costs: fixed once anyone has redeemed it (receipts, statements
#: and the counter's history name it)
FIXED_ONCE_REDEEMED = (
    "title", "points_cost", "benefit", "discount_fen", "percent_off", "cap_fen", "item_name",
    "valid_from",
)  # fmt: skip
EDITABLE = (
    *FIXED_ONCE_REDEEMED, "description", "valid_until", "stock", "budget_points",
    "per_member_daily", "per_member_monthly", "min_service_minutes",
)  # fmt: skip


def offer_redeemed(offer_id: int) -> bool:
    """Anyone has redeemed the offer (held, confirmed, or since voided or refunded)."""
    query = sa.select(Redemption.id).where(Redemption.offer_id == offer_id).limit(1)
    return db.session.scalar(query) is not None


@use_case
def update_offer(offer_id: int, *, actor: Member, **changes) -> Offer:
    """Change an active offer: its stock, budget, limits, conditions and end at any time;
    what it gives and costs (FIXED_ONCE_REDEEMED) only until someone redeemed it. The
    stock and budget never drop below what is already taken. Checked on the offer's
    locked row, as redemptions are.

    Raises OfferWithdrawn, OfferRedeemed (a fixed field changed after a redemption),
    InvalidOffer naming the bad fields.
    """
    offer = lock_offer(offer_id)
    if offer.status != "active":
        raise OfferWithdrawn("%(title)s was taken down.", params={"title": offer.title})
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidOffer(
            "The offer is incomplete or wrong.", errors=dict.fromkeys(unknown, ["?"])
        )
    before = {name: getattr(offer, name) for name in EDITABLE}
    fields = {**before, **changes}
    if isinstance(fields.get("title"), str):
        fields["title"] = fields["title"].strip()
    if isinstance(fields.get("item_name"), str):
        fields["item_name"] = fields["item_name"].strip() or None
    keep = {"discount": {"discount_fen"}, "percent": {"percent_off", "cap_fen"}}
    keep["item"] = {"item_name"}
    for name in {"discount_fen", "percent_off", "cap_fen", "item_name"} - keep.get(
        fields.get("benefit"), set()
    ):
        fields[name] = None  # a discount has no item, an item no percentage
    changed = [name for name in EDITABLE if fields[name] != before[name]]
    if not changed:
        return offer
    fixed = [name for name in changed if name in FIXED_ONCE_REDEEMED]
    if fixed and offer_redeemed(offer.id):
        raise OfferRedeemed(
            "%(title)s has been redeemed: what it gives and costs stays as it was. Take it "
            "down and publish a new offer to change them.",
            params={"title": offer.title},
            errors=dict.fromkeys(fixed, ["Fixed once redeemed."]),
        )
    errors = _check_bounds(fields) | _check_benefit(fields)
    if not fields["title"] or len(fields["title"]) > NAME_MAX:
        errors["title"] = [f"1 to {NAME_MAX} characters."]
    if len(fields.get("description") or "") > DESCRIPTION_MAX:
        errors["description"] = [f"At most {DESCRIPTION_MAX} characters."]
    start, end = fields["valid_from"], fields["valid_until"]
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        errors["valid_until"] = ["After valid_from (both with a time zone)."]
    used = offer_usage([offer.id])[offer.id]
    if fields["stock"] is not None and fields["stock"] < used["count"]:
        errors["stock"] = [f"At least {used['count']}: already taken."]
    if fields["budget_points"] is not None and fields["budget_points"] < used["points"]:
        errors["budget_points"] = [f"At least {used['points']}: already taken."]
    if errors:
        raise InvalidOffer("The offer is incomplete or wrong.", errors=errors)
    for name in changed:
        setattr(offer, name, fields[name] if name != "description" else fields[name] or "")
    db.session.flush()
    record_audit(
        "offer.update", actor=actor, subject=offer.merchant.owner_id, target=f"offer:{offer.id}",
        before={name: _plain(before[name]) for name in changed},
        after={name: _plain(fields[name]) for name in changed},
    )  # fmt: skip
    return offer


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


@use_case
def withdraw_offer(offer: Offer, *, now: datetime | None = None) -> Offer:
    """Stop an offer; its held redemptions may still be confirmed. Idempotent."""
    if offer.status != "withdrawn":
        offer.status = "withdrawn"
        offer.withdrawn_at = now or utcnow()
        db.session.flush()
    return offer


def merchant_offers(merchant_id: int, *, include_withdrawn: bool = False) -> list[Offer]:
    """A merchant's offers, cheapest first (withdrawn ones last, if asked for)."""
    query = sa.select(Offer).where(Offer.merchant_id == merchant_id)
    if not include_withdrawn:
        query = query.where(Offer.status == "active")
    query = query.options(selectinload(Offer.units)).order_by(
        Offer.status, Offer.points_cost, Offer.id
    )
    return list(db.session.scalars(query))


def offers_in_unit(unit_id: int) -> list[Offer]:
    """Every offer of the shops of a subtree (organizers' oversight), newest first."""
    query = (
        sa.select(Offer)
        .join(Merchant, Merchant.id == Offer.merchant_id)
        .where(Merchant.unit_id.in_(units.subtree_ids_select(unit_id)))
        .options(joinedload(Offer.merchant), selectinload(Offer.units))
        .order_by(Offer.status, Offer.created_at.desc(), Offer.id.desc())
    )
    return list(db.session.scalars(query))


# ---------------------------------------------------------------- who may redeem


def service_minutes(member_id: int) -> int:
    """Minutes of verified service the member earned (HOURS credited for check-ins,
    approved hour logs and service), read from the ledger."""
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(Transfer.amount), 0))
        .join(Account, Account.id == Transfer.credit_account_id)
        .where(
            Account.ledger == "HOURS",
            Account.owner_key == f"member:{member_id}",
            Transfer.code.in_(EARN_CODES),
        )
    )
    return int(db.session.scalar(query))


def _lives_in(member: Member, unit_ids: list[int]) -> bool:
    query = sa.select(sa.literal(1)).where(
        UnitClosure.descendant_id == member.home_unit_id, UnitClosure.ancestor_id.in_(unit_ids)
    )
    return db.session.scalar(query.limit(1)) is not None


def check_redeemable(offer: Offer, now: datetime) -> None:
    """Raise MerchantNotApproved or OfferUnavailable (withdrawn, not started, ended)."""
    if offer.merchant.status != "approved":
        raise MerchantNotApproved(
            "%(name)s is not approved to accept points.", params={"name": offer.merchant.name}
        )
    if offer.status != "active":
        raise OfferWithdrawn("%(title)s was taken down.", params={"title": offer.title})
    if now < offer.valid_from:
        raise OfferNotStarted("%(title)s has not started yet.", params={"title": offer.title})
    if now >= offer.valid_until:
        raise OfferEnded("%(title)s has ended.", params={"title": offer.title})


def check_eligible(offer: Offer, member: Member, *, served: int | None = None) -> None:
    """Raise NotEligible: the offer is for other units' members, or the member has not
    served enough yet (``served``: their service minutes, when already known)."""
    if offer.units and not _lives_in(member, offer.unit_ids):
        raise NotInOfferUnits(
            "%(title)s is only for members of other units.", params={"title": offer.title}
        )
    if offer.min_service_minutes:
        served = service_minutes(member.id) if served is None else served
        if served < offer.min_service_minutes:
            raise NotEnoughService(
                "%(title)s needs %(hours)s hours of verified service first; "
                "%(served)s served so far.",
                params={
                    "title": offer.title,
                    "hours": f"{offer.min_service_minutes / 60:g}",
                    "served": f"{served / 60:g}",
                },
            )


@dataclass
class OfferForMember:
    """An offer as one member sees it."""

    offer: Offer
    #: the member has the points available now
    affordable: bool
    #: points still missing (0 when affordable)
    missing_points: int
    #: None when the member may redeem it, else the error that says why not
    ineligible: NotEligible | None = None
    #: nothing left of its stock or budget: nobody can redeem it now
    sold_out: bool = False
    #: redemptions left of its stock (None: no stock)
    stock_left: int | None = None


def offers_for_member(
    member: Member, *, available_points: int, now: datetime | None = None
) -> list[OfferForMember]:
    """Active, current offers of approved shops near the member: the ones they can
    afford and may redeem first, then the rest, cheapest first; sold-out ones last."""
    now = now or utcnow()
    query = (
        sa.select(Offer)
        .join(Merchant, Merchant.id == Offer.merchant_id)
        .where(
            Merchant.status == "approved",
            Merchant.unit_id.in_(nearby_unit_ids_select(member)),
            Offer.status == "active",
            Offer.valid_from <= now,
            Offer.valid_until > now,
        )
        .options(joinedload(Offer.merchant).joinedload(Merchant.unit), selectinload(Offer.units))
    )
    served = None
    listed = []
    offers = list(db.session.scalars(query))
    left = offers_left(offers)
    for offer in offers:
        if offer.min_service_minutes and served is None:
            served = service_minutes(member.id)
        ineligible = None
        try:
            check_eligible(offer, member, served=served)
        except NotEligible as error:
            ineligible = error
        missing = max(0, offer.points_cost - available_points)
        listed.append(
            OfferForMember(
                offer,
                missing == 0,
                missing,
                ineligible,
                left[offer.id].sold_out,
                left[offer.id].stock_left,
            )  # fmt: skip
        )
    listed.sort(
        key=lambda o: (o.sold_out, not o.affordable, o.ineligible is not None, o.offer.points_cost)
    )
    return listed
