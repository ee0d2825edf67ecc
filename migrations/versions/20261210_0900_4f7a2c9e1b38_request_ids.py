"""audit rows and job runs keep the request id

Each audit row and each job run records the request, job run (``job-...``) or command
(``cli-...``) that wrote it, the id its JSON log lines carry. Both columns are new and
nullable: rows written before have none. A plain ADD COLUMN on both databases (no batch
rebuild: ``audit_events`` keeps its append-only triggers).

Revision ID: 4f7a2c9e1b38
Revises: 9c3e7b1d5f20
Create Date: 2026-12-10 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "4f7a2c9e1b38"
down_revision = "9c3e7b1d5f20"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("audit_events", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column("job_runs", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("request_id")
    # SQLite cannot drop a column of a table with triggers in place without a rebuild,
    # which would lose them: audit_events keeps the column on a downgrade there
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column("audit_events", "request_id")
