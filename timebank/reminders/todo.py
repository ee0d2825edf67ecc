"""An organizer's to-do list: what waits for them, queue by queue, with counts.

One function counts it for the home page and for the daily reminder, so the reminder
never announces a queue the home shows empty. Each queue counts only what the member may
decide (the roots of their scope for that queue's action) and leaves out what they asked
for themselves (a manual credit waits for a second organizer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from timebank.activities import operations as activities
from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.errors import N_
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.units import operations as units

#: where the list is: the home page's to-do section (the reminder links to it)
TODO_LINK = "/#todo"

#: (queue, the action that decides it), in the order the home page lists them
QUEUES: tuple[tuple[str, str], ...] = (
    ("checkouts", "attendance.approve"),
    ("held", "attendance.approve"),
    ("credits", "ledger.approve"),
    ("hour_logs", "hour_logs.approve"),
    ("registrations", "members.approve"),
    ("shops", "merchants.approve"),
    ("statements_to_build", "merchants.settle"),
    ("statements_to_pay", "merchants.settle"),
)

#: what the home page calls each queue
QUEUE_NAMES: dict[str, str] = {
    "checkouts": N_("Check-outs to approve"),
    "held": N_("Check-ins held for review"),
    "credits": N_("Awards waiting for a second organizer"),
    "hour_logs": N_("Hour logs to approve"),
    "registrations": N_("Member applications"),
    "shops": N_("Shop applications"),
    "statements_to_build": N_("Statements to build"),
    "statements_to_pay": N_("Statements to pay"),
}


@dataclass(frozen=True)
class UnitCount:
    """One root of the member's scope and how much of a queue waits in its subtree."""

    unit_id: int
    unit_name: str
    count: int
    #: statements to pay: the earliest month with one
    month: date | None = None


@dataclass
class ToDo:
    """What waits for one organizer."""

    #: queue -> how many wait (every queue of QUEUES, zero included)
    counts: dict[str, int] = field(default_factory=dict)
    #: queue -> the subtrees where some wait (none listed for an empty queue)
    units: dict[str, list[UnitCount]] = field(default_factory=dict)
    #: activities with check-outs to approve or check-ins held, oldest first
    activities: list[activities.ActivityWaiting] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def waiting(self) -> list[str]:
        """The queues where something waits, in QUEUES' order."""
        return [name for name, _action in QUEUES if self.counts.get(name)]


def _count(queue: str, subtree, member_id: int, now: datetime, before: datetime | None) -> int:
    if queue == "credits":
        return ledger.count_pending_credits(
            subtree, created_before=before, not_requested_by=member_id
        )
    if queue == "hour_logs":
        return projects.count_hour_logs_waiting(subtree, created_before=before)
    if queue == "shops":
        return merchants.count_applications_waiting(subtree, created_before=before)
    if queue == "statements_to_build":
        return merchants.count_statements_to_build(subtree, now=now, created_before=before)
    if queue == "statements_to_pay":
        return merchants.count_statements_to_pay(subtree, now=now, created_before=before)
    raise ValueError(queue)


def organizer_todo(
    member, *, now: datetime | None = None, created_before: datetime | None = None
) -> ToDo:
    """What waits for ``member`` in the subtrees where they may decide it.

    ``created_before``: count only what has waited since before then (the reminder's
    test of whether anything is overdue).
    """
    now = now or utcnow()
    todo = ToDo()
    roots_of: dict[str, list[int]] = {}
    for queue, action in QUEUES:
        roots = roots_of.setdefault(action, units.top_units(access.scope_roots(member, action)))
        todo.counts[queue] = 0
        todo.units[queue] = []
        if queue in ("checkouts", "held"):
            continue  # counted per activity below
        for root in roots:
            subtree = units.subtree_ids_select(root)
            if queue == "registrations":
                count = people.count_members(
                    [root], status="pending", created_before=created_before
                )
            else:
                count = _count(queue, subtree, member.id, now, created_before)
            if count:
                month = None
                if queue == "statements_to_pay":
                    month = merchants.oldest_month_to_pay(subtree, now=now)
                name = units.get_unit(root).name
                todo.units[queue].append(UnitCount(root, name, count, month))
                todo.counts[queue] += count
    for root in roots_of["attendance.approve"]:
        todo.activities += activities.attendance_waiting(
            units.subtree_ids_select(root), now=now, created_before=created_before
        )
    todo.activities.sort(key=lambda w: (w.activity.starts_at, w.activity.id))
    todo.counts["checkouts"] = sum(w.to_approve for w in todo.activities)
    todo.counts["held"] = sum(w.held for w in todo.activities)
    return todo
