"""Hours a member has served and not yet been credited, for pages that may not import the
module that owns them (the statement is the ledger's; it imports no activities).

The module that owns a kind of service (activities: attendance; projects: hour logs)
registers a source with ``register_pending``; a page asks ``pending_credits(member_id)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class PendingCredit:
    """One service waiting for an organizer's decision, as the volunteer reads it."""

    #: "attendance" or "hour_log"
    kind: str
    #: the activity's, project's or small wish's title
    what: str
    #: when the service was (a check-in time, or the day an hour log names)
    served: datetime | date
    #: what an approval would credit; None while still checked in (no check-out yet)
    minutes: int | None
    #: why an organizer looks closer before crediting it, in the reader's words; empty:
    #: it only waits for the usual approval
    held_because: tuple[str, ...] = ()

    @property
    def sort_key(self) -> datetime | date:
        return self.served.date() if isinstance(self.served, datetime) else self.served


#: a function from a member id to what of theirs waits, one per kind of service
_sources: dict[str, Callable[[int], list[PendingCredit]]] = {}


def register_pending(kind: str, source: Callable[[int], list[PendingCredit]]) -> None:
    """Let pages ask ``pending_credits`` for the member's ``kind`` of service too."""
    _sources[kind] = source


def pending_credits(member_id: int) -> list[PendingCredit]:
    """Everything of the member's that waits for an organizer, the latest first."""
    found = [item for source in _sources.values() for item in source(member_id)]
    return sorted(found, key=lambda item: item.sort_key, reverse=True)


def pending_minutes(items: list[PendingCredit]) -> int:
    """The minutes the items would credit (those still checked in count none yet)."""
    return sum(item.minutes or 0 for item in items)
