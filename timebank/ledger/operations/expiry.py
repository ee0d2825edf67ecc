"""Points expiry: the nightly job posts an ``expire`` transfer for what is left of every
lot past its date; nothing is edited."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from timebank.extensions import db
from timebank.ledger.models import Transfer
from timebank.ledger.operations.accounts import get_account, system_account
from timebank.ledger.operations.posting import post_transfer
from timebank.ledger.operations.sql import LOTS


def expire_points(as_of: datetime, *, actor_id: int | None = None) -> list[Transfer]:
    """Post ``expire`` transfers for every lot past its date, oldest lots first.

    The points go to the expiry account of the member account's unit. Idempotent: a lot
    once expired has nothing left, so a second run posts nothing. Held points are not
    expired while their hold is pending.
    """
    rows = db.session.execute(
        sa.select(LOTS.c.account_id, sa.func.sum(LOTS.c.remaining))
        .where(LOTS.c.expires_at <= as_of, LOTS.c.remaining > 0)
        .group_by(LOTS.c.account_id)
        .order_by(LOTS.c.account_id)
    ).all()
    posted = []
    for account_id, due in rows:
        account = get_account(account_id)
        amount = min(int(due), max(account.balance - account.held, 0))
        if amount <= 0:
            continue
        sink = system_account(account.unit_id, "POINTS", "expiry")
        posted.append(
            post_transfer(
                ledger="POINTS",
                debit_account_id=account_id,
                credit_account_id=sink.id,
                amount=amount,
                code="expire",
                idempotency_key=f"expire:{account_id}:{as_of.date().isoformat()}:{account.version}",
                actor_id=actor_id,
                memo=f"points expired as of {as_of.date().isoformat()}",
            )
        )
    return posted
