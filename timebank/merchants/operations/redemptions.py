"""Redemption at the counter, in two steps: staff scan the member's code and choose an
offer, which places a hold on the member's points (``redeem``); then they confirm it
(the hold commits to the merchant's account) or void it. A hold nobody confirms times
out (``expire_stale_redemptions``).

Locks are taken in one order everywhere: the offer (redeem) or the redemption (confirm,
void, expire, refund), then the hold, then the accounts (in id order, by the ledger).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from timebank.core.access import Target
from timebank.core.db import utcnow
from timebank.core.errors import N_
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.errors import HoldNotPending, IdempotencyConflict, IdempotencyKeyRequired
from timebank.merchants.errors import (
    MemberNotActive,
    MerchantNotApproved,
    OfferWrongMerchant,
    RedeemCodeUsed,
    RedemptionExpired,
    RedemptionNotFound,
    RedemptionNotHeld,
)
from timebank.merchants.models import Redemption
from timebank.merchants.operations.limits import check_limits
from timebank.merchants.operations.offers import check_eligible, check_redeemable, lock_offer
from timebank.merchants.operations.redeem_codes import ReadCode, read_redeem_code
from timebank.people import operations as people
from timebank.people.models import Member


@dataclass(frozen=True)
class RedeemResult:
    """A redemption placed (or, ``replayed``, the one its key placed before)."""

    redemption: Redemption
    replayed: bool = False


def hold_timeout() -> timedelta:
    return timedelta(seconds=current_app.config["TIMEBANK_REDEMPTION_HOLD_SECONDS"])


def get_redemption(redemption_id: int) -> Redemption:
    """Return the redemption or raise RedemptionNotFound."""
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None:
        raise RedemptionNotFound("Redemption %(id)s does not exist.", params={"id": redemption_id})
    return redemption


def redemption_target(redemption_id: int) -> Target:
    """What an action on a redemption is done to: its merchant (staff's scope)."""
    redemption = get_redemption(redemption_id)
    return Target(merchant=redemption.merchant_id, unit=redemption.merchant.unit_id)


def redemption_member_target(redemption_id: int) -> Target:
    """A redemption as its member sees it: done to the member (oneself, or a ward)."""
    return Target(member=get_redemption(redemption_id).member_id)


def lock_redemption(redemption_id: int) -> Redemption:
    """The redemption row, locked FOR UPDATE (PostgreSQL). Raises RedemptionNotFound."""
    redemption = db.session.scalar(
        sa.select(Redemption)
        .where(Redemption.id == redemption_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if redemption is None:
        raise RedemptionNotFound("Redemption %(id)s does not exist.", params={"id": redemption_id})
    return redemption


def _body_hash(code: str, offer_id: int) -> str:
    return hashlib.sha256(f"{code.strip()}|{offer_id}".encode()).hexdigest()


def _by_key(key: str, body_hash: str) -> Redemption | None:
    """The redemption placed under ``key``; IdempotencyConflict if its request differs."""
    redemption = db.session.scalar(sa.select(Redemption).where(Redemption.idempotency_key == key))
    if redemption is not None and redemption.body_hash != body_hash:
        raise IdempotencyConflict(
            "The idempotency key %(key)s was already used for a different request; "
            "nothing was changed.",
            params={"key": key},
        )
    return redemption


def _insert(redemption: Redemption, key: str, body_hash: str) -> RedeemResult | None:
    """Flush the new row; a twin that won a unique constraint meanwhile decides: the same
    key is a replay (None: the caller returns it), the same code RedeemCodeUsed."""
    try:
        with db.session.begin_nested():
            db.session.add(redemption)
            db.session.flush()
    except IntegrityError:
        if redemption in db.session:
            db.session.expunge(redemption)
        twin = _by_key(key, body_hash)
        if twin is not None:
            return RedeemResult(twin, replayed=True)
        raise RedeemCodeUsed() from None
    return None


def _redeemer(offer, read: ReadCode) -> Member:
    """The member a code names, if they may redeem ``offer`` with it: active, eligible,
    and the code unused. Raises MemberNotActive, NotEligible, RedeemCodeUsed."""
    member = people.get_member(read.member_id)
    if not member.is_active:
        raise MemberNotActive("%(name)s's account is not active.", params={"name": member.name})
    check_eligible(offer, member)
    used = db.session.scalar(
        sa.select(Redemption.id).where(
            Redemption.member_id == member.id, Redemption.code_step == read.step
        )
    )
    if used is not None:
        raise RedeemCodeUsed()
    return member


def _hold_points(redemption: Redemption, staff: Member) -> None:
    """Hold the redemption's points on the member's account for the merchant."""
    member = redemption.member
    hold = ledger.place_hold(
        ledger="POINTS",
        debit_account_id=ledger.member_account(member.id, "POINTS", unit_id=member.home_unit_id).id,
        credit_account_id=ledger.merchant_account(redemption.merchant_id, "POINTS").id,
        amount=redemption.points,
        code="redeem",
        idempotency_key=f"redemption:{redemption.id}",
        timeout=hold_timeout(),
        actor_id=staff.id,
        reference_type="redemption",
        reference_id=str(redemption.id),
    )
    redemption.hold_id = hold.id
    redemption.expires_at = hold.expires_at
    db.session.flush()


def redeem(
    *,
    code: str,
    offer_id: int,
    idempotency_key: str,
    staff: Member,
    merchant_id: int | None = None,
    now: datetime | None = None,
) -> RedeemResult:
    """Staff scanned ``code`` and chose an offer: hold the offer's points on the member's
    account for the merchant, until confirmed, voided or timed out.

    A retry with the same key and body returns the first result (``replayed``); a
    different body is an IdempotencyConflict. Raises RedeemCodeRejected (invalid,
    expired, not yet valid, used), OfferNotFound, MerchantNotApproved, OfferUnavailable
    (withdrawn, not started, ended, out of stock, budget, daily or monthly limit),
    NotEligible, InsufficientBalance; OfferWrongMerchant when ``merchant_id`` (the
    counter's shop) is given and the offer is another's. The caller checked that staff
    may redeem at the offer's merchant.
    """
    now = now or utcnow()
    key = (idempotency_key or "").strip()
    if not 1 <= len(key) <= 120:
        raise IdempotencyKeyRequired(
            "An idempotency key of 1 to 120 characters is required.",
            errors={"idempotency_key": ["Required."]},
        )
    body_hash = _body_hash(code or "", offer_id)
    if (previous := _by_key(key, body_hash)) is not None:
        return RedeemResult(previous, replayed=True)
    read = read_redeem_code(code, now=now)
    offer = lock_offer(offer_id)
    if merchant_id is not None and offer.merchant_id != merchant_id:
        raise OfferWrongMerchant("This offer belongs to another shop.")
    # decided again under the lock: a twin may have committed while we waited for it
    if (previous := _by_key(key, body_hash)) is not None:
        return RedeemResult(previous, replayed=True)
    check_redeemable(offer, now)
    member = _redeemer(offer, read)
    check_limits(offer, member.id, now)
    redemption = Redemption(
        merchant_id=offer.merchant_id,
        offer=offer,
        member=member,
        code_step=read.step,
        points=offer.points_cost,
        status="held",
        idempotency_key=key,
        body_hash=body_hash,
        staff_id=staff.id,
        created_at=now,
        expires_at=now + hold_timeout(),
    )
    if (twin := _insert(redemption, key, body_hash)) is not None:
        return twin
    _hold_points(redemption, staff)
    return RedeemResult(redemption)


#: why a redemption no longer waits for a decision, in words pages translate
_DECIDED = {
    "confirmed": N_("This redemption was already confirmed."),
    "voided": N_("This redemption was already cancelled."),
    "refunded": N_("This redemption was already refunded."),
}


def _mark_expired(redemption: Redemption, now: datetime) -> None:
    redemption.status = "expired"
    redemption.resolved_at = now
    db.session.flush()


def _expired_error() -> RedemptionExpired:
    return RedemptionExpired("Nobody confirmed in time: the points were released. Scan again.")


def _require_held(redemption: Redemption, now: datetime) -> None:
    """Raise RedemptionExpired (releasing the hold first, if it is past its time) or
    RedemptionNotHeld unless the redemption waits for a decision."""
    if redemption.status == "expired":
        raise _expired_error()
    if redemption.status != "held":
        raise RedemptionNotHeld(_DECIDED[redemption.status])
    if redemption.expires_at <= now:
        ledger.expire_hold(redemption.hold_id, now=now)
        _mark_expired(redemption, now)
        raise _expired_error()


def confirm_redemption(
    redemption_id: int, *, staff: Member, now: datetime | None = None
) -> Redemption:
    """Take the held points: the hold commits to the merchant's account (one ``redeem``
    transfer). Exactly one decision wins.

    Raises RedemptionNotHeld, RedemptionExpired (the points were released; that is kept),
    MerchantNotApproved (a suspended shop confirms nothing).
    """
    now = now or utcnow()
    redemption = lock_redemption(redemption_id)
    _require_held(redemption, now)
    if redemption.merchant.status != "approved":
        raise MerchantNotApproved(
            "%(name)s is not approved to accept points.", params={"name": redemption.merchant.name}
        )
    try:
        transfer = ledger.commit_hold(redemption.hold_id, actor_id=staff.id)
    except HoldNotPending:
        # the ledger's own clock or its expiry job released it first
        _mark_expired(redemption, now)
        raise _expired_error() from None
    redemption.status = "confirmed"
    redemption.transfer_id = transfer.id
    redemption.resolved_by_id = staff.id
    redemption.resolved_at = now
    db.session.flush()
    return redemption


def void_redemption(
    redemption_id: int, *, staff: Member, now: datetime | None = None
) -> Redemption:
    """Cancel a held redemption: the points are released in full.

    Raises RedemptionNotHeld, RedemptionExpired (released anyway).
    """
    now = now or utcnow()
    redemption = lock_redemption(redemption_id)
    _require_held(redemption, now)
    try:
        ledger.void_hold(redemption.hold_id)
    except HoldNotPending:
        _mark_expired(redemption, now)
        raise _expired_error() from None
    redemption.status = "voided"
    redemption.resolved_by_id = staff.id
    redemption.resolved_at = now
    db.session.flush()
    return redemption


def expire_stale_redemptions(now: datetime) -> int:
    """Release the holds of redemptions nobody confirmed in time and mark them expired;
    returns how many. For the scheduler (and ``timebank merchants expire-redemptions``):
    running it twice changes nothing more."""
    ids = list(
        db.session.scalars(
            sa.select(Redemption.id)
            .where(Redemption.status == "held", Redemption.expires_at <= now)
            .order_by(Redemption.id)
        )
    )
    count = 0
    for redemption_id in ids:
        redemption = lock_redemption(redemption_id)
        if redemption.status != "held" or redemption.expires_at > now:
            continue  # confirmed or voided while we looked
        ledger.expire_hold(redemption.hold_id, now=now)
        _mark_expired(redemption, now)
        count += 1
    return count
