"""The audit trail: every privileged act, who did it, for whom, to what, and from where.

Append-only (the database refuses UPDATE and DELETE, like the ledger). Any module may
record an act, so it lives in core: the ledger and the unit tree record theirs too,
without knowing who people are (an actor is anything with an ``id``).
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from timebank.core.clock import utcnow
from timebank.core.db import Base, UTCDateTime
from timebank.core.request_id import current_request_id


class AuditEvent(Base):
    """One privileged act. Never updated; a mistake is a new event."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_action_created_at", "action", "created_at"),)

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: who acted; NULL for the system (CLI, jobs)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the member acted for, when a guardian acts on their behalf
    on_behalf_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: what happened, e.g. member.approve, role.grant, ledger.correct
    action: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: the member the act concerned
    subject_member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: what else it was done to, as kind:id, e.g. unit:7, pending_credit:3
    target: Mapped[str | None] = mapped_column(sa.String(80), index=True, nullable=True)
    #: a summary of the state before, as JSON text
    before: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: a summary of the state after, as JSON text
    after: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: a short description for people
    detail: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: the address the request came from (NULL outside a request)
    ip: Mapped[str | None] = mapped_column(sa.String(45), nullable=True)
    #: when it happened
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, index=True, nullable=False, default=utcnow
    )
    #: the request, job run (job-...) or command (cli-...) that did it; its log lines
    #: carry the same id
    request_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} by={self.actor_id}>"


def _id(thing) -> int | None:
    return None if thing is None else getattr(thing, "id", thing)


def _summary(state) -> str | None:
    return None if state is None else json.dumps(state, ensure_ascii=False, default=str)


def record_audit(
    action: str,
    *,
    actor=None,
    subject=None,
    on_behalf_of=None,
    target: str | None = None,
    before=None,
    after=None,
    detail: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session; it is written with the caller's transaction.

    ``actor``, ``subject`` and ``on_behalf_of`` are members (or their ids); ``before`` and
    ``after`` are small dicts summarising the change.
    """
    from flask import has_request_context, request

    from timebank.extensions import db

    event = AuditEvent(
        action=action,
        actor_id=_id(actor),
        subject_member_id=_id(subject),
        on_behalf_of_id=_id(on_behalf_of),
        target=target,
        before=_summary(before),
        after=_summary(after),
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
        request_id=current_request_id(),
    )
    db.session.add(event)
    if event.on_behalf_of_id is not None:
        acted = db.session.info.setdefault(_ON_BEHALF, set())
        acted.add((event.actor_id, event.on_behalf_of_id))
    return event


#: session.info key: (actor, member) pairs whose act for the member this transaction
#: already recorded in detail
_ON_BEHALF = "timebank_audited_on_behalf"


def recorded_on_behalf(actor, member) -> bool:
    """True when this transaction already recorded an act of ``actor`` for ``member``
    (an operation's own row, with its summary, stands for the generic one)."""
    from timebank.extensions import db

    return (_id(actor), _id(member)) in db.session.info.get(_ON_BEHALF, ())


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_on_behalf(session: Session, *args) -> None:
    session.info.pop(_ON_BEHALF, None)
