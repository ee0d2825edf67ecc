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
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from timebank.core import access, metrics
from timebank.core.access import Target
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.db import insert_unless_taken
from timebank.core.errors import N_, DomainError
from timebank.core.privacy import shown_name
from timebank.core.throttle import REDEEM_GUESSES_STAFF
from timebank.core.uow import reads_before_writes
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.errors import HoldNotPending, IdempotencyConflict, IdempotencyKeyRequired
from timebank.ledger.models import Account
from timebank.merchants.errors import (
    MemberNotActive,
    MerchantNotApproved,
    OfferWrongMerchant,
    RedeemCodeInvalid,
    RedeemCodeRejected,
    RedeemCodeUsed,
    RedemptionExpired,
    RedemptionNotFound,
    RedemptionNotHeld,
    StaffSelfDealing,
)
from timebank.merchants.models import Merchant, Redemption
from timebank.merchants.operations.limits import check_limits
from timebank.merchants.operations.offers import (
    check_eligible,
    check_redeemable,
    get_offer,
    has_limits,
    lock_offer,
)
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


#: what every page and answer about a redemption names (inner joins: never null)
_NAMES = (
    joinedload(Redemption.merchant, innerjoin=True),
    joinedload(Redemption.offer, innerjoin=True),
    joinedload(Redemption.member, innerjoin=True),
)


def get_redemption(redemption_id: int) -> Redemption:
    """Return the redemption (with its merchant, offer and member) or raise
    RedemptionNotFound."""
    redemption = db.session.get(Redemption, redemption_id, options=_NAMES)
    if redemption is None:
        raise RedemptionNotFound("Redemption %(id)s does not exist.", params={"id": redemption_id})
    return redemption


def redemption_target(redemption_id: int) -> Target:
    """What an action on a redemption is done to: its merchant (staff's scope)."""
    row = db.session.execute(
        sa.select(Redemption.merchant_id, Merchant.unit_id)
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(Redemption.id == redemption_id)
    ).first()
    if row is None:
        raise RedemptionNotFound("Redemption %(id)s does not exist.", params={"id": redemption_id})
    return Target(merchant=row.merchant_id, unit=row.unit_id)


def redemption_member_target(redemption_id: int) -> Target:
    """A redemption as its member sees it: done to the member (oneself, or a ward)."""
    return Target(member=get_redemption(redemption_id).member_id)


_LOCK = (
    sa.select(Redemption, people.official_role(Redemption.member_id))
    .where(Redemption.id == sa.bindparam("redemption"))
    .options(*_NAMES)
    .with_for_update(of=Redemption)
    .execution_options(populate_existing=True)
)


def lock_redemption(redemption_id: int, *, staff: Member | None = None) -> Redemption:
    """The redemption row, locked FOR UPDATE (PostgreSQL), with its merchant, offer and
    member, and whether the member is an official (the answer shows their name). Raises
    RedemptionNotFound; with ``staff``, Forbidden unless they are staff of its shop (asked
    of the locked row, so the edge needs no read of its own)."""
    found = db.session.execute(_LOCK, {"redemption": redemption_id}).first()
    if found is None:
        raise RedemptionNotFound("Redemption %(id)s does not exist.", params={"id": redemption_id})
    redemption, official = found
    if staff is not None:
        access.authorize(staff, "redemptions.counter", Target(merchant=redemption.merchant_id))
    access.remember_official(redemption.member_id, official)
    return redemption


def _body_hash(code: str, offer_id: int) -> str:
    return hashlib.sha256(f"{code.strip()}|{offer_id}".encode()).hexdigest()


def _by_key(key: str, body_hash: str, *, code: ReadCode | None = None) -> Redemption | None:
    """The redemption placed under ``key``; IdempotencyConflict if its request differs.
    With ``code``: RedeemCodeUsed when another redemption used it (one query for both)."""
    condition = Redemption.idempotency_key == key
    if code is not None:
        used = (Redemption.member_id == code.member_id) & (Redemption.code_step == code.step)
        condition = condition | used
    found = list(db.session.scalars(sa.select(Redemption).where(condition)))
    redemption = next((r for r in found if r.idempotency_key == key), None)
    if redemption is None and found:
        raise RedeemCodeUsed()
    if redemption is not None and redemption.body_hash != body_hash:
        raise IdempotencyConflict(
            "The idempotency key %(key)s was already used for a different request; "
            "nothing was changed.",
            params={"key": key},
        )
    return redemption


REDEMPTIONS = Redemption.__table__
#: the columns a new redemption leaves empty
_UNSET = (
    "hold_id", "transfer_id", "refund_transfer_id", "resolved_by_id", "refunded_by_id",
    "resolved_at", "refunded_at", "refund_reason",
)  # fmt: skip


def _insert(values: dict, relations: dict, key: str, body_hash: str):
    """Insert the new redemption unless a unique constraint holds a twin: then the same
    key is a replay (a RedeemResult), the same code RedeemCodeUsed. One statement (INSERT
    ... ON CONFLICT DO NOTHING), no savepoint; PostgreSQL waits for a running twin."""
    new_id = db.session.scalar(insert_unless_taken(REDEMPTIONS, REDEMPTIONS.c.id), values)
    if new_id is None:
        if (twin := _by_key(key, body_hash)) is not None:
            return RedeemResult(twin, replayed=True)
        raise RedeemCodeUsed()
    redemption = Redemption(id=new_id, **values)
    make_transient_to_detached(redemption)
    db.session.add(redemption)
    for name, value in relations.items():
        set_committed_value(redemption, name, value)
    return redemption


def _points_account(owner_key: str) -> sa.ScalarSelect:
    """The id of the POINTS account whose owner key is the parameter ``owner_key`` (NULL:
    not opened yet)."""
    return (
        sa.select(Account.id)
        .where(Account.ledger == "POINTS", Account.owner_key == sa.bindparam(owner_key))
        .scalar_subquery()
    )


#: the member's and the shop's POINTS accounts, read with the member (built once)
_POINTS_ACCOUNTS = (_points_account("member_key"), _points_account("shop_key"))


def _redeemer(offer, read: ReadCode, staff: Member) -> tuple[Member, int | None, int | None]:
    """The member a code names, if they may redeem ``offer``: active, eligible, and
    neither the staff member at the counter nor their ward (the points would be paid to
    the shop with no customer); with the ids of the member's and the shop's POINTS
    accounts (None: not opened yet), read in the same statement. Raises StaffSelfDealing,
    MemberNotActive, NotEligible."""
    if access.pays_self_or_ward(staff, read.member_id):
        raise StaffSelfDealing(
            "Nobody redeems their own points, or those of a member they look after, "
            "at a counter they serve."
        )
    member, debit, credit = people.read_member_shown(  # the answer shows their name
        read.member_id,
        *_POINTS_ACCOUNTS,
        member_key=f"member:{read.member_id}",
        shop_key=f"merchant:{offer.merchant_id}",
    )
    if not member.is_active:
        raise MemberNotActive(
            "%(name)s's account is not active.", params={"name": shown_name(member)}
        )
    check_eligible(offer, member)
    return member, debit, credit


def _hold_points(redemption: Redemption, staff: Member, debit, credit) -> None:
    """Hold the redemption's points on the member's account for the merchant (``debit``,
    ``credit``: the POINTS accounts' ids from ``_redeemer``; those missing are opened
    now)."""
    member = redemption.member
    debit = debit or ledger.member_account(member.id, "POINTS", unit_id=member.home_unit_id).id
    credit = credit or ledger.merchant_account(redemption.merchant_id, "POINTS").id
    hold = ledger.place_hold(
        ledger="POINTS",
        debit_account_id=debit,
        credit_account_id=credit,
        amount=redemption.points,
        code="redeem",
        idempotency_key=f"redemption:{redemption.id}",
        timeout=hold_timeout(),
        actor_id=staff.id,
        reference_type="redemption",
        reference_id=str(redemption.id),
        # the redemption's id is new in this transaction, so is the key; both accounts
        # were read (or opened) on the POINTS ledger
        new_key=True,
        credit_ledger="POINTS",
    )
    redemption.hold_id = hold.id
    redemption.expires_at = hold.expires_at
    db.session.flush()


def _plan(code, offer_id, key, body_hash, staff, merchant_id, now):
    """What a redemption reads before it writes: the code, the offer, an earlier answer
    to the same key (a RedeemResult), the member, checked, and the two accounts. Returns
    (offer, read code, member, debit and credit account ids) or the earlier answer."""
    try:
        read = read_redeem_code(code, now=now)
    except RedeemCodeRejected as refused:
        # a retry after the code expired is still a replay of what its key did
        if (previous := _by_key(key, body_hash)) is not None:
            return RedeemResult(previous, replayed=True)
        if isinstance(refused, RedeemCodeInvalid):
            REDEEM_GUESSES_STAFF.count(str(staff.id))  # wrong digits: a guess
        raise
    offer = get_offer(offer_id)
    if merchant_id is not None and offer.merchant_id != merchant_id:
        raise OfferWrongMerchant("This offer belongs to another shop.")
    # staff of the offer's shop only (an offer never moves to another shop)
    access.authorize(staff, "redemptions.counter", Target(merchant=offer.merchant_id))
    try:
        check_redeemable(offer, now)
        return offer, read, *_redeemer(offer, read, staff)
    except DomainError as refusal:
        return _earlier_answer(refusal, key, body_hash, read)


def _earlier_answer(refusal: DomainError, key: str, body_hash: str, read: ReadCode):
    """A request is looked up by its key only when something refuses it (and when its
    INSERT meets a twin, in ``_insert``): a replay is answered as the first time whatever
    has changed since, another redemption's code is RedeemCodeUsed, another body under
    the key IdempotencyConflict; else ``refusal`` stands. Answers as the lookup before the
    checks did, without a query on the way that succeeds."""
    if (previous := _by_key(key, body_hash, code=read)) is not None:
        return RedeemResult(previous, replayed=True)
    raise refusal


@use_case
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
    counter's shop) is given and the offer is another's; Forbidden unless ``staff`` is
    staff of the offer's shop; StaffSelfDealing.
    """
    now = now or utcnow()
    key = (idempotency_key or "").strip()
    if not 1 <= len(key) <= 120:
        raise IdempotencyKeyRequired(
            "An idempotency key of 1 to 120 characters is required.",
            errors={"idempotency_key": ["Required."]},
        )
    body_hash = _body_hash(code or "", offer_id)
    REDEEM_GUESSES_STAFF.check(str(staff.id))
    with reads_before_writes():  # on SQLite the write lock waits for the first write
        planned = _plan(code, offer_id, key, body_hash, staff, merchant_id, now)
    if isinstance(planned, RedeemResult):
        return planned
    offer, read, member, debit, credit = planned
    if has_limits(offer):
        # limits are counted under the offer's lock (and, on SQLite, the write lock); a
        # twin with the same key that committed while we waited is a replay, not a count
        # (refused by a limit it filled: _earlier_answer; else its INSERT meets ours).
        # Without any limits, redemptions of one offer run side by side (the member's
        # account is locked by the hold).
        offer = lock_offer(offer_id)
        try:
            check_redeemable(offer, now)
            check_limits(offer, member.id, now)
        except DomainError as refusal:
            return _earlier_answer(refusal, key, body_hash, read)
    values = {
        "merchant_id": offer.merchant_id,
        "offer_id": offer.id,
        "member_id": member.id,
        "code_step": read.step,
        "points": offer.points_cost,
        "status": "held",
        "idempotency_key": key,
        "body_hash": body_hash,
        "staff_id": staff.id,
        "created_at": now,
        "expires_at": now + hold_timeout(),
        # known now, so the answer reads nothing back
        **dict.fromkeys(_UNSET),
    }
    relations = {"offer": offer, "member": member, "merchant": offer.merchant}
    redemption = _insert(values, relations, key, body_hash)
    if isinstance(redemption, RedeemResult):
        return redemption
    _hold_points(redemption, staff, debit, credit)
    metrics.count_after_commit("redemptions", "held")
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


@use_case
def confirm_redemption(
    redemption_id: int, *, staff: Member, now: datetime | None = None
) -> Redemption:
    """Take the held points: the hold commits to the merchant's account (one ``redeem``
    transfer). Exactly one decision wins.

    Raises RedemptionNotFound, Forbidden unless ``staff`` is staff of the redemption's shop,
    RedemptionNotHeld, RedemptionExpired (the points were released; that is kept),
    MerchantNotApproved (a suspended shop confirms nothing).
    """
    now = now or utcnow()
    redemption = lock_redemption(redemption_id, staff=staff)
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
    metrics.count_after_commit("redemptions", "confirmed")
    redemption.transfer_id = transfer.id
    redemption.resolved_by_id = staff.id
    redemption.resolved_at = now
    db.session.flush()
    audit_redemption("redemption.confirm", redemption, staff, "held")
    return redemption


def audit_redemption(action: str, redemption: Redemption, staff: Member, before: str, detail=None):
    """A shop's decision on a redemption, on the audit trail: who, which shop, whose
    points, how many."""
    record_audit(
        action, actor=staff, subject=redemption.member_id,
        target=f"redemption:{redemption.id}", before={"status": before},
        after={"status": redemption.status, "merchant": redemption.merchant_id,
               "points": redemption.points},
        detail=detail,
    )  # fmt: skip


@use_case
def void_redemption(
    redemption_id: int, *, staff: Member, now: datetime | None = None
) -> Redemption:
    """Cancel a held redemption: the points are released in full.

    Raises RedemptionNotFound, Forbidden unless ``staff`` is staff of the redemption's shop,
    RedemptionNotHeld, RedemptionExpired (released anyway).
    """
    now = now or utcnow()
    redemption = lock_redemption(redemption_id, staff=staff)
    _require_held(redemption, now)
    try:
        ledger.void_hold(redemption.hold_id)
    except HoldNotPending:
        _mark_expired(redemption, now)
        raise _expired_error() from None
    redemption.status = "voided"
    metrics.count_after_commit("redemptions", "voided")
    redemption.resolved_by_id = staff.id
    redemption.resolved_at = now
    db.session.flush()
    audit_redemption("redemption.void", redemption, staff, "held")
    return redemption


@use_case
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
