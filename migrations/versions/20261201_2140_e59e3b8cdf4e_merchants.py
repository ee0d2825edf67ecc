"""merchants

Merchants in units, their offers (and the units an offer is restricted to), redemptions
at the counter (one per redeem code: unique on member and code step; each holds the
member's points through a ledger hold) and monthly statements. Merchant staff's roles now
point at their merchant (a foreign key on role_assignments.merchant_id).

Revision ID: e59e3b8cdf4e
Revises: 38a8423ae9c2
Create Date: 2026-12-01 21:40:15.726514

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e59e3b8cdf4e"
down_revision = "38a8423ae9c2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "merchants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("opening_hours", sa.String(length=120), nullable=False),
        sa.Column("contact_name", sa.String(length=60), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "category IN ('grocery', 'barber', 'pharmacy', 'supermarket', 'restaurant', 'repair', 'other')",
            name=op.f("ck_merchants_category_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'suspended')",
            name=op.f("ck_merchants_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_merchants_created_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["members.id"],
            name=op.f("fk_merchants_decided_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["members.id"],
            name=op.f("fk_merchants_owner_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_merchants_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
        sa.UniqueConstraint("unit_id", "name", name=op.f("uq_merchants_unit_id_name")),
    )
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchants_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_merchants_decided_by_id"), ["decided_by_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_merchants_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_merchants_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("points_cost", sa.Integer(), nullable=False),
        sa.Column("benefit", sa.String(length=10), nullable=False),
        sa.Column("discount_fen", sa.Integer(), nullable=True),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("cap_fen", sa.Integer(), nullable=True),
        sa.Column("item_name", sa.String(length=120), nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("budget_points", sa.Integer(), nullable=True),
        sa.Column("per_member_daily", sa.Integer(), nullable=True),
        sa.Column("per_member_monthly", sa.Integer(), nullable=True),
        sa.Column("min_service_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "(benefit = 'discount' AND discount_fen > 0) OR (benefit = 'percent' AND percent_off BETWEEN 1 AND 100 AND cap_fen > 0) OR (benefit = 'item' AND item_name IS NOT NULL)",
            name=op.f("ck_offers_benefit_complete"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'withdrawn')", name=op.f("ck_offers_status_known")
        ),
        sa.CheckConstraint(
            "(stock IS NULL OR stock > 0) AND (budget_points IS NULL OR budget_points > 0) AND (per_member_daily IS NULL OR per_member_daily > 0) AND (per_member_monthly IS NULL OR per_member_monthly > 0) AND min_service_minutes >= 0",
            name=op.f("ck_offers_limits_positive"),
        ),
        sa.CheckConstraint("points_cost > 0", name=op.f("ck_offers_cost_positive")),
        sa.CheckConstraint("valid_until > valid_from", name=op.f("ck_offers_validity_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_offers_created_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_offers_merchant_id_merchants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offers_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index("ix_offers_merchant_status", ["merchant_id", "status"], unique=False)

    op.create_table(
        "merchant_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("points_refunded", sa.BigInteger(), nullable=False),
        sa.Column("points_net", sa.BigInteger(), nullable=False),
        sa.Column("point_value_fen", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("payment_reference", sa.String(length=120), nullable=True),
        sa.Column("settle_transfer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status <> 'paid' OR paid_at IS NOT NULL",
            name=op.f("ck_merchant_statements_paid_has_a_date"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'paid')", name=op.f("ck_merchant_statements_status_known")
        ),
        sa.CheckConstraint(
            "amount_fen = points_net * point_value_fen",
            name=op.f("ck_merchant_statements_amount_adds_up"),
        ),
        sa.CheckConstraint(
            "points_net = points_redeemed - points_refunded",
            name=op.f("ck_merchant_statements_net_adds_up"),
        ),
        sa.CheckConstraint(
            "points_net >= 0 AND points_refunded >= 0",
            name=op.f("ck_merchant_statements_points_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_statements_merchant_id_merchants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"],
            ["members.id"],
            name=op.f("fk_merchant_statements_paid_by_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["settle_transfer_id"],
            ["transfers.id"],
            name=op.f("fk_merchant_statements_settle_transfer_id_transfers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_merchant_statements_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_statements")),
        sa.UniqueConstraint(
            "merchant_id",
            "period_start",
            name=op.f("uq_merchant_statements_merchant_id_period_start"),
        ),
        sa.UniqueConstraint(
            "settle_transfer_id", name=op.f("uq_merchant_statements_settle_transfer_id")
        ),
    )
    with op.batch_alter_table("merchant_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_statements_paid_by_id"), ["paid_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_merchant_statements_period_start"), ["period_start"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_merchant_statements_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "offer_units",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_offer_units_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_offer_units_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("offer_id", "unit_id", name=op.f("pk_offer_units")),
    )
    with op.batch_alter_table("offer_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_units_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("code_step", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("refund_transfer_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("refunded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("refunded_at", sa.DateTime(), nullable=True),
        sa.Column("refund_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "status <> 'refunded' OR refund_transfer_id IS NOT NULL",
            name=op.f("ck_redemptions_refund_has_transfer"),
        ),
        sa.CheckConstraint(
            "status IN ('held', 'confirmed', 'voided', 'expired', 'refunded')",
            name=op.f("ck_redemptions_status_known"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('confirmed', 'refunded') OR transfer_id IS NOT NULL",
            name=op.f("ck_redemptions_confirmed_has_transfer"),
        ),
        sa.CheckConstraint("points > 0", name=op.f("ck_redemptions_points_positive")),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["holds.id"],
            name=op.f("fk_redemptions_hold_id_holds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_redemptions_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_redemptions_merchant_id_merchants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_redemptions_offer_id_offers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["refund_transfer_id"],
            ["transfers.id"],
            name=op.f("fk_redemptions_refund_transfer_id_transfers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["refunded_by_id"],
            ["members.id"],
            name=op.f("fk_redemptions_refunded_by_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["members.id"],
            name=op.f("fk_redemptions_resolved_by_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["members.id"],
            name=op.f("fk_redemptions_staff_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.id"],
            name=op.f("fk_redemptions_transfer_id_transfers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_redemptions_hold_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_redemptions_idempotency_key")),
        sa.UniqueConstraint(
            "member_id", "code_step", name=op.f("uq_redemptions_member_id_code_step")
        ),
        sa.UniqueConstraint("refund_transfer_id", name=op.f("uq_redemptions_refund_transfer_id")),
        sa.UniqueConstraint("transfer_id", name=op.f("uq_redemptions_transfer_id")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_redemptions_merchant_created", ["merchant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_redemptions_offer_member_created",
            ["offer_id", "member_id", "created_at"],
            unique=False,
        )
        batch_op.create_index("ix_redemptions_offer_status", ["offer_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_redemptions_refunded_by_id"), ["refunded_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_redemptions_resolved_by_id"), ["resolved_by_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_redemptions_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(
            "ix_redemptions_status_expires_at", ["status", "expires_at"], unique=False
        )

    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_assignments_merchant_id"), ["merchant_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_role_assignments_merchant_id_merchants"),
            "merchants",
            ["merchant_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    create_guard_triggers()


def downgrade():
    drop_guard_triggers()
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_role_assignments_merchant_id_merchants"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_role_assignments_merchant_id"))

    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_redemptions_staff_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_resolved_by_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_refunded_by_id"))
        batch_op.drop_index("ix_redemptions_offer_status")
        batch_op.drop_index("ix_redemptions_offer_member_created")
        batch_op.drop_index("ix_redemptions_merchant_created")

    op.drop_table("redemptions")
    with op.batch_alter_table("offer_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_units_unit_id"))

    op.drop_table("offer_units")
    with op.batch_alter_table("merchant_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_statements_unit_id"))
        batch_op.drop_index(batch_op.f("ix_merchant_statements_period_start"))
        batch_op.drop_index(batch_op.f("ix_merchant_statements_paid_by_id"))

    op.drop_table("merchant_statements")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_merchant_status")
        batch_op.drop_index(batch_op.f("ix_offers_created_by_id"))

    op.drop_table("offers")
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchants_unit_id"))
        batch_op.drop_index(batch_op.f("ix_merchants_owner_id"))
        batch_op.drop_index(batch_op.f("ix_merchants_decided_by_id"))
        batch_op.drop_index(batch_op.f("ix_merchants_created_by_id"))

    op.drop_table("merchants")


#: what the database refuses, whatever the code does: (trigger, table, SQLite condition)
GUARDS = (
    ("merchant_statements_no_delete", "DELETE ON merchant_statements", "1"),
    ("merchant_statements_paid_frozen", "UPDATE ON merchant_statements", "OLD.status = 'paid'"),
    ("redemptions_no_delete", "DELETE ON redemptions", "1"),
    (
        "redemptions_facts_frozen",
        "UPDATE OF merchant_id, offer_id, member_id, code_step, points, idempotency_key "
        "ON redemptions",
        "1",
    ),
    (
        "redemptions_final_frozen",
        "UPDATE ON redemptions",
        "OLD.status IN ('voided', 'expired', 'refunded')",
    ),
)

_PG_GUARDS = {
    "merchant_statements": """
        IF TG_OP = 'DELETE' OR OLD.status = 'paid' THEN
            RAISE EXCEPTION 'timebank: % of a statement is refused (paid ones never change)',
                TG_OP USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;""",
    "redemptions": """
        IF TG_OP = 'DELETE' OR OLD.status IN ('voided', 'expired', 'refunded')
           OR (NEW.merchant_id, NEW.offer_id, NEW.member_id, NEW.code_step, NEW.points,
               NEW.idempotency_key)
              IS DISTINCT FROM (OLD.merchant_id, OLD.offer_id, OLD.member_id, OLD.code_step,
               OLD.points, OLD.idempotency_key) THEN
            RAISE EXCEPTION 'timebank: % of a redemption''s facts or final state is refused',
                TG_OP USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;""",
}


def create_guard_triggers():
    """A paid statement never changes; a redemption's facts (who, what, which code, how
    many points) and its final states never change; neither is ever deleted."""
    if op.get_bind().dialect.name == "postgresql":
        for table, body in _PG_GUARDS.items():
            op.execute(
                f"CREATE FUNCTION timebank_{table}_guard() RETURNS trigger AS $$ "
                f"BEGIN {body} END; $$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION timebank_{table}_guard()"
            )
        return
    for name, event, condition in GUARDS:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event} WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, 'timebank: {name} refused the change'); END"
        )


def drop_guard_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in _PG_GUARDS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS timebank_{table}_guard()")
        return
    for name, _event, _condition in GUARDS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
