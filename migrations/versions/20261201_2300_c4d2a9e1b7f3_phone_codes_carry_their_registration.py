"""phone codes carry their registration

A second registration of the same phone used to overwrite the first one's name, unit and
password before anyone had proved the phone. A code now carries the details of the
registration it was sent for (and a purpose: join, or login for a first login or a new
password); they are applied only when that code comes back. Attempts are bounded by the
database (five), so a lost update cannot let more guesses through.

Revision ID: c4d2a9e1b7f3
Revises: e59e3b8cdf4e
Create Date: 2026-12-01 23:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d2a9e1b7f3"
down_revision = "e59e3b8cdf4e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("phone_verifications") as batch:
        batch.add_column(
            sa.Column("purpose", sa.String(length=10), nullable=False, server_default="join")
        )
        batch.add_column(sa.Column("name", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_phone_verifications_unit_id_units"),
            "units",
            ["unit_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_check_constraint("purpose_known", "purpose IN ('join', 'login')")
        batch.create_check_constraint("attempts_bounded", "attempts >= 0 AND attempts <= 5")
    with op.batch_alter_table("phone_verifications") as batch:
        batch.alter_column("purpose", server_default=None)


def downgrade():
    with op.batch_alter_table("phone_verifications") as batch:
        batch.drop_constraint("attempts_bounded", type_="check")
        batch.drop_constraint("purpose_known", type_="check")
        batch.drop_constraint(batch.f("fk_phone_verifications_unit_id_units"), type_="foreignkey")
        batch.drop_column("password_hash")
        batch.drop_column("unit_id")
        batch.drop_column("name")
        batch.drop_column("purpose")
