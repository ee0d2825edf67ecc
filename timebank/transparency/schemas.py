"""Schemas of the transparency log's endpoints. Hashes travel as base64, as in C2SP
checkpoints; an entry's own hash as the hex the ledger stores."""

from __future__ import annotations

from marshmallow import fields, validate

from timebank.core.schemas import Id, StrictSchema
from timebank.ledger.models import LEDGERS
from timebank.transparency.merkle import b64
from timebank.transparency.operations import MAX_ENTRIES

#: the largest tree size a request may name (PostgreSQL's and SQLite's BIGINT hold it)
MAX_SIZE = 2**62


def Size(*, least: int = 0, **kwargs) -> fields.Integer:  # noqa: N802 - reads like a field
    """A tree size from a query string: a whole number from ``least`` to MAX_SIZE."""
    return fields.Integer(validate=validate.Range(min=least, max=MAX_SIZE), **kwargs)


class LedgerArgs(StrictSchema):
    ledger = fields.String(load_default="HOURS", validate=validate.OneOf(LEDGERS))


class CheckpointListArgs(LedgerArgs):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))
    before = Size(metadata={"description": "only checkpoints smaller than this tree size"})


class InclusionArgs(StrictSchema):
    entry = fields.List(
        Id(strict=False), required=True, validate=validate.Length(min=1, max=MAX_ENTRIES),
        metadata={"description": "entry ids (one ledger's), repeated: ?entry=1&entry=2"},
    )  # fmt: skip
    size = Size(
        least=1,
        metadata={"description": "the signed checkpoint's tree size; default the newest"},
    )


class ConsistencyArgs(LedgerArgs):
    from_ = Size(data_key="from", required=True)
    to = Size(required=True)


class Base64(fields.Field):
    """Bytes out as base64 text."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else b64(value)


class CosignerSchema(StrictSchema):
    unit_id = fields.Integer()
    unit_name = fields.String(metadata={"description": "the street office"})
    name = fields.String(metadata={"description": "the cosigner's key name in the note"})
    key_id = fields.String(metadata={"description": "hex C2SP key id (type 0x04)"})
    public_key = fields.String(metadata={"description": "Ed25519, base64"})
    timestamp = fields.Integer(metadata={"description": "POSIX seconds, signed with it"})


class PublishedCheckpointSchema(StrictSchema):
    id = fields.Integer(attribute="checkpoint.id")
    ledger = fields.String(attribute="checkpoint.ledger")
    origin = fields.String(attribute="checkpoint.origin")
    tree_size = fields.Integer(attribute="checkpoint.tree_size")
    root_hash = fields.Method("_root")
    signed_at = fields.DateTime(attribute="checkpoint.signed_at")
    note = fields.String(metadata={"description": "the C2SP signed note, cosignatures included"})
    cosigners = fields.List(fields.Nested(CosignerSchema))

    def _root(self, obj) -> str:
        return b64(bytes.fromhex(obj.checkpoint.root_hash))


class HeadSchema(StrictSchema):
    ledger = fields.String()
    tree_size = fields.Integer()
    root_hash = Base64(metadata={"description": "recomputed from the stored tree, base64"})


class InclusionItemSchema(StrictSchema):
    entry_id = fields.Integer()
    entry_hash = fields.String(metadata={"description": "the entry's stored SHA-256, hex"})
    leaf_index = fields.Integer()
    leaf_hash = Base64()
    path = fields.List(Base64(), metadata={"description": "RFC 9162 audit path, base64"})


class InclusionSchema(StrictSchema):
    ledger = fields.String()
    tree_size = fields.Integer(attribute="checkpoint.tree_size")
    checkpoint = fields.String(attribute="checkpoint.note")
    proofs = fields.List(fields.Nested(InclusionItemSchema))


class ConsistencySchema(StrictSchema):
    ledger = fields.String()
    from_ = fields.Integer(data_key="from", attribute="old_size")
    to = fields.Integer(attribute="new_size")
    proof = fields.List(Base64(), attribute="path")


class SignedSchema(StrictSchema):
    signed = fields.List(fields.Nested(PublishedCheckpointSchema))


class WitnessKeyInSchema(StrictSchema):
    public_key = fields.String(
        required=True, validate=validate.Length(min=40, max=60),
        metadata={"description": "the street office's Ed25519 public key, 32 bytes base64"},
    )  # fmt: skip


class WitnessKeySchema(StrictSchema):
    id = fields.Integer()
    unit_id = fields.Integer()
    name = fields.String()
    public_key = fields.String()
    key_id = fields.String()
    created_at = fields.DateTime()


class CosignatureInSchema(StrictSchema):
    checkpoint_id = Id(metadata={"description": "the checkpoint cosigned"}, required=True)
    signature = fields.String(
        required=True, validate=validate.Length(min=1, max=400),
        metadata={"description": "the cosignature line, or its base64 value"},
    )  # fmt: skip


class CosignatureSchema(StrictSchema):
    id = fields.Integer()
    checkpoint_id = fields.Integer()
    witness_key_id = fields.Integer()
    timestamp = fields.Integer()
    signature = fields.String()
