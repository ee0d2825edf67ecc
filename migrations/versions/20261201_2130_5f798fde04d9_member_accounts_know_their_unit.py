"""member accounts know their unit

The ledger no longer looks members up: a member's account records the unit whose system
accounts it settles with (expiry, the donation pool) when it is opened. Member accounts
opened before this revision get their member's home unit. Accounts are a cache of the
entries, not append-only; entries and transfers are not touched.

Revision ID: 5f798fde04d9
Revises: 7a9f3c2e5d41
Create Date: 2026-12-01 21:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5f798fde04d9"
down_revision = "7a9f3c2e5d41"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE accounts SET unit_id = "
        "(SELECT home_unit_id FROM members WHERE members.id = accounts.member_id) "
        "WHERE kind = 'member'"
    )


def downgrade():
    # Before this revision only system accounts had a unit.
    op.execute("UPDATE accounts SET unit_id = NULL WHERE kind = 'member'")
