"""Alerts: rows admins see on their home page until one of them resolves it, each also
written to the log at ERROR when raised."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.scheduling.errors import AlertNotFound
from timebank.scheduling.models import Alert

logger = logging.getLogger("timebank.alerts")
#: session.info key: alerts raised in this transaction (the job runner reports them)
RAISED = "timebank_alerts_raised"

ALERT_KINDS = ("ledger_verify_failed", "job_failed")
RESOLUTION_MAX = 500


def raise_alert(
    kind: str, key: str, message: str, *, now: datetime | None = None, log: bool = True
) -> Alert:
    """Record an alert for admins and log it at ERROR (``log=False``: history being
    recorded, as the demo does); the same ``key`` again returns the first alert and changes
    nothing (a nightly job rerun raises no second alert)."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    # the run that found it says so, even when an earlier run raised the same alert
    db.session.info[RAISED] = db.session.info.get(RAISED, 0) + 1
    existing = db.session.scalar(sa.select(Alert).where(Alert.key == key))
    if existing is not None:
        return existing
    alert = Alert(kind=kind, key=key, message=message, created_at=now or utcnow())
    db.session.add(alert)
    db.session.flush()
    # logged now, not after the commit: a broken ledger must reach the log even if the
    # transaction that found it cannot commit
    if log:
        logger.error("ALERT %s (%s): %s", kind, key, message)
    return alert


def open_alerts() -> list[Alert]:
    """Alerts nobody has resolved yet, newest first."""
    return list(
        db.session.scalars(
            sa.select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.id.desc())
        )
    )


def recent_alerts(limit: int = 20) -> list[Alert]:
    """The newest alerts, open or resolved."""
    return list(db.session.scalars(sa.select(Alert).order_by(Alert.id.desc()).limit(limit)))


def get_alert(alert_id: int) -> Alert:
    """The alert, or AlertNotFound."""
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound("Alert %(id)s does not exist.", params={"id": alert_id})
    return alert


@use_case
def resolve_alert(
    alert_id: int, *, actor_id: int, resolution: str, now: datetime | None = None
) -> Alert:
    """Mark an alert resolved with what the admin found; resolving twice keeps the first.

    Raises AlertNotFound.
    """
    alert = get_alert(alert_id)
    if alert.resolved_at is None:
        alert.resolved_at = now or utcnow()
        alert.resolved_by_id = actor_id
        alert.resolution = (resolution or "").strip()[:RESOLUTION_MAX] or None
        db.session.flush()
    return alert
