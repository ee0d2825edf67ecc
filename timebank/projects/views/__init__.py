"""Pages of the three lists: needs and resources (needs.py), projects and one's places
(projects.py), hour logs and the approval queue (hour_logs.py). Phone-first, Chinese by
default and English."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash

from timebank.core import access
from timebank.projects import operations as projects
from timebank.projects.names import NAMES
from timebank.projects.reasons import event_reason

bp = Blueprint("projects", __name__)
bp.add_app_template_filter(event_reason, "event_reason")


@bp.app_context_processor
def _names():
    return {"LIST_NAMES": NAMES}


def lists_nav() -> dict:
    """What the lists' sub-navigation offers the caller: the approval queues they keep."""
    actor = access.current_actor()
    return {"queue_units": access.scope_roots(actor, "hour_logs.approve") if actor else []}


def aware(local: datetime | None) -> datetime | None:
    """A datetime-local form value, in the deployment's zone, as UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=projects.local_zone()).astimezone(UTC)


def choice(value: str | None, allowed) -> str | None:
    """A filter value from the query string, if it is one of ``allowed``."""
    return value if value in allowed else None


def flash_refusals(decisions, done_message: str) -> None:
    """A bulk decision: how many were decided, and each refused log with its reason."""
    if decisions.decided:
        flash(done_message, "success")
    for log_id, error in decisions.refused:
        flash(f"#{log_id}: {error.localized()}", "error")


from timebank.projects.views import hour_logs, needs, project_pages  # noqa: E402, F401
