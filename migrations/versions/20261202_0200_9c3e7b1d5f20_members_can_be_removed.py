"""members can be removed (pseudonymised)

A member who asks to be removed keeps their ledger rows (the ledger is append-only and
must stay verifiable) but loses their name, phone, password and party details: the
member row stays, with status ``removed``.

On SQLite a CHECK constraint changes only by rebuilding the table (batch mode); env.py
turns foreign keys off for the run, so dropping the old ``members`` does not cascade to
the tables that point at it, and checks every foreign key before it commits.

Revision ID: 9c3e7b1d5f20
Revises: 6d2c8f4a9b17
Create Date: 2026-12-02 02:00:00

"""

from alembic import op

revision = "9c3e7b1d5f20"
down_revision = "6d2c8f4a9b17"
branch_labels = None
depends_on = None

BEFORE = "status IN ('unverified', 'pending', 'active', 'rejected', 'suspended')"
AFTER = "status IN ('unverified', 'pending', 'active', 'rejected', 'suspended', 'removed')"


def _status_check(condition: str) -> None:
    with op.batch_alter_table("members") as batch:  # SQLite rebuilds; PostgreSQL alters
        batch.drop_constraint("status_known", type_="check")
        batch.create_check_constraint("status_known", condition)


def upgrade():
    _status_check(AFTER)


def downgrade():
    # a removed member cannot be put back as they were; they stay out as suspended
    op.execute("UPDATE members SET status = 'suspended' WHERE status = 'removed'")
    _status_check(BEFORE)
