"""The transparency log: one append-only Merkle tree per ledger over its entries' hashes,
the checkpoints the deployment signed, and the street offices' witness keys and
cosignatures.

The leaves are the entries' own stored hashes, in entry-id order, so the log copies no
leaf: it stores the roots of the perfect subtrees every ``STRIDE`` levels (16 leaves,
4,096, ...) with the entry ids they span, and a head per ledger. Nodes, checkpoints,
witness keys and cosignatures are append-only: the database refuses UPDATE and DELETE.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.extensions import db

#: subtree roots are stored at levels STRIDE, 2·STRIDE, ...; a node in between is hashed
#: from at most 2^(STRIDE-1) stored ones, a node below STRIDE from the entries
STRIDE = 4


class LogHead(db.Model):
    """How far one ledger's log reaches: its size, last entry and root. A cache of the
    nodes and the entries, kept under this row's lock by the one appender; ``ledger
    verify`` recomputes it."""

    __tablename__ = "transparency_logs"

    #: HOURS or POINTS: one log per ledger
    ledger: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    #: leaves appended so far (entries of this ledger with id <= last_entry_id)
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: the newest entry appended; 0 before the first
    last_entry_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: hex root hash of the ``size`` leaves
    root_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: when the last append happened
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<LogHead {self.ledger} size={self.size} last_entry={self.last_entry_id}>"


class LogNode(db.Model):
    """The root of one perfect subtree of a ledger's log, at a level that is a multiple of
    STRIDE, written once when its last leaf is appended."""

    __tablename__ = "transparency_nodes"
    __table_args__ = (
        sa.CheckConstraint("level > 0", name="level_positive"),
        # which block of 16 leaves holds an entry; partial, so that a lookup of nodes by
        # (level, idx) is never planned through it (it must use the primary key)
        sa.Index(
            "ix_transparency_nodes_entry",
            "ledger",
            "last_entry_id",
            postgresql_where=sa.text(f"level = {STRIDE}"),
            sqlite_where=sa.text(f"level = {STRIDE}"),
        ),  # fmt: skip
    )

    #: HOURS or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    #: height above the leaves (STRIDE, 2·STRIDE, ...)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    #: position among the nodes of its level: it covers leaves [idx·2^level, (idx+1)·2^level)
    idx: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    #: SHA-256 Merkle hash of those leaves (32 bytes)
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32), nullable=False)
    #: the entry id of its first leaf
    first_entry_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: the entry id of its last leaf
    last_entry_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)

    def __repr__(self) -> str:
        return f"<LogNode {self.ledger} L{self.level} #{self.idx}>"


class SignedCheckpoint(db.Model):
    """A C2SP tlog-checkpoint of one ledger's log, signed with the deployment's Ed25519
    key: origin, tree size and root, then the signature line."""

    __tablename__ = "transparency_checkpoints"
    __table_args__ = (
        sa.UniqueConstraint("ledger", "tree_size"),
        sa.CheckConstraint("tree_size > 0", name="tree_size_positive"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: HOURS or POINTS
    ledger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: the log's origin line, e.g. timebank.example.org/hours
    origin: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: leaves covered
    tree_size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: hex root hash of those leaves
    root_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: the signed note: checkpoint body, a blank line, the deployment's signature line
    note: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: hex C2SP key id of the key that signed it
    key_id: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    #: when it was signed (server clock)
    signed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, index=True, nullable=False, default=utcnow
    )

    @property
    def body(self) -> str:
        """The checkpoint text that was signed (origin, size, root, each with its newline)."""
        return self.note.split("\n\n", 1)[0] + "\n"

    def __repr__(self) -> str:
        return f"<SignedCheckpoint {self.id} {self.ledger} size={self.tree_size}>"


class WitnessKey(db.Model):
    """A street office's Ed25519 public key for cosigning checkpoints. The private key
    stays in the office's browser (WebCrypto, not extractable): the server never holds it."""

    __tablename__ = "transparency_witness_keys"

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the street office (a root unit) that holds the private key
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the cosigner's name in signature lines, e.g. timebank.example.org/witness/1
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: the 32-byte public key, base64
    public_key: Mapped[str] = mapped_column(sa.String(44), unique=True, nullable=False)
    #: hex C2SP cosignature key id (SHA-256 of name, newline, 0x04, key; first 4 bytes)
    key_id: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    #: who registered it (NULL: the CLI or the demo)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: when it was registered; the newest key of a unit is the one it signs with
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<WitnessKey {self.id} unit={self.unit_id} {self.key_id}>"


class Cosignature(db.Model):
    """A street office's C2SP cosignature/v1 of a signed checkpoint: it saw this tree
    head, consistent with every one it saw before."""

    __tablename__ = "transparency_cosignatures"
    __table_args__ = (sa.UniqueConstraint("checkpoint_id", "witness_key_id"),)

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the checkpoint cosigned
    checkpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transparency_checkpoints.id", ondelete="RESTRICT"), index=True,
        nullable=False,
    )  # fmt: skip
    #: the key that signed it
    witness_key_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transparency_witness_keys.id", ondelete="RESTRICT"), nullable=False
    )
    #: the POSIX time in the cosignature (signed with it)
    timestamp: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: base64 of key id, timestamp and Ed25519 signature: the signature line's value
    signature: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: who uploaded it (NULL: the CLI or the demo)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: when it was recorded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Cosignature {self.id} checkpoint={self.checkpoint_id} key={self.witness_key_id}>"
