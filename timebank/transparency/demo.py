"""Demo data of the transparency log: a checkpoint signed each week of the demo's five
months (as the hourly job would have, fewer), the street office's witness key and its
cosignature of the last month's checkpoints, and today's checkpoint. The communities'
notice boards (/notice/<id>) then show real totals and checked checkpoints.

The demo makes the street office's key itself and throws the private half away (a real
office makes its key in its own browser on /units/<id>/witness, and the server never
sees it): to cosign live, make a new key there."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from timebank.core.clock import utcnow
from timebank.core.timeline import Timeline
from timebank.extensions import db
from timebank.transparency import operations as transparency
from timebank.transparency.models import SignedCheckpoint
from timebank.transparency.operations import notes
from timebank.units.models import Unit

WEEKS = 22  # five months and a bit


def schedule_checkpoints(timeline: Timeline, *, now: datetime | None = None) -> None:
    """A checkpoint of each ledger every Monday morning of the demo's past, signed when the
    history of that moment has been written (the timeline runs steps in time order)."""
    now = now or utcnow()
    if db.session.scalar(sa.select(SignedCheckpoint.id).limit(1)) is not None:
        return
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=1, minute=15, second=0, microsecond=0
    )
    for week in range(WEEKS, 0, -1):
        moment = monday - timedelta(weeks=week)
        timeline.at(moment, transparency.sign_checkpoints, moment)


def load_transparency_demo(*, now: datetime | None = None) -> str:
    """The street office cosigns last month's checkpoints; today's are signed. Returns a
    summary line (nothing when already loaded)."""
    now = now or utcnow()
    street = db.session.scalar(
        sa.select(Unit).where(Unit.kind == "street", Unit.parent_id.is_(None)).order_by(Unit.id)
    )
    if street is None or transparency.witness_keys(street.id):
        return ""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = transparency.register_witness_key(
        street.id, base64.b64encode(public).decode(), actor_id=None
    )
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    cosigned = 0
    for ledger in ("HOURS", "POINTS"):
        last_of_last_month = db.session.scalar(
            sa.select(SignedCheckpoint)
            .where(SignedCheckpoint.ledger == ledger, SignedCheckpoint.signed_at < month_start)
            .order_by(SignedCheckpoint.tree_size.desc())
            .limit(1)
        )
        if last_of_last_month is None:
            continue
        when = min(last_of_last_month.signed_at + timedelta(days=1, hours=8), now)
        stamp = int(when.timestamp())
        signature = private.sign(notes.cosigned_message(last_of_last_month.body, stamp))
        value = notes.encode_cosignature(bytes.fromhex(key.key_id), stamp, signature)
        transparency.add_cosignature(
            last_of_last_month.id, street.id, value, actor_id=None, now=now
        )
        cosigned += 1
    signed = transparency.sign_checkpoints(now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(SignedCheckpoint))
    return (
        f"Transparency log: {total} signed checkpoints over the demo's months "
        f"({len(signed)} today), {cosigned} cosigned by {street.name}; notice boards at "
        "/notice.\n"
    )
