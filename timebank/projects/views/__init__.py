"""Pages of the three lists: needs and resources (needs.py), projects and one's places
(projects.py), hour logs and the approval queue (hour_logs.py). Phone-first, Chinese by
default and English."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash
from flask_babel import lazy_gettext as _l

from timebank.core import access
from timebank.projects import operations as projects
from timebank.projects.models import CATEGORY_NAMES, RESOURCE_CATEGORY_NAMES

bp = Blueprint("projects", __name__)

NAMES = {
    "category": CATEGORY_NAMES,
    "resource_category": RESOURCE_CATEGORY_NAMES,
    "need_status": {
        "open": _l("Open"),
        "accepted": _l("Accepted"),
        "merged": _l("Merged"),
        "declined": _l("Declined"),
        "resolved": _l("Resolved"),
    },
    "project_status": {
        "draft": _l("Draft"),
        "open": _l("Open for claims"),
        "staffed": _l("Staffed"),
        "in_progress": _l("In progress"),
        "done": _l("Done"),
        "verified": _l("Verified"),
        "cancelled": _l("Cancelled"),
    },
    "urgency": {
        "low": _l("Low"),
        "normal": _l("Normal"),
        "high": _l("High"),
        "urgent": _l("Urgent"),
    },
    "claim_kind": {
        "volunteer": _l("Claimed"),
        "organization": _l("Named by a partner organization"),
        "assignment": _l("Assigned"),
    },
    "claim_status": {
        "pending": _l("Waiting for an answer"),
        "active": _l("Serving"),
        "declined": _l("Declined"),
        "withdrawn": _l("Withdrawn"),
    },
    "log_status": {
        "pending": _l("Waiting for approval"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
    },
    "resource_status": {"available": _l("Available"), "withdrawn": _l("Withdrawn")},
    "event": {
        "status": _l("State"),
        "filed": _l("Filed"),
        "claim": _l("Claimed a place"),
        "withdraw": _l("Withdrew"),
        "assign": _l("Assigned"),
        "accept": _l("Accepted the assignment"),
        "decline": _l("Declined the assignment"),
        "organization_claim": _l("A partner organization claimed it"),
        "need": _l("Answers a need"),
        "resource": _l("Uses a resource"),
        "project": _l("Accepted into a project"),
        "merged_in": _l("A duplicate was merged in"),
        "confirm": _l("Result confirmed"),
    },
    "role": {"contact": _l("Contact"), "member": _l("Member")},
}


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
