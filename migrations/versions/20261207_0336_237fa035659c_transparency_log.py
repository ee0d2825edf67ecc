"""transparency log: a Merkle tree per ledger, signed checkpoints, witnesses

One append-only Merkle log per ledger (RFC 9162 shape) whose leaves are the entries' own
hashes: ``transparency_nodes`` keeps the roots of perfect subtrees every fourth level with
the entry ids they span, ``transparency_logs`` the head of each log (a cache, recomputed by
``ledger verify``). ``transparency_checkpoints`` holds the C2SP checkpoints the deployment
signed, ``transparency_witness_keys`` the street offices' public keys and
``transparency_cosignatures`` their cosignatures. Nodes, checkpoints, keys and
cosignatures are append-only: the database refuses UPDATE and DELETE (and TRUNCATE on
PostgreSQL), as it does for the ledger.

Revision ID: 237fa035659c
Revises: 339d3f404cdc
Create Date: 2026-12-07 03:36:31

"""

import sqlalchemy as sa
from alembic import op

revision = "237fa035659c"
down_revision = "339d3f404cdc"
branch_labels = None
depends_on = None

APPEND_ONLY = (
    "transparency_nodes",
    "transparency_checkpoints",
    "transparency_witness_keys",
    "transparency_cosignatures",
)


def upgrade():
    op.create_table(
        "transparency_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ledger", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "tree_size > 0", name=op.f("ck_transparency_checkpoints_tree_size_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_checkpoints")),
        sa.UniqueConstraint(
            "ledger", "tree_size", name=op.f("uq_transparency_checkpoints_ledger_tree_size")
        ),
    )
    with op.batch_alter_table("transparency_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transparency_checkpoints_signed_at"), ["signed_at"], unique=False
        )

    op.create_table(
        "transparency_logs",
        sa.Column("ledger", sa.String(length=10), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ledger", name=op.f("pk_transparency_logs")),
    )
    op.create_table(
        "transparency_nodes",
        sa.Column("ledger", sa.String(length=10), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("first_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("level > 0", name=op.f("ck_transparency_nodes_level_positive")),
        sa.PrimaryKeyConstraint("ledger", "level", "idx", name=op.f("pk_transparency_nodes")),
    )
    with op.batch_alter_table("transparency_nodes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transparency_nodes_entry",
            ["ledger", "last_entry_id"],
            unique=False,
            postgresql_where=sa.text("level = 4"),
            sqlite_where=sa.text("level = 4"),
        )

    op.create_table(
        "transparency_witness_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_transparency_witness_keys_created_by_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_transparency_witness_keys_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_witness_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_transparency_witness_keys_public_key")),
    )
    with op.batch_alter_table("transparency_witness_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transparency_witness_keys_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "transparency_cosignatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("witness_key_id", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=120), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["transparency_checkpoints.id"],
            name=op.f("fk_transparency_cosignatures_checkpoint_id_transparency_checkpoints"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_transparency_cosignatures_created_by_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["witness_key_id"],
            ["transparency_witness_keys.id"],
            name=op.f("fk_transparency_cosignatures_witness_key_id_transparency_witness_keys"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_cosignatures")),
        sa.UniqueConstraint(
            "checkpoint_id",
            "witness_key_id",
            name=op.f("uq_transparency_cosignatures_checkpoint_id_witness_key_id"),
        ),
    )
    with op.batch_alter_table("transparency_cosignatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transparency_cosignatures_checkpoint_id"),
            ["checkpoint_id"],
            unique=False,
        )

    _append_only_triggers()


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION timebank_transparency_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'timebank: % on % is refused: the transparency log is append-only',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION timebank_transparency_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION timebank_transparency_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'timebank: {action} on {table} is refused: "
                "the transparency log is append-only'); END"
            )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS timebank_transparency_append_only()")
        return
    for table in APPEND_ONLY:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def downgrade():
    _drop_append_only_triggers()
    with op.batch_alter_table("transparency_cosignatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transparency_cosignatures_checkpoint_id"))

    op.drop_table("transparency_cosignatures")
    with op.batch_alter_table("transparency_witness_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transparency_witness_keys_unit_id"))

    op.drop_table("transparency_witness_keys")
    with op.batch_alter_table("transparency_nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_transparency_nodes_entry")

    op.drop_table("transparency_nodes")
    op.drop_table("transparency_logs")
    with op.batch_alter_table("transparency_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transparency_checkpoints_signed_at"))

    op.drop_table("transparency_checkpoints")
