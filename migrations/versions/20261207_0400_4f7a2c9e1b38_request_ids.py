"""audit rows and job runs keep the request id

Each audit row and each job run records the request, job run (``job-...``) or command
(``cli-...``) that wrote it, the id its JSON log lines carry. Both columns are new and
nullable: rows written before have none. A plain ADD COLUMN (and DROP COLUMN) on both
databases, no batch rebuild: ``audit_events`` keeps its append-only triggers.

Revision ID: 4f7a2c9e1b38
Revises: 237fa035659c
Create Date: 2026-12-07 04:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "4f7a2c9e1b38"
down_revision = "237fa035659c"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("audit_events", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column("job_runs", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade():
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35+): no rebuild, the triggers stay
    op.execute("ALTER TABLE job_runs DROP COLUMN request_id")
    op.execute("ALTER TABLE audit_events DROP COLUMN request_id")
