"""Donations: a member gives HOURS to a family member or to a community pool (the Nanjing
time-bank model); above the hours cap, the rest goes to the pool of the recipient account's
unit. The caller vouches that the recipient or the pool's unit exists."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from timebank.core.audit import record_audit
from timebank.core.errors import InvalidInput
from timebank.extensions import db
from timebank.ledger.errors import GuardianSelfDealing, InvalidAmount, SameAccount
from timebank.ledger.models import Account, Transfer
from timebank.ledger.operations.accounts import member_account, system_account
from timebank.ledger.operations.posting import (
    TransferRequest,
    idempotency_conflict,
    lock_accounts,
    post_linked,
)


@dataclass
class DonationResult:
    """What a donation posted: the transfers, and how the minutes were split."""

    transfers: list[Transfer] = field(default_factory=list)
    to_member: int = 0
    to_pool: int = 0
    #: the key had made this donation before: these are the originals (decided under the
    #: accounts' locks, so of concurrent twins exactly one is not a replay)
    replayed: bool = False


def check_donation(
    *, donor_id: int, recipient_id: int | None, pool_unit_id: int | None, actor_id: int | None
) -> None:
    """The donation's own rules, before any account is touched: one recipient, not the
    donor, and not the guardian giving a ward's hours to themselves. Raises InvalidInput,
    SameAccount, GuardianSelfDealing."""
    if (recipient_id is None) == (pool_unit_id is None):
        raise InvalidInput("Donate either to a member or to a community pool.")
    if recipient_id == donor_id:
        raise SameAccount("You cannot donate to yourself.")
    if actor_id is not None and actor_id != donor_id and recipient_id == actor_id:
        raise GuardianSelfDealing(
            "A guardian cannot give the member's hours to themselves.",
        )


def donate_hours(
    *,
    donor_id: int,
    donor_unit_id: int,
    minutes: int,
    idempotency_key: str,
    recipient_id: int | None = None,
    recipient_unit_id: int | None = None,
    pool_unit_id: int | None = None,
    memo: str | None = None,
    actor_id: int | None = None,
) -> DonationResult:
    """Give HOURS to a family member or to a community pool (the Nanjing time-bank model).

    The caller has checked that the recipient, or the pool's unit, exists; the members'
    home units (``donor_unit_id``, ``recipient_unit_id``) open their accounts on first
    use. With TIMEBANK_HOURS_CAP_MINUTES set, minutes that would lift the recipient above
    the cap go to the pool of the recipient account's unit instead. Raises InvalidInput,
    SameAccount, GuardianSelfDealing, and what posting raises (InsufficientBalance,
    IdempotencyConflict, ...).
    """
    check_donation(
        donor_id=donor_id, recipient_id=recipient_id, pool_unit_id=pool_unit_id,
        actor_id=actor_id,
    )  # fmt: skip
    donor = member_account(donor_id, "HOURS", unit_id=donor_unit_id)
    common = {"ledger": "HOURS", "code": "donate", "actor_id": actor_id or donor_id, "memo": memo}
    if pool_unit_id is not None:
        pool = system_account(pool_unit_id, "HOURS", "pool")
        request = TransferRequest(
            debit_account_id=donor.id,
            credit_account_id=pool.id,
            amount=minutes,
            idempotency_key=idempotency_key,
            **common,
        )
        posted = post_linked([request])
        result = DonationResult(transfers=posted, to_pool=minutes, replayed=posted.replayed)
    else:
        receiving = member_account(recipient_id, "HOURS", unit_id=recipient_unit_id)
        pool = system_account(receiving.unit_id, "HOURS", "pool")
        result = _donate_to_member(donor, receiving, pool, minutes, idempotency_key, common)
    if actor_id is not None and actor_id != donor_id and not result.replayed:
        # a guardian gave the ward's hours: on record, and shown to the ward
        record_audit(
            "ledger.donate", actor=actor_id, subject=donor_id, on_behalf_of=donor_id,
            target=f"transfer:{result.transfers[0].id}",
            after={"minutes": minutes, "to_member": result.to_member, "to_pool": result.to_pool,
                   "recipient": recipient_id, "pool_unit": pool_unit_id},
            detail=memo,
        )  # fmt: skip
    return result


def _donate_to_member(
    donor: Account, receiving: Account, pool: Account, minutes: int, key: str, common: dict
) -> DonationResult:
    """Up to the cap to the member, the rest to ``pool``: judged under the three locks."""
    # Lock all three now, in id order, so the cap is judged on a balance nobody else moves.
    locked = lock_accounts([donor.id, receiving.id, pool.id])
    previous = _previous_donation(key, donor.id, receiving.id, pool.id, minutes)
    if previous is not None:
        return previous
    cap = current_app.config.get("TIMEBANK_HOURS_CAP_MINUTES", 0)
    to_member = minutes
    if cap:
        to_member = max(0, min(minutes, cap - locked[receiving.id]["balance"]))
    requests = []
    if to_member > 0:
        requests.append(
            TransferRequest(
                debit_account_id=donor.id,
                credit_account_id=receiving.id,
                amount=to_member,
                idempotency_key=key,
                **common,
            )
        )
    if minutes - to_member > 0:
        requests.append(
            TransferRequest(
                debit_account_id=donor.id,
                credit_account_id=pool.id,
                amount=minutes - to_member,
                idempotency_key=f"{key}:pool",
                **common,
            )
        )
    if not requests:
        raise InvalidAmount("The amount must be a positive whole number.")
    posted = post_linked(requests)
    return DonationResult(
        transfers=posted,
        to_member=to_member,
        to_pool=minutes - to_member,
        replayed=posted.replayed,
    )


def _previous_donation(key, donor_id, receiving_id, pool_id, minutes) -> DonationResult | None:
    """A retry of a capped donation: the split may differ now, so match on the whole.

    Returns the original result (a replay), None for a new key, or raises
    IdempotencyConflict when the key was used for another donor, recipient or amount.
    """
    found = list(
        db.session.scalars(
            sa.select(Transfer)
            .where(Transfer.idempotency_key.in_([key, f"{key}:pool"]))
            .order_by(Transfer.id)
        )
    )
    if not found:
        return None
    to_member = sum(t.amount for t in found if t.credit_account_id == receiving_id)
    to_pool = sum(t.amount for t in found if t.credit_account_id == pool_id)
    if (
        any(t.debit_account_id != donor_id for t in found)
        or to_member + to_pool != minutes
        or len(found) != (to_member > 0) + (to_pool > 0)
    ):
        raise idempotency_conflict(key)
    return DonationResult(transfers=found, to_member=to_member, to_pool=to_pool, replayed=True)
