"""News of the decisions about a shop and its customers, to the person they concern: the
owner hears that the shop was approved, turned down, suspended, reinstated or paid; a
member hears that a shop refunded a redemption. Each is written to the inbox in the
reader's language, once per decision, and sent by their channel after the commit."""

from __future__ import annotations

from datetime import datetime

from timebank.merchants.models import Merchant, Redemption, Statement

#: a shop's new status -> the notification kind its owner receives
DECISION_KINDS = {
    "approved": "shop_approved",
    "rejected": "shop_rejected",
    "suspended": "shop_suspended",
    "reinstated": "shop_reinstated",
}


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def tell_owner_decided(merchant: Merchant, decision: str, now: datetime) -> None:
    """The owner hears the organizer's decision on the shop (``decision``: a key of
    DECISION_KINDS), with the reason when one was given."""
    from timebank.inbox import operations as inbox

    page = "/merchants/apply" if decision == "rejected" else f"/merchants/{merchant.id}"
    inbox.notify(
        merchant.owner, DECISION_KINDS[decision],
        key=f"shop:{merchant.id}:{decision}:{now.isoformat()}",
        params={"shop": merchant.name, "reason": merchant.status_reason or ""},
        link=page, now=now,
    )  # fmt: skip


def tell_owner_paid(statement: Statement, merchant: Merchant, now: datetime) -> None:
    """The owner hears that the month's statement was paid: how much, for how many
    points, and the payment's reference when the organizer gave one."""
    from timebank.inbox import operations as inbox

    inbox.notify(
        merchant.owner, "shop_paid", key=f"statement:{statement.id}:paid",
        params={"shop": merchant.name, "month": statement.month,
                "yuan": _yuan(statement.amount_fen), "points": statement.points_net,
                "reference": statement.payment_reference or ""},
        link=f"/statements/{statement.id}", now=now,
    )  # fmt: skip


def tell_member_refunded(redemption: Redemption, now: datetime) -> None:
    """The member hears that the shop gave back a redemption's points, and why."""
    from timebank.inbox import operations as inbox

    inbox.notify(
        redemption.member, "redemption_refunded", key=f"redemption:{redemption.id}:refund",
        params={"shop": redemption.merchant.name, "offer": redemption.offer.title,
                "n": redemption.points, "reason": redemption.refund_reason or ""},
        link=f"/me/redemptions/{redemption.id}", now=now,
    )  # fmt: skip
