"""Signed checkpoints of each ledger's log, and the street offices' cosignatures.

A checkpoint is signed only over a tree that extends the last one signed: under the log's
head lock, the root the stored tree gives at the earlier size must be the root signed then,
and a consistency proof between the two must verify. Anything else raises LogInconsistent
and nothing is signed (a rewritten history is never blessed).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.core import signing
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.db import insert_unless_taken
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger.models import LEDGERS
from timebank.ledger.operations.accounts import check_ledger
from timebank.transparency import merkle
from timebank.transparency.errors import (
    CheckpointNotFound,
    CosignatureInvalid,
    LogInconsistent,
    NoCheckpoint,
    NotAStreetOffice,
    NoWitnessKey,
    WitnessKeyInvalid,
    WitnessKeyTaken,
)
from timebank.transparency.models import Cosignature, SignedCheckpoint, WitnessKey
from timebank.transparency.operations import notes
from timebank.transparency.operations.log import append_entries, lock_head
from timebank.transparency.operations.tree import StoredTree
from timebank.units.models import Unit

#: a cosignature dated further ahead than this is refused (clocks drift, not by hours)
COSIGNATURE_CLOCK_SKEW = timedelta(minutes=10)


def origin_of(ledger: str) -> str:
    """The log's C2SP origin: the deployment's key name and the ledger, e.g.
    ``timebank.example.org/hours``."""
    return f"{signing.key_name()}/{ledger.lower()}"


#: called after every signing with the checkpoints just signed and the time; registered by
#: the app (the reports seal certificates waiting for a checkpoint), since the log must not
#: read the reports that read it
_after_signing: list[Callable[[list[SignedCheckpoint], datetime], object]] = []


def register_after_signing(hook: Callable[[list[SignedCheckpoint], datetime], object]) -> None:
    """Run ``hook(signed, now)`` after each :func:`sign_checkpoints` (job, page, API, CLI)."""
    if hook not in _after_signing:
        _after_signing.append(hook)


def sign_checkpoints(now: datetime | None = None, *, append: bool = True) -> list[SignedCheckpoint]:
    """Append what is final (unless ``append`` is False), then sign a checkpoint of each
    ledger whose log grew since its last one, then run the hooks registered to follow a
    signing (certificates waiting for a seal). Raises LogInconsistent (nothing signed)."""
    now = now or utcnow()
    if append:
        append_entries(now)
    signed = [sign_checkpoint(ledger, now) for ledger in LEDGERS]
    signed = [checkpoint for checkpoint in signed if checkpoint is not None]
    for hook in _after_signing:
        hook(signed, now)
    return signed


def sign_checkpoint(ledger: str, now: datetime) -> SignedCheckpoint | None:
    """Sign the ledger's log as it stands, if it grew since the last checkpoint (None if
    not). Raises LogInconsistent when it does not extend that checkpoint."""
    check_ledger(ledger)
    head = lock_head(ledger)
    if head.size == 0:
        return None
    tree = StoredTree(head)
    try:
        new_root = tree.root(head.size)
    except LookupError as error:
        raise _refusal(ledger, str(error)) from None
    if new_root.hex() != head.root_hash:
        raise _refusal(ledger, "the stored tree no longer hashes to the log's head")
    last = latest_checkpoint(ledger)
    if last is not None:
        _check_extends(tree, last, head.size, new_root)
        if last.tree_size == head.size:
            return None
    origin = origin_of(ledger)
    body = notes.checkpoint_body(origin, head.size, new_root)
    name, public = signing.key_name(), signing.public_key_bytes()
    note = notes.signed_note(body, name, signing.key_id(name, public), signing.sign(body.encode()))
    checkpoint = SignedCheckpoint(
        ledger=ledger, origin=origin, tree_size=head.size, root_hash=new_root.hex(), note=note,
        key_id=signing.key_id(name, public).hex(), signed_at=now,
    )  # fmt: skip
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


@use_case
def sign_now(*, actor_id: int | None, via: str) -> list[SignedCheckpoint]:
    """Sign what the logs hold now, as a person asked (``page``, ``api``, ``cli``), and put
    the signing on the audit trail; the job signs with :func:`sign_checkpoints` alone."""
    signed = sign_checkpoints()
    record_audit(
        "transparency.sign", actor=actor_id, target="transparency", detail=via,
        after={"signed": [{"ledger": c.ledger, "tree_size": c.tree_size} for c in signed]},
    )  # fmt: skip
    return signed


def _check_extends(tree: StoredTree, last: SignedCheckpoint, size: int, new_root: bytes) -> None:
    """Raise LogInconsistent unless the tree of ``size`` leaves extends ``last``."""
    ledger = last.ledger
    if not checkpoint_signature_ok(last):
        raise _refusal(ledger, f"checkpoint {last.id}'s signature does not verify")
    if last.tree_size > size:
        raise _refusal(ledger, f"the log is smaller than checkpoint {last.id}")
    try:
        old_root = tree.root(last.tree_size)
        proof = tree.consistency_path(last.tree_size, size)
    except LookupError as error:
        raise _refusal(ledger, str(error)) from None
    signed_root = bytes.fromhex(last.root_hash)
    if old_root != signed_root or not merkle.verify_consistency(
        last.tree_size, size, signed_root, new_root, proof
    ):
        raise _refusal(
            ledger, f"its first {last.tree_size} leaves no longer hash to checkpoint {last.id}"
        )


def _refusal(ledger: str, detail: str) -> LogInconsistent:
    return LogInconsistent(
        "The %(ledger)s log is not consistent with what was signed before (%(detail)s); "
        "nothing was signed.",
        params={"ledger": ledger, "detail": detail},
    )


def checkpoint_signature_ok(checkpoint: SignedCheckpoint) -> bool:
    """The note parses, says what the row says, and the deployment's key signed it."""
    try:
        parsed = notes.parse_note(checkpoint.note)
    except ValueError:
        return False
    if (parsed.origin, parsed.size, parsed.root.hex()) != (
        checkpoint.origin,
        checkpoint.tree_size,
        checkpoint.root_hash,
    ):
        return False
    return notes.verify_note_signature(parsed, signing.key_name(), signing.public_key_bytes())


# ---------------------------------------------------------------- reading


def latest_checkpoint(ledger: str) -> SignedCheckpoint | None:
    return db.session.scalar(
        sa.select(SignedCheckpoint)
        .where(SignedCheckpoint.ledger == ledger)
        .order_by(SignedCheckpoint.tree_size.desc())
        .limit(1)
    )


def list_checkpoints(ledger: str, *, limit: int = 20, before_size: int | None = None):
    """The ledger's signed checkpoints, largest first (``before_size``: smaller ones)."""
    check_ledger(ledger)
    query = sa.select(SignedCheckpoint).where(SignedCheckpoint.ledger == ledger)
    if before_size is not None:
        query = query.where(SignedCheckpoint.tree_size < before_size)
    query = query.order_by(SignedCheckpoint.tree_size.desc()).limit(limit)
    return list(db.session.scalars(query))


def checkpoint_of_size(ledger: str, size: int) -> SignedCheckpoint:
    """The checkpoint signed at ``size``; raises CheckpointNotFound."""
    found = db.session.scalar(
        sa.select(SignedCheckpoint).where(
            SignedCheckpoint.ledger == ledger, SignedCheckpoint.tree_size == size
        )
    )
    if found is None:
        raise CheckpointNotFound(
            "No checkpoint of the %(ledger)s log was signed at size %(size)s.",
            params={"ledger": ledger, "size": size},
        )
    return found


def get_checkpoint(checkpoint_id: int) -> SignedCheckpoint:
    found = db.session.get(SignedCheckpoint, checkpoint_id)
    if found is None:
        raise CheckpointNotFound()
    return found


@dataclass
class PublishedCheckpoint:
    """A checkpoint as the public sees it: the note with every cosignature line added."""

    checkpoint: SignedCheckpoint
    cosigners: list[dict] = field(default_factory=list)

    @property
    def note(self) -> str:
        lines = [notes.SIGNATURE_PREFIX + f"{c['name']} {c['signature']}\n" for c in self.cosigners]
        return self.checkpoint.note + "".join(lines)


def published(checkpoints: list[SignedCheckpoint]) -> list[PublishedCheckpoint]:
    """The checkpoints with their cosignatures and who made them (street office, key)."""
    ids = [c.id for c in checkpoints]
    rows = db.session.execute(
        sa.select(Cosignature, WitnessKey, Unit.name)
        .join(WitnessKey, WitnessKey.id == Cosignature.witness_key_id)
        .join(Unit, Unit.id == WitnessKey.unit_id)
        .where(Cosignature.checkpoint_id.in_(ids))
        .order_by(Cosignature.id)
    ).all() if ids else []  # fmt: skip
    by_checkpoint: dict[int, list[dict]] = {}
    for cosignature, key, unit_name in rows:
        by_checkpoint.setdefault(cosignature.checkpoint_id, []).append(
            {
                "unit_id": key.unit_id,
                "unit_name": unit_name,
                "name": key.name,
                "public_key": key.public_key,
                "key_id": key.key_id,
                "timestamp": cosignature.timestamp,
                "signature": cosignature.signature,
            }
        )
    return [PublishedCheckpoint(c, by_checkpoint.get(c.id, [])) for c in checkpoints]


def latest_published(ledger: str) -> PublishedCheckpoint:
    """The ledger's newest checkpoint with its cosignatures; raises NoCheckpoint."""
    check_ledger(ledger)
    last = latest_checkpoint(ledger)
    if last is None:
        raise NoCheckpoint(
            "No checkpoint of the %(ledger)s log has been signed yet.", params={"ledger": ledger}
        )
    return published([last])[0]


# ---------------------------------------------------------------- witnesses


def witness_name(unit_id: int) -> str:
    """The cosigner name of a street office's key, e.g. timebank.example.org/witness/1."""
    return f"{signing.key_name()}/witness/{unit_id}"


@use_case
def register_witness_key(unit_id: int, public_key: str, *, actor_id: int | None) -> WitnessKey:
    """Record a street office's cosigning public key (32 bytes, base64); its newest key is
    the one it signs with. Raises NotAStreetOffice, WitnessKeyInvalid, WitnessKeyTaken."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.kind != "street":
        raise NotAStreetOffice()
    try:
        raw = base64.b64decode(public_key.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or not _is_point(raw):
        raise WitnessKeyInvalid(errors=_field("public_key", "Not an Ed25519 public key."))
    encoded = base64.b64encode(raw).decode()
    name = witness_name(unit_id)
    inserted = db.session.scalar(
        insert_unless_taken(WitnessKey.__table__, WitnessKey.__table__.c.id),
        {
            "unit_id": unit_id, "name": name, "public_key": encoded,
            "key_id": notes.cosigner_key_id(name, raw).hex(), "created_by_id": actor_id,
            "created_at": utcnow(),
        },
    )  # fmt: skip
    if inserted is None:
        raise WitnessKeyTaken()
    record_audit(
        "transparency.witness_key", actor=actor_id, target=f"unit:{unit_id}",
        after={"key_id": notes.cosigner_key_id(name, raw).hex()},
    )  # fmt: skip
    return db.session.get(WitnessKey, inserted)


def _field(name: str, message: str) -> dict[str, list[str]]:
    """A field's error for the API (made here, so message extraction takes none of it)."""
    return {name: [message]}


def _is_point(raw: bytes) -> bool:
    """32 bytes that decode as an Ed25519 public key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return False
    return True


def witness_keys(unit_id: int) -> list[WitnessKey]:
    """The unit's keys, newest first."""
    query = sa.select(WitnessKey).where(WitnessKey.unit_id == unit_id)
    return list(db.session.scalars(query.order_by(WitnessKey.id.desc())))


@use_case
def add_cosignature(
    checkpoint_id: int, unit_id: int, signature: str, *, actor_id: int | None, now=None
) -> Cosignature:
    """Record a street office's cosignature of a checkpoint, after checking it with the
    office's key; the same key's second one returns the first. Raises
    CheckpointNotFound, NoWitnessKey, CosignatureInvalid."""
    checkpoint = get_checkpoint(checkpoint_id)
    keys = witness_keys(unit_id)
    if not keys:
        raise NoWitnessKey()
    try:
        parsed = notes.parse_cosignature(signature)
    except ValueError as error:
        raise CosignatureInvalid(errors=_field("signature", str(error))) from None
    key = next((k for k in keys if bytes.fromhex(k.key_id) == parsed.key_id), None)
    latest_allowed = (now or utcnow()) + COSIGNATURE_CLOCK_SKEW
    if (
        key is None
        or parsed.timestamp > latest_allowed.timestamp()
        or not signing.verify(
            base64.b64decode(key.public_key),
            notes.cosigned_message(checkpoint.body, parsed.timestamp),
            parsed.signature,
        )
    ):
        raise CosignatureInvalid()
    value = notes.encode_cosignature(parsed.key_id, parsed.timestamp, parsed.signature)
    row_id = db.session.scalar(
        insert_unless_taken(Cosignature.__table__, Cosignature.__table__.c.id),
        {
            "checkpoint_id": checkpoint.id, "witness_key_id": key.id,
            "timestamp": parsed.timestamp, "signature": value,
            "created_by_id": actor_id, "created_at": utcnow(),
        },
    )  # fmt: skip
    if row_id is None:  # this key cosigned it before: that one stands
        return db.session.scalar(
            sa.select(Cosignature).where(
                Cosignature.checkpoint_id == checkpoint.id, Cosignature.witness_key_id == key.id
            )
        )
    record_audit(
        "transparency.cosign", actor=actor_id, target=f"transparency_checkpoint:{checkpoint.id}",
        after={"unit_id": unit_id, "key_id": key.key_id},
    )  # fmt: skip
    return db.session.get(Cosignature, row_id)
