"""The migrations give exactly the models' schema (no drift), on the test database, and
move existing data as they say."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests import factories
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Account, Entry, Transfer

# Alembic migrates on a connection of its own, which must see the test's rows.
pytestmark = pytest.mark.concurrent


def test_upgrade_matches_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff


#: the revision before member accounts knew their unit
BEFORE_ACCOUNT_UNITS = "7a9f3c2e5d41"


def _accounts() -> dict[int, tuple]:
    rows = db.session.execute(sa.select(Account.id, Account.kind, Account.unit_id)).all()
    db.session.commit()  # end the read: on SQLite it holds the write lock the migration needs
    return {account_id: (kind, unit_id) for account_id, kind, unit_id in rows}


def _append_only_rows() -> list:
    rows = [
        db.session.execute(sa.select(table).order_by(table.c.id)).all()
        for table in (Transfer.__table__, Entry.__table__)
    ]
    db.session.commit()
    return rows


def test_member_accounts_get_their_members_home_unit(app):
    """Member accounts opened before accounts knew their unit get the member's home unit;
    system accounts keep theirs; transfers and entries are not touched."""
    d = factories.create_district()
    alice = factories.create_member(d["building_a"])
    bob = factories.create_member(d["b"])
    for n, member in enumerate((alice, bob), start=1):
        ledger.credit_from_evidence(
            member_id=member.id,
            member_unit_id=member.home_unit_id,
            unit_id=d["a"].id,
            minutes=60,
            points=10,
            code="earn_checkin",
            reference_type="attendance",
            reference_id=str(n),
            idempotency_key=f"attendance:{n}",
            actor_id=None,
        )
    homes = {
        ledger.member_account(m.id, name, unit_id=m.home_unit_id).id: m.home_unit_id
        for m in (alice, bob)
        for name in ("HOURS", "POINTS")
    }
    db.session.commit()
    history = _append_only_rows()

    downgrade(revision=BEFORE_ACCOUNT_UNITS)
    before = _accounts()
    # as the code before this revision left them: member accounts without a unit
    assert {before[a] for a in homes} == {("member", None)}
    upgrade()

    after = _accounts()
    assert {a: after[a] for a in homes} == {a: ("member", unit) for a, unit in homes.items()}
    assert after[ledger.system_account(d["a"].id, "HOURS", "issuance").id] == (
        "issuance",
        d["a"].id,
    )
    assert {a: row for a, row in after.items() if a not in homes} == {
        a: row for a, row in before.items() if a not in homes
    }
    assert _append_only_rows() == history
