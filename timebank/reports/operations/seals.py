"""Certificates sealed in the transparency log (issue 23, witnesses).

A certificate's hours are the HOURS ledger entries it counted (``entry_ids``). It is
*sealed* under the newest signed checkpoint of the HOURS log that holds every one of them:
at issue, when that checkpoint exists already, or else by the next signing (the
checkpoint job, or a signing on demand: ``seal_waiting`` runs after each). Only the
checkpoint is stored; the inclusion proofs are recomputed from the log against its root
whenever the certificate is shown, so a rewritten entry or log shows as a proof that no
longer leads to the signed root.

Anyone can then check, with nothing but the published key: the checkpoint's signature,
each entry's inclusion proof against the checkpoint's root, and that the entries proven
are the ones the certificate's signed content names (``entries_sha256``). The /verify
page does it in the browser (static/js/transparency.js).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from timebank.extensions import db
from timebank.reports.models import Certificate
from timebank.transparency import merkle
from timebank.transparency import operations as transparency
from timebank.transparency.errors import (
    EntryNotFound,
    EntryNotLogged,
    LogInconsistent,
    MixedLedgers,
    NoCheckpoint,
)
from timebank.transparency.models import SignedCheckpoint

#: the log a certificate's entries are in: it certifies hours
LEDGER = "HOURS"
#: certificates one signing seals at most (the rest at the next)
SEAL_BATCH = 200
_CANNOT_PROVE = (EntryNotFound, EntryNotLogged, LogInconsistent, MixedLedgers, NoCheckpoint)


@dataclass
class Seal:
    """A certificate's place in the log: the checkpoint it was sealed under (None: awaiting
    its seal) and its entries' inclusion proofs against it. ``problem``: ``log`` when the
    log can no longer prove its entries, ``proofs`` when the proofs do not lead to the
    checkpoint's root or the checkpoint's signature does not verify; None when it holds."""

    checkpoint: SignedCheckpoint | None
    proofs: list[transparency.InclusionProof] = field(default_factory=list)
    problem: str | None = None
    #: the checkpoint's note with its cosignatures, as the public sees it
    note: str = ""

    @property
    def sealed(self) -> bool:
        return self.checkpoint is not None

    def document(self) -> dict:
        """The seal as the signed file and the API carry it (JSON, base64 proof paths)."""
        if self.checkpoint is None:
            return {"status": "awaiting"}
        checkpoint = self.checkpoint
        return {
            "status": "sealed",
            "ledger": checkpoint.ledger,
            "checkpoint_id": checkpoint.id,
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "checkpoint": self.note,
            "proofs": [
                {
                    "entry_id": proof.entry_id,
                    "entry_hash": proof.entry_hash,
                    "leaf_index": proof.leaf_index,
                    "path": [merkle.b64(node) for node in proof.path],
                }
                for proof in self.proofs
            ],
            "problem": self.problem,
        }


def _entry_ids(cert: Certificate) -> list[int]:
    return sorted(json.loads(cert.entry_ids or "[]"))


def _covering_proofs(entry_ids: list[int], checkpoint: SignedCheckpoint):
    """The bundle proving ``entry_ids`` against ``checkpoint``, or None if it cannot."""
    try:
        bundle = transparency.inclusion_proofs(
            entry_ids, tree_size=checkpoint.tree_size, limit=None
        )
    except _CANNOT_PROVE:
        return None
    return bundle if bundle.verify() else None


def try_seal(cert: Certificate, now: datetime) -> bool:
    """Seal an issued, unsealed certificate under the newest HOURS checkpoint if that holds
    all its entries and their proofs verify; False (nothing written) if not yet.

    The write is conditional (``WHERE status = 'issued' AND checkpoint_id IS NULL``), so a
    revocation or another sealing at the same moment wins cleanly."""
    entry_ids = _entry_ids(cert)
    if cert.status != "issued" or cert.checkpoint_id is not None or not entry_ids:
        return False
    checkpoint = transparency.latest_checkpoint(LEDGER)
    if checkpoint is None or _covering_proofs(entry_ids, checkpoint) is None:
        return False
    db.session.flush()
    sealed = db.session.execute(
        sa.update(Certificate)
        .where(
            Certificate.id == cert.id,
            Certificate.status == "issued",
            Certificate.checkpoint_id.is_(None),
        )
        .values(checkpoint_id=checkpoint.id, sealed_at=now)
        .returning(Certificate.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.expire(cert, ["checkpoint_id", "sealed_at", "status"])
    return sealed is not None


def seal_waiting(signed: list[SignedCheckpoint], now: datetime) -> int:
    """After a signing: seal the issued certificates still awaiting their seal (at most
    SEAL_BATCH, oldest first); returns how many were sealed. Registered with the log by
    the app, so the job, the page, the API and the CLI that sign all seal."""
    waiting = db.session.scalars(
        sa.select(Certificate)
        .where(Certificate.status == "issued", Certificate.checkpoint_id.is_(None))
        .order_by(Certificate.id)
        .limit(SEAL_BATCH)
    ).all()
    return sum(1 for cert in waiting if try_seal(cert, now))


def certificate_seal(cert: Certificate) -> Seal | None:
    """The seal of an issued certificate, its proofs recomputed from the log now (None for
    a certificate not issued)."""
    if cert.status != "issued":
        return None
    if cert.checkpoint_id is None:
        return Seal(checkpoint=None)
    checkpoint = db.session.get(SignedCheckpoint, cert.checkpoint_id)
    note = transparency.published([checkpoint])[0].note
    try:
        bundle = transparency.inclusion_proofs(
            _entry_ids(cert), tree_size=checkpoint.tree_size, limit=None
        )
    except _CANNOT_PROVE:
        return Seal(checkpoint=checkpoint, problem="log", note=note)
    holds = bundle.verify() and transparency.checkpoint_signature_ok(checkpoint)
    return Seal(
        checkpoint=checkpoint, proofs=bundle.proofs, problem=None if holds else "proofs", note=note
    )
