"""The audit trail: who did what to whom, and on whose behalf."""

from __future__ import annotations

from timebank.extensions import db
from timebank.people.models import AuditEvent, Member


def record_audit(
    action: str,
    *,
    actor: Member | None,
    subject: Member | None = None,
    on_behalf_of: Member | None = None,
    detail: str | None = None,
) -> None:
    """Add an audit event to the session; it is written with the caller's transaction."""
    db.session.add(
        AuditEvent(
            action=action,
            actor_id=actor.id if actor else None,
            subject_member_id=subject.id if subject else None,
            on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
            detail=detail,
        )
    )
