"""Point lots: POINTS credited to a member open a lot, which may expire; POINTS debited
from a member consume their lots, soonest expiry first. Posting keeps the lots in step;
``expire_points`` (expiry.py) posts what is left of the lots past their date."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.extensions import db
from timebank.ledger.operations.sql import LOTS


def _points_expiry(now: datetime) -> datetime | None:
    days = current_app.config.get("TIMEBANK_POINTS_EXPIRY_DAYS", 0)
    return now + timedelta(days=days) if days else None


def track_point_lots(transfers, accounts: dict[int, dict], now: datetime) -> None:
    """POINTS credited to a member open a lot (a batch's lots in one statement); POINTS
    debited consume lots oldest first."""
    opened = []
    for transfer in transfers:
        if transfer.ledger != "POINTS":
            continue
        if accounts[transfer.credit_account_id]["kind"] == "member":
            opened.append({
                "account_id": transfer.credit_account_id, "transfer_id": transfer.id,
                "amount": transfer.amount, "remaining": transfer.amount,
                "expires_at": _points_expiry(now), "created_at": now,
            })  # fmt: skip
        if accounts[transfer.debit_account_id]["kind"] == "member":
            _open(opened)  # a lot opened earlier in the batch may be consumed now
            _consume_lots(transfer.debit_account_id, transfer.amount)
    _open(opened)


def _open(lots: list[dict]) -> None:
    """INSERT the lots (one statement), and empty the list."""
    if lots:
        db.session.execute(LOTS.insert(), lots)
        lots.clear()


#: built once, run with parameters (building a statement costs more than running it)
_LOTS_LEFT = (
    sa.select(LOTS.c.id, LOTS.c.remaining)
    .where(LOTS.c.account_id == sa.bindparam("account_id"), LOTS.c.remaining > 0)
    .order_by(LOTS.c.expires_at.is_(None), LOTS.c.expires_at, LOTS.c.id)
)
_TAKE_FROM_LOT = (
    LOTS.update()
    .where(LOTS.c.id == sa.bindparam("lot_id"))
    .values(remaining=sa.bindparam("new_remaining"))
)


def _consume_lots(account_id: int, amount: int) -> None:
    # Soonest expiry first (then oldest): under one policy that is plain FIFO, and when the
    # policy changed it keeps an `expire` debit on the lots it expires, not on older lots
    # that never expire (which a second run the same day would then expire again).
    lots = db.session.execute(_LOTS_LEFT, {"account_id": account_id}).all()
    updates = []
    for lot_id, remaining in lots:
        if amount <= 0:
            break
        take = min(remaining, amount)
        amount -= take
        updates.append({"lot_id": lot_id, "new_remaining": remaining - take})
    if updates:
        db.session.execute(_TAKE_FROM_LOT, updates)
