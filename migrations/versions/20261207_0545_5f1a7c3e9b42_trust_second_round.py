"""staff accept invitations; nobody takes their own wish; passwords chosen at verification

A shop's owner no longer hands out the merchant-staff role by phone: the member invited
answers an invitation (``merchant_staff_invitations``, one per shop and member, sent
again by updating it) and holds the role once they accept.

A small wish is taken by someone other than the resident who made it
(``ck_needs_taker_not_resident``); a wish a resident took themself before this revision
loses its taker (and is open again if it was still under way), or the constraint could
not be added.

A registration no longer carries a password: whoever proves the phone chooses it when
the code comes back, so ``phone_verifications.password_hash`` goes (a registration
waiting for its code when this runs is asked for a password at verification).

On SQLite a CHECK constraint changes only by rebuilding the table (batch mode).

Revision ID: 5f1a7c3e9b42
Revises: 4f7a2c9e1b38
Create Date: 2026-12-07 05:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5f1a7c3e9b42"
down_revision = "4f7a2c9e1b38"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "merchant_staff_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'withdrawn')",
            name=op.f("ck_merchant_staff_invitations_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["members.id"],
            name=op.f("fk_merchant_staff_invitations_invited_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_merchant_staff_invitations_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_staff_invitations_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_staff_invitations")),
        sa.UniqueConstraint(
            "merchant_id",
            "member_id",
            name=op.f("uq_merchant_staff_invitations_merchant_id_member_id"),
        ),
    )
    with op.batch_alter_table("merchant_staff_invitations", schema=None) as batch_op:
        for column in ("invited_by_id", "member_id", "merchant_id"):
            batch_op.create_index(
                batch_op.f(f"ix_merchant_staff_invitations_{column}"), [column], unique=False
            )
    op.execute(
        "UPDATE needs SET status = 'open' "
        "WHERE taker_id IS NOT NULL AND taker_id = resident_id AND status = 'accepted'"
    )
    op.execute("UPDATE needs SET taker_id = NULL WHERE taker_id = resident_id")
    with op.batch_alter_table("needs") as batch_op:  # SQLite rebuilds; PostgreSQL alters
        batch_op.create_check_constraint(
            "taker_not_resident", "taker_id IS NULL OR taker_id <> resident_id"
        )
    with op.batch_alter_table("phone_verifications") as batch_op:
        batch_op.drop_column("password_hash")


def downgrade():
    with op.batch_alter_table("phone_verifications") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
    with op.batch_alter_table("needs") as batch_op:
        batch_op.drop_constraint("taker_not_resident", type_="check")
    with op.batch_alter_table("merchant_staff_invitations", schema=None) as batch_op:
        for column in ("invited_by_id", "member_id", "merchant_id"):
            batch_op.drop_index(batch_op.f(f"ix_merchant_staff_invitations_{column}"))
    op.drop_table("merchant_staff_invitations")
