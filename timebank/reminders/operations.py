"""Reminders across modules, each written once per key through the inbox."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.people import operations as people
from timebank.people.models import Member, RoleAssignment
from timebank.projects import operations as projects
from timebank.reports import operations as reports
from timebank.units import operations as units


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


def waiting_approvals(unit_ids: list[int], *, created_before: datetime) -> dict[str, int]:
    """What has waited since before ``created_before`` in the subtrees of ``unit_ids``
    (roots that do not overlap): registrations, attendance held for review, credits for a
    second organizer, hour logs, and shops' applications."""
    counts = {"registrations": 0, "attendance": 0, "credits": 0, "hour_logs": 0, "shops": 0}
    counts["registrations"] = people.count_members(
        unit_ids, status="pending", created_before=created_before
    )
    for unit_id in unit_ids:
        subtree = units.subtree_ids_select(unit_id)
        counts["attendance"] += activities.count_attendance_waiting(
            subtree, created_before=created_before
        )
        counts["credits"] += ledger.count_pending_credits(subtree, created_before=created_before)
        counts["hour_logs"] += projects.count_hour_logs_waiting(
            subtree, created_before=created_before
        )
        counts["shops"] += merchants.count_applications_waiting(
            subtree, created_before=created_before
        )
    return counts


def remind_organizers(now: datetime | None = None) -> dict[str, int]:
    """Organizers whose subtree has approvals waiting more than
    TIMEBANK_APPROVAL_REMINDER_DAYS days hear of them once a day
    (``remind:approvals:<member>:<local date>``). Returns how many were written."""
    now = now or utcnow()
    days = current_app.config["TIMEBANK_APPROVAL_REMINDER_DAYS"]
    cutoff = now - timedelta(days=days)
    today = now.astimezone(activities.local_zone()).date().isoformat()
    roles: dict[int, list[int]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(RoleAssignment.member_id, RoleAssignment.unit_id)
        .join(Member, Member.id == RoleAssignment.member_id)
        .where(RoleAssignment.role == "organizer", Member.status == "active")
        .order_by(RoleAssignment.member_id)
    )
    for member_id, unit_id in rows:
        roles[member_id].append(unit_id)
    reminded = 0
    for member_id, unit_ids in roles.items():
        key = f"remind:approvals:{member_id}:{today}"
        if inbox.used_keys([key]):
            continue
        counts = waiting_approvals(units.top_units(unit_ids), created_before=cutoff)
        if not any(counts.values()):
            continue
        written = inbox.notify(
            people.get_member(member_id),
            "approvals_waiting",
            key=key,
            params={"days": days, **counts},
            link="/",
            now=now,
        )
        reminded += written is not None
    return {"reminded": reminded}
