"""The state machines of projects and needs. Every move is checked against the table and
recorded in the history; a move the table does not allow is IllegalTransition (409)."""

from __future__ import annotations

from datetime import datetime

from timebank.core.clock import utcnow
from timebank.people.models import Member
from timebank.projects.errors import IllegalTransition
from timebank.projects.models import Need, Project
from timebank.projects.operations.history import record_need_event, record_project_event

#: draft → open → staffed → in progress → done → verified, or cancelled. open and staffed
#: follow the places taken; done may go back to in progress when work remains.
PROJECT_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"open", "cancelled"}),
    "open": frozenset({"staffed", "in_progress", "cancelled"}),
    "staffed": frozenset({"open", "in_progress", "cancelled"}),
    "in_progress": frozenset({"done", "cancelled"}),
    "done": frozenset({"verified", "in_progress"}),
    "verified": frozenset(),
    "cancelled": frozenset(),
}
#: what an organizer asks for; staffed and open-again follow from claims
MANUAL_PROJECT_STATES = ("open", "in_progress", "done", "verified", "cancelled")

#: open → accepted (into projects; a wish: taken) / merged / declined → resolved. An
#: accepted need goes back to open when its last project is cancelled or a wish is given
#: back; a merged need is resolved with the need it was merged into.
NEED_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"accepted", "merged", "declined"}),
    "accepted": frozenset({"resolved", "open"}),
    "merged": frozenset({"resolved"}),
    "declined": frozenset(),
    "resolved": frozenset(),
}


def move_project(
    project: Project,
    to: str,
    *,
    actor: Member | None,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Change the project's state and record who, when and why. Raises IllegalTransition."""
    if to not in PROJECT_TRANSITIONS.get(project.status, frozenset()):
        raise IllegalTransition(
            "A project cannot go from %(from)s to %(to)s.",
            params={"from": project.status, "to": to},
            errors={"status": [f"not allowed from {project.status}"]},
        )
    record_project_event(
        project,
        "status",
        actor=actor,
        from_status=project.status,
        to_status=to,
        reason=reason,
        now=now,
    )
    project.status = to


def move_need(
    need: Need,
    to: str,
    *,
    actor: Member | None,
    reason: str | None = None,
    project_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Change the need's state and record who, when and why. Raises IllegalTransition."""
    now = now or utcnow()
    if to not in NEED_TRANSITIONS.get(need.status, frozenset()):
        error = IllegalTransition(
            "A need cannot go from %(from)s to %(to)s.",
            params={"from": need.status, "to": to},
            errors={"status": [f"not allowed from {need.status}"]},
        )
        error.state_names = "need_status"
        raise error
    record_need_event(
        need,
        "status",
        actor=actor,
        from_status=need.status,
        to_status=to,
        project_id=project_id,
        reason=reason,
        now=now,
    )
    need.status = to
    if to == "resolved":
        need.resolved_at = now
