"""guardianships are confirmed

An organizer could appoint themselves guardian of any resident and then move the
resident's hours. A guardianship now starts pending and acts only once the member (or,
for a member without a phone, a second organizer) confirms it. Guardianships made before
this revision were set up by organizers under the old rule and stay active.

Revision ID: 8e1f6b3a0c52
Revises: c4d2a9e1b7f3
Create Date: 2026-12-01 23:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "8e1f6b3a0c52"
down_revision = "c4d2a9e1b7f3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("guardianships") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_guardianships_requested_by_id_members"),
            "members",
            ["requested_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            batch.f("fk_guardianships_decided_by_id_members"),
            "members",
            ["decided_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint("status_known", "status IN ('pending', 'active', 'declined')")
    with op.batch_alter_table("guardianships") as batch:
        batch.alter_column("status", server_default=None)


def downgrade():
    with op.batch_alter_table("guardianships") as batch:
        batch.drop_constraint("status_known", type_="check")
        batch.drop_constraint(batch.f("fk_guardianships_decided_by_id_members"), type_="foreignkey")
        batch.drop_constraint(
            batch.f("fk_guardianships_requested_by_id_members"), type_="foreignkey"
        )
        batch.drop_column("decided_at")
        batch.drop_column("decided_by_id")
        batch.drop_column("requested_by_id")
        batch.drop_column("status")
