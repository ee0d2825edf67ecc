"""``GET /readyz``: may a load balancer send traffic here? The database answers and its
schema is at the newest migration."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from timebank.core.web import page

bp = Blueprint("health", __name__)


@functools.cache
def _migration_heads(directory: str) -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@bp.route("/readyz")
@page("site.health")
def readyz():
    """200 ``{"ready": true, ...}`` or 503 naming what is wrong."""
    from timebank.extensions import db

    heads = _migration_heads(current_app.extensions["migrate"].directory)
    try:
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("readyz: database unavailable: %s", error)
        return jsonify(ready=False, database=False, migrations_at_head=False), 503
    at_head = current == heads
    body = {"ready": at_head, "database": True, "migrations_at_head": at_head}
    return jsonify(body), 200 if at_head else 503
