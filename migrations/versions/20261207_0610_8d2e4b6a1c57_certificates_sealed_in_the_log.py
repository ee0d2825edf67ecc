"""certificates are sealed in the transparency log

A certificate carries the signed checkpoint of the HOURS log it was sealed under
(``certificates.checkpoint_id``, NULL while it awaits one) and when (``sealed_at``); its
inclusion proofs are recomputed from the log against that checkpoint, so nothing else is
stored. Certificates issued before this revision await their seal: the next checkpoint
signed (the job, or on demand) seals them.

Revision ID: 8d2e4b6a1c57
Revises: 5f1a7c3e9b42
Create Date: 2026-12-07 06:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "8d2e4b6a1c57"
down_revision = "5f1a7c3e9b42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkpoint_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sealed_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_certificates_checkpoint_id"), ["checkpoint_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_checkpoint_id_transparency_checkpoints"),
            "transparency_checkpoints",
            ["checkpoint_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_certificates_checkpoint_id_transparency_checkpoints"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_certificates_checkpoint_id"))
        batch_op.drop_column("sealed_at")
        batch_op.drop_column("checkpoint_id")
