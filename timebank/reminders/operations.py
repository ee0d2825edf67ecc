"""Reminders across modules, each written once per key through the inbox."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.people import operations as people
from timebank.people.models import Member, RoleAssignment
from timebank.projects import operations as projects
from timebank.reminders.todo import TODO_LINK, organizer_todo
from timebank.reports import operations as reports


def quarter_of(now: datetime) -> tuple[str, datetime]:
    """(label such as 2026 Q1, start of the next quarter as UTC) in local time."""
    local = now.astimezone(activities.local_zone())
    index = (local.month - 1) // 3
    year, month = (local.year + 1, 1) if index == 3 else (local.year, 3 * index + 4)
    return f"{local.year} Q{index + 1}", activities.local_day_start(date(year, month, 1))


def remind_party_members(now: datetime | None = None) -> dict[str, int]:
    """In the quarter's last TIMEBANK_PARTY_REMINDER_DAYS days, party members with no
    approved service this quarter are reminded once per quarter
    (``remind:party:<member>:<quarter>``). Returns how many were written."""
    now = now or utcnow()
    label, next_quarter = quarter_of(now)
    days_left = math.ceil((next_quarter - now) / timedelta(days=1))
    if days_left > current_app.config["TIMEBANK_PARTY_REMINDER_DAYS"]:
        return {"reminded": 0}
    since = reports.quarter_start(now)
    members = reports.party_members_not_served(since)
    # project and small-wish service counts too, as in the dual-report view
    since_day = since.astimezone(activities.local_zone()).date()
    served = projects.members_with_approved_hours([m.id for m in members], since_day)
    members = [m for m in members if m.id not in served]
    keys = {m.id: f"remind:party:{m.id}:{label.replace(' ', '')}" for m in members}
    sent = inbox.used_keys(keys.values())
    reminded = 0
    for member in members:
        if keys[member.id] in sent:
            continue
        written = inbox.notify(
            member,
            "party_not_served",
            key=keys[member.id],
            params={"quarter": label, "days": days_left},
            link="/activities",
            now=now,
        )
        reminded += written is not None
    return {"reminded": reminded}


def remind_organizers(now: datetime | None = None) -> dict[str, int]:
    """Organizers with something in their to-do list (reminders/todo.py) that has waited
    more than TIMEBANK_APPROVAL_REMINDER_DAYS days hear of their whole list once a day
    (``remind:approvals:<member>:<local date>``), with the counts their home page shows
    and only the queues that are not empty; the link opens that list. Returns how many
    were written."""
    now = now or utcnow()
    days = current_app.config["TIMEBANK_APPROVAL_REMINDER_DAYS"]
    cutoff = now - timedelta(days=days)
    today = now.astimezone(activities.local_zone()).date().isoformat()
    member_ids = db.session.scalars(
        sa.select(RoleAssignment.member_id)
        .join(Member, Member.id == RoleAssignment.member_id)
        .where(RoleAssignment.role == "organizer", Member.status == "active")
        .distinct()
        .order_by(RoleAssignment.member_id)
    )
    reminded = 0
    for member_id in list(member_ids):
        key = f"remind:approvals:{member_id}:{today}"
        if inbox.used_keys([key]):
            continue
        member = people.get_member(member_id)
        if not organizer_todo(member, now=now, created_before=cutoff).total:
            continue
        todo = organizer_todo(member, now=now)
        written = inbox.notify(
            member,
            "approvals_waiting",
            key=key,
            params={"days": days, **todo.counts},
            link=TODO_LINK,
            now=now,
        )
        reminded += written is not None
    return {"reminded": reminded}
