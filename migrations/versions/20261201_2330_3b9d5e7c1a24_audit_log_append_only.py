"""audit log: append-only, with target, before and after, and the address

Every privileged act leaves an audit row that nobody can change: the database refuses
UPDATE and DELETE (and TRUNCATE on PostgreSQL), as it does for the ledger. Members are
never deleted (removal pseudonymises them), so the foreign keys restrict.

Revision ID: 3b9d5e7c1a24
Revises: 8e1f6b3a0c52
Create Date: 2026-12-01 23:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3b9d5e7c1a24"
down_revision = "8e1f6b3a0c52"
branch_labels = None
depends_on = None

MEMBER_COLUMNS = ("actor_id", "on_behalf_of_id", "subject_member_id")


def _foreign_keys(batch, ondelete: str) -> None:
    for column in MEMBER_COLUMNS:
        name = batch.f(f"fk_audit_events_{column}_members")
        batch.drop_constraint(name, type_="foreignkey")
        batch.create_foreign_key(name, "members", [column], ["id"], ondelete=ondelete)


def upgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("target", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("before", sa.Text(), nullable=True))
        batch.add_column(sa.Column("after", sa.Text(), nullable=True))
        batch.add_column(sa.Column("ip", sa.String(length=45), nullable=True))
        _foreign_keys(batch, "RESTRICT")
        batch.create_index(batch.f("ix_audit_events_target"), ["target"], unique=False)
        batch.create_index(batch.f("ix_audit_events_created_at"), ["created_at"], unique=False)
        batch.create_index("ix_audit_events_action_created_at", ["action", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION timebank_audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'timebank: % on % is refused: the audit log is append-only',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION timebank_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION timebank_audit_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, 'timebank: {action} on audit_events is refused: "
                "the audit log is append-only'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS timebank_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_action_created_at")
        batch.drop_index(batch.f("ix_audit_events_created_at"))
        batch.drop_index(batch.f("ix_audit_events_target"))
        _foreign_keys(batch, "SET NULL")
        batch.drop_column("ip")
        batch.drop_column("after")
        batch.drop_column("before")
        batch.drop_column("target")
