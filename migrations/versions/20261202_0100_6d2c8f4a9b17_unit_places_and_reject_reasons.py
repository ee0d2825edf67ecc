"""units keep a saved place; a rejected manual credit keeps its reason

A unit (usually a community or a grid) may keep the place its activities happen at, so
an organizer picks it instead of typing coordinates. A second organizer who rejects an
award or a correction says why, and the requester reads it.

Revision ID: 6d2c8f4a9b17
Revises: 6a2c8f4d9e10
Create Date: 2026-12-02 01:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "6d2c8f4a9b17"
down_revision = "6a2c8f4d9e10"
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN: rebuilding ``units`` on SQLite would trip every foreign key to it
    op.add_column("units", sa.Column("lat", sa.Float(), nullable=True))
    op.add_column("units", sa.Column("lng", sa.Float(), nullable=True))
    op.add_column("pending_credits", sa.Column("reject_reason", sa.String(500), nullable=True))


def downgrade():
    op.drop_column("pending_credits", "reject_reason")
    op.drop_column("units", "lng")
    op.drop_column("units", "lat")
