"""Health, following Kubernetes' conventions, both JSON:

- ``GET /livez``: the process answers (nothing else is asked: a database outage must not
  get every instance restarted);
- ``GET /metrics``: Prometheus metrics, when TIMEBANK_METRICS=1 (core/metrics.py);
- ``GET /readyz``: may a load balancer send traffic here? The database answers, its
  schema is at the newest migration, and a scheduler leader renewed its lease recently.
  ``?exclude=scheduler`` leaves a check out, as Kubernetes' ``/readyz?exclude=`` does
  (an instance started before any scheduler, a benchmark).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request

from timebank.core.clock import utcnow
from timebank.core.web import page

bp = Blueprint("health", __name__)
#: a leader renews every TIMEBANK_SCHEDULER_RENEW_SECONDS; seen within two leases is recent
LEADER_SEEN_LEASES = 2


@functools.cache
def _migration_heads(directory: str) -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@bp.route("/livez")
@page("site.health")
def livez():
    """200 ``{"live": true}`` while the process can answer at all."""
    return jsonify(live=True)


@bp.route("/readyz")
@page("site.health")
def readyz():
    """200 ``{"ready": true, "database": true, "migrations_at_head": true, "scheduler":
    true}``, or 503 naming what is wrong."""
    from timebank.extensions import db

    excluded = set(request.args.getlist("exclude"))
    heads = _migration_heads(current_app.extensions["migrate"].directory)
    try:
        # a connection of the pool's, not the request's session: a probe reads two rows and
        # needs no unit of work (a session's execute and commit were a third of its price)
        with db.engine.connect() as connection:
            query = sa.text("SELECT version_num FROM alembic_version")
            current = set(connection.scalars(query))
            scheduler = "scheduler" in excluded or _leader_seen_recently(connection)
    except sa.exc.SQLAlchemyError as error:
        current_app.logger.error("readyz: database unavailable: %s", error)
        body = {"ready": False, "database": False, "migrations_at_head": False, "scheduler": False}
        return jsonify(body), 503
    at_head = current == heads
    body = {
        "ready": at_head and scheduler,
        "database": True,
        "migrations_at_head": at_head,
        "scheduler": scheduler,
    }
    return jsonify(body), 200 if body["ready"] else 503


#: the scheduler's check, registered by create_app (core knows no scheduling module)
_leader_renewed_at: Callable[[sa.Connection], datetime | None] | None = None


def register_leader_check(renewed_at: Callable[[sa.Connection], datetime | None]) -> None:
    """``renewed_at(connection)`` answers when the scheduler's leader last renewed its
    lease, read on ``connection``."""
    global _leader_renewed_at
    _leader_renewed_at = renewed_at


def _leader_seen_recently(connection: sa.Connection) -> bool:
    renewed = _leader_renewed_at(connection) if _leader_renewed_at is not None else None
    lease = current_app.config["TIMEBANK_SCHEDULER_LEASE_SECONDS"]
    recent = utcnow() - timedelta(seconds=lease * LEADER_SEEN_LEASES)
    return renewed is not None and renewed >= recent


@bp.route("/metrics")
@page("site.health")
def metrics():
    """Prometheus' text format (core/metrics.py); 404 while TIMEBANK_METRICS is off.
    Keep it off the public proxy: it is for the monitoring system."""
    from timebank.core import metrics as collected

    if not collected.enabled() or not current_app.config["TIMEBANK_METRICS"]:
        return Response("metrics are off: TIMEBANK_METRICS=1 turns them on\n", 404,
                        mimetype="text/plain")  # fmt: skip
    body, content_type = collected.exposition()
    return Response(body, content_type=content_type)
