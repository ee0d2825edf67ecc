"""What the three lists tell a member in their inbox: an assignment waiting for their
answer, and hours an organizer approved (with what was credited) or did not (with the
reason). Each is written once
(its key) and in the member's language."""

from __future__ import annotations

from datetime import datetime

from timebank.inbox import operations as inbox
from timebank.projects.models import Claim, HourLog, Project
from timebank.projects.operations.clock import local_zone


def _starts(project: Project) -> str:
    return project.starts_at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def notify_assignment(project: Project, claim: Claim, *, organizer_name: str, now: datetime):
    """The member assigned (派单) hears of it: accept or decline on the project's page."""
    return inbox.notify(
        claim.member,
        "project_assigned",
        key=f"assigned:{claim.id}",
        params={"title": project.title, "starts": _starts(project), "organizer": organizer_name},
        link=f"/projects/{project.id}",
        now=now,
    )


def notify_hours_approved(log: HourLog, *, now: datetime):
    """The member who served hears that the hours were approved, and what was credited."""
    return inbox.notify(
        log.member,
        "hours_approved",
        key=f"hourlog-approved:{log.id}",
        params={
            "title": log.subject_title,
            "day": log.served_on.isoformat(),
            "minutes": log.credited_minutes or 0,
            "earned_points": log.credited_points or 0,
        },
        link="/me/statement",
        now=now,
    )


def notify_hours_rejected(log: HourLog, *, now: datetime):
    """The member who served hears that the hours were not approved, and why."""
    return inbox.notify(
        log.member,
        "hours_rejected",
        key=f"hourlog-rejected:{log.id}",
        params={
            "title": log.subject_title,
            "day": log.served_on.isoformat(),
            "reason": log.reject_reason or "",
        },
        link="/me/hour-logs",
        now=now,
    )
