"""reports: service certificates, members' choice to stay off public lists, and the
derived table of member flows the roll-ups read (rebuildable from the ledger) with its mark

Revision ID: 339d3f404cdc
Revises: 9c3e7b1d5f20
Create Date: 2026-12-07 03:32:57.817546

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "339d3f404cdc"
down_revision = "9c3e7b1d5f20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_first", sa.Date(), nullable=False),
        sa.Column("period_last", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("minutes_wanted", sa.Integer(), nullable=True),
        sa.Column("id_type", sa.String(length=20), nullable=True),
        sa.Column("id_number_masked", sa.String(length=40), nullable=True),
        sa.Column("volunteer_number", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("manual_minutes", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("entry_watermark", sa.BigInteger(), nullable=True),
        sa.Column("entry_ids", sa.Text(), nullable=True),
        sa.Column("issuer_name", sa.String(length=120), nullable=True),
        sa.Column("issuer_unit_id", sa.Integer(), nullable=True),
        sa.Column("responsible_person", sa.String(length=60), nullable=True),
        sa.Column("handler_name", sa.String(length=60), nullable=True),
        sa.Column("contact", sa.String(length=60), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("signature", sa.String(length=100), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'issued', 'rejected', 'revoked')",
            name=op.f("ck_certificates_status_known"),
        ),
        sa.CheckConstraint(
            "minutes IS NULL OR minutes >= 0", name=op.f("ck_certificates_minutes_not_negative")
        ),
        sa.CheckConstraint(
            "period_last >= period_first", name=op.f("ck_certificates_period_forward")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["members.id"],
            name=op.f("fk_certificates_decided_by_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issuer_unit_id"],
            ["units.id"],
            name=op.f("fk_certificates_issuer_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_certificates_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["members.id"],
            name=op.f("fk_certificates_requested_by_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_certificates_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_certificates_serial")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_certificates_unit_status", ["unit_id", "status"], unique=False)

    op.create_table(
        "list_preferences",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_list_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_list_preferences")),
    )

    op.create_table(
        "report_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_report_marks")),
    )
    op.create_table(
        "report_flows",
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=1), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("ledger", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.id"],
            name=op.f("fk_report_flows_transfer_id_transfers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("transfer_id", "side", name=op.f("pk_report_flows")),
    )
    # existing transfers are copied by the report-flows job (or `timebank reports rebuild`);
    # until then roll-ups read them from the ledger
    op.create_index(
        "ix_report_flows_unit_time",
        "report_flows",
        ["unit_id", "created_at", "ledger", "code", "side", "member_id", "amount", "transfer_id"],
    )


def downgrade():
    op.drop_index("ix_report_flows_unit_time", table_name="report_flows")
    op.drop_table("report_flows")
    op.drop_table("report_marks")
    op.drop_table("list_preferences")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_unit_status")
        batch_op.drop_index(batch_op.f("ix_certificates_member_id"))

    op.drop_table("certificates")
