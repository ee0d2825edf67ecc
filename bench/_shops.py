"""A shop with one cheap offer, as the HTTP benches open them (inside a unit of work)."""

from __future__ import annotations

from datetime import datetime, timedelta


def open_shop(unit, organizer, n: int, phone: int, now: datetime):
    """Shop number ``n`` of ``unit``: its owner (phone ``phone``), approved by
    ``organizer``, with a 1-point offer valid from yesterday to tomorrow. Returns (shop,
    owner, offer)."""
    from timebank.merchants import operations as merchants
    from timebank.people import operations as people

    owner = people.create_member(phone=str(phone), name=f"店主{n}", home_unit_id=unit.id)
    shop = merchants.apply_merchant(
        unit_id=unit.id, owner=owner, actor=organizer, name=f"压测肉菜店{n}",
        address=f"压测路{n}号", category="grocery", contact_name=owner.name,
        contact_phone="0931-7500000",
    )  # fmt: skip
    merchants.approve_merchant(shop, actor=organizer)
    offer = merchants.create_offer(
        shop, actor=owner, title="压测优惠", points_cost=1, benefit="discount",
        discount_fen=10, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=1),
    )  # fmt: skip
    return shop, owner, offer
