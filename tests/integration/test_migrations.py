"""The migrations give exactly the models' schema (no drift), on the test database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from timebank.extensions import db


def test_upgrade_matches_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff
