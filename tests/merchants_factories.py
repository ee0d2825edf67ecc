"""Factory functions for merchants (kept apart from factories.py, which other modules grow)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tests import factories
from timebank.core.clock import utcnow
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants

_serial = itertools.count(1)


def fund(member, points: int, *, minutes: int = 0) -> None:
    """Credit ``member`` verified service: ``points`` POINTS and ``minutes`` HOURS."""
    n = next(_serial)
    ledger.credit_from_evidence(
        member_id=member.id,
        member_unit_id=member.home_unit_id,
        unit_id=member.home_unit_id,
        minutes=minutes,
        points=points,
        code="earn_service",
        reference_type="test",
        reference_id=str(n),
        idempotency_key=f"test-fund:{n}",
        actor_id=None,
    )


def create_merchant(unit, *, owner=None, organizer=None, approved: bool = True, **fields):
    """A shop in ``unit`` (approved by an organizer of it unless ``approved=False``)."""
    owner = owner or factories.create_member(unit, name=f"店主{next(_serial)}")
    profile = {
        "name": f"老王肉菜店{next(_serial)}",
        "address": "西固区上坎路12号",
        "category": "grocery",
        "opening_hours": "每天 7:00-19:30",
        "contact_name": owner.name,
        "contact_phone": "0931-7512345",
    }
    profile.update(fields)
    merchant = merchants.apply_merchant(unit_id=unit.id, owner=owner, actor=owner, **profile)
    if approved:
        organizer = organizer or factories.create_member(unit, roles=("organizer",))
        merchants.approve_merchant(merchant, actor=organizer)
    return merchant


def create_offer(merchant, *, points_cost: int = 10, **fields):
    """An active offer of ``merchant``, valid from yesterday for 30 days (5 yuan off)."""
    now = utcnow()
    values = {
        "title": "满30元减5元",
        "benefit": "discount",
        "discount_fen": 500,
        "valid_from": now - timedelta(days=1),
        "valid_until": now + timedelta(days=30),
    }
    values.update(fields)
    return merchants.create_offer(merchant, actor=merchant.owner, points_cost=points_cost, **values)


def code_of(member, now=None) -> str:
    """The member's redeem token now."""
    return merchants.current_redeem_code(member.id, now=now).token


def key() -> str:
    return f"counter-{next(_serial)}"


def make_staff(merchant, member, *, actor=None):
    """``member`` becomes staff of ``merchant``: invited by phone, then accepting."""
    merchants.invite_staff(merchant, phone=member.phone, actor=actor or merchant.owner)
    [invitation] = [i for i in merchants.invitations_for(member) if i.merchant_id == merchant.id]
    return merchants.accept_staff_invitation(invitation.id, member=member)


def redeemed_last_month(merchant, member, offer=None, *, day: int = 3):
    """A redemption by ``member`` (of ``offer``, else a new 10-point one valid since
    before last month) confirmed on the ``day``-th of last month (the app's clock moved
    there for it): a statement of last month owes something."""
    from timebank.core import clock

    start = merchants.month_bounds(merchants.previous_month(utcnow()))[0]
    # a minute apart each time: a code step redeems once
    at = start + timedelta(days=day - 1, hours=4, minutes=next(_serial) % 600)
    if offer is None:
        offer = create_offer(merchant, title="上月的优惠", valid_from=start - timedelta(days=1))
    clock.set_source(lambda: at)
    try:
        held = merchants.redeem(
            code=code_of(member, at), offer_id=offer.id, idempotency_key=key(),
            staff=merchant.owner, now=at,
        ).redemption  # fmt: skip
        return merchants.confirm_redemption(held.id, staff=merchant.owner, now=at)
    finally:
        clock.set_source(None)
