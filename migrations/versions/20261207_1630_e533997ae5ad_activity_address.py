"""activities say where they happen, in words

``activities.address``: where to meet, as a volunteer reads it (上坎社区活动室，幸福路12号);
the coordinates beside it only judge how far a scan was. Activities published before this
revision have none ("" ): their pages name the community instead.

Revision ID: e533997ae5ad
Revises: 8d2e4b6a1c57
Create Date: 2026-12-07 16:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e533997ae5ad"
down_revision = "8d2e4b6a1c57"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("address")
