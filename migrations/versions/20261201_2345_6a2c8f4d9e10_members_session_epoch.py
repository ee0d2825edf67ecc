"""members: session epoch

Changing a password, or "log out everywhere", raises the member's epoch: every page
session made before it stops working (and every bearer token is revoked).

Revision ID: 6a2c8f4d9e10
Revises: 3b9d5e7c1a24
Create Date: 2026-12-01 23:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "6a2c8f4d9e10"
down_revision = "3b9d5e7c1a24"
branch_labels = None
depends_on = None


# Plain ALTER TABLE (no batch copy): SQLite cannot drop and rebuild ``members`` while the
# other tables' foreign keys point at it.


def upgrade():
    op.add_column(
        "members", sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade():
    op.drop_column("members", "session_epoch")
