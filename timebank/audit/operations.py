"""Searching the audit trail: filters, one page of rows in words, and CSV export.

The table (core/audit.py) is append-only; these only read it. Dates are local days in
the deployment's time zone (TIMEBANK_TIMEZONE): "to" includes the whole day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from timebank.core.audit import AuditEvent
from timebank.core.errors import InvalidInput
from timebank.core.exports import BOM, csv_rows
from timebank.core.names import names_of
from timebank.core.schemas import EARLIEST, LATEST
from timebank.core.uow import read_phase
from timebank.extensions import db

#: rows read per query while a CSV streams (the export never holds the whole table)
CSV_BATCH = 500
CSV_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_name",
    "on_behalf_of_id",
    "on_behalf_of_name",
    "subject_member_id",
    "subject_name",
    "action",
    "target",
    "before",
    "after",
    "detail",
    "ip",
)


@dataclass(frozen=True)
class AuditFilters:
    """What an admin searches for; every field optional."""

    actor_id: int | None = None
    member_id: int | None = None  #: the member the act concerned, or was done for
    action: str | None = None  #: exact (member.approve) or a prefix ending in "." (member.)
    target_type: str | None = None  #: e.g. unit, pending_credit
    target_id: str | None = None  #: with target_type
    date_from: date | None = None
    date_to: date | None = None


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(UTC)


def audit_select(filters: AuditFilters) -> sa.Select:
    """The events matching ``filters``, newest first; InvalidInput when ``date_from`` is
    after ``date_to`` or a target id comes without its type."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput(
            "The start date is after the end date.",
            errors={"from": ["The start date is after the end date."]},
        )
    for name, day in (("from", filters.date_from), ("to", filters.date_to)):
        if day is not None and not EARLIEST.date() <= day <= LATEST.date():
            raise InvalidInput(
                "Give a day between 1900 and 9998.", errors={name: ["Out of range."]}
            )
    if filters.target_id and not filters.target_type:
        raise InvalidInput(
            "Name the kind of target with its id.",
            errors={"target_type": ["Name the kind of target with its id."]},
        )
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.member_id is not None:
        query = query.where(
            sa.or_(
                AuditEvent.subject_member_id == filters.member_id,
                AuditEvent.on_behalf_of_id == filters.member_id,
            )
        )
    if filters.action:
        if filters.action.endswith("."):
            query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
        else:
            query = query.where(AuditEvent.action == filters.action)
    if filters.target_type:
        if filters.target_id:
            query = query.where(AuditEvent.target == f"{filters.target_type}:{filters.target_id}")
        else:
            prefix = f"{filters.target_type}:"
            query = query.where(AuditEvent.target.startswith(prefix, autoescape=True))
    if filters.date_from:
        query = query.where(AuditEvent.created_at >= _day_start(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.created_at < _day_start(filters.date_to + timedelta(1)))
    return query


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    names: dict[int, str]  #: member id -> name, for every member the rows name
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _names_for(events: list[AuditEvent]) -> dict[int, str]:
    ids = {
        i
        for e in events
        for i in (e.actor_id, e.on_behalf_of_id, e.subject_member_id)
        if i is not None
    }
    return names_of("member", ids)


def search_audit(filters: AuditFilters, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of matching events, with the names of the members they name."""
    query = audit_select(filters)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return AuditPage(items, _names_for(items), page, per_page, total)


def _parsed(state: str | None):
    if state is None:
        return None
    try:
        return json.loads(state)
    except ValueError:
        return state


def event_as_dict(event: AuditEvent, names: dict[int, str]) -> dict:
    """One event for the API: ids with names, before/after as parsed JSON."""
    return {
        "id": event.id,
        "created_at": event.created_at,
        "actor_id": event.actor_id,
        "actor_name": names.get(event.actor_id),
        "on_behalf_of_id": event.on_behalf_of_id,
        "on_behalf_of_name": names.get(event.on_behalf_of_id),
        "subject_member_id": event.subject_member_id,
        "subject_name": names.get(event.subject_member_id),
        "action": event.action,
        "target": event.target,
        "before": _parsed(event.before),
        "after": _parsed(event.after),
        "detail": event.detail,
        "ip": event.ip,
    }


def _csv_row(event: AuditEvent, names: dict[int, str], zone: ZoneInfo) -> list:
    """One event's cells; core/exports.py guards the text and keeps ids as numbers."""
    return [
        event.id,
        event.created_at.astimezone(zone).isoformat(timespec="seconds"),
        event.actor_id or "",
        names.get(event.actor_id),
        event.on_behalf_of_id or "",
        names.get(event.on_behalf_of_id),
        event.subject_member_id or "",
        names.get(event.subject_member_id),
        event.action,
        event.target,
        event.before,
        event.after,
        event.detail,
        event.ip or "",
    ]


def audit_csv(filters: AuditFilters, header: list[str] | None = None) -> Iterator[str]:
    """The matching events as CSV text, in pieces: a UTF-8 BOM first (so Excel reads
    Chinese), a header (``header``, else the column codes), then rows in batches by id
    (keyset), newest first.

    Checks the filters before the first piece, so a bad filter is an error, not a file.
    Each batch is read in its own app context and read-only transaction (no write lock
    on SQLite), so the download holds nothing between pieces and needs no request."""
    query = audit_select(filters)
    zone = local_zone()
    app = current_app._get_current_object()

    def batch_text(last_id: int | None) -> tuple[str, int | None]:
        batch_query = query if last_id is None else query.where(AuditEvent.id < last_id)
        with app.app_context(), read_phase():
            batch = list(db.session.scalars(batch_query.limit(CSV_BATCH)))
            names = _names_for(batch)
            text = csv_rows(_csv_row(event, names, zone) for event in batch)
        return text, (batch[-1].id if batch else None)

    def pieces() -> Iterator[str]:
        yield BOM + csv_rows([header or CSV_COLUMNS])
        last_id = None
        while True:
            text, last_id = batch_text(last_id)
            if last_id is None:
                return
            yield text

    return pieces()


def filters_from(args: dict) -> AuditFilters:
    """AuditFilters from the parsed query string (page and per_page are left alone)."""
    names = AuditFilters.__dataclass_fields__
    return AuditFilters(**{key: value for key, value in args.items() if key in names})


def csv_filename(today: date) -> str:
    return f"audit-{today.isoformat()}.csv"
