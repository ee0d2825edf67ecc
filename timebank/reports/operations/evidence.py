"""Figures from the evidence: activities held and attended, needs filed and resolved,
projects done, redemptions at shops. Each counts where it happened (the activity's,
need's, project's or shop's unit), by the moment it happened."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from timebank.activities.models import Activity, Attendance
from timebank.extensions import db
from timebank.merchants.models import Merchant, Redemption
from timebank.projects.models import Need, ProjectEvent
from timebank.projects.models import Project as ServiceProject
from timebank.reports.operations.ledger_sums import subtree
from timebank.reports.periods import Period


@dataclass
class Evidence:
    """Counts by unit id (the unit where each thing happened)."""

    activities: Counter = field(default_factory=Counter)
    attendances: Counter = field(default_factory=Counter)
    party_activities: Counter = field(default_factory=Counter)
    needs_filed: Counter = field(default_factory=Counter)
    needs_resolved: Counter = field(default_factory=Counter)
    residents_served: Counter = field(default_factory=Counter)
    projects_done: Counter = field(default_factory=Counter)
    redemptions: Counter = field(default_factory=Counter)
    redeemed_points: Counter = field(default_factory=Counter)
    shops: Counter = field(default_factory=Counter)
    #: category -> (activities, approved attendances, approved minutes), the whole subtree
    categories: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    #: minutes from a need's filing to its resolution, of needs resolved in the period
    resolve_minutes: list[int] = field(default_factory=list)
    #: distinct over the whole subtree (not the sum of the units')
    residents_total: int = 0
    shops_total: int = 0

    @property
    def median_resolve_minutes(self) -> int | None:
        if not self.resolve_minutes:
            return None
        return int(statistics.median(self.resolve_minutes))


def evidence(unit_id: int, period: Period) -> Evidence:
    found = Evidence()
    _activities(found, unit_id, period)
    _needs(found, unit_id, period)
    _projects(found, unit_id, period)
    _redemptions(found, unit_id, period)
    return found


def _activities(found: Evidence, unit_id: int, period: Period) -> None:
    """Activities held (started in the period, not cancelled) and their approved attendance."""
    held = (
        sa.select(
            Activity.unit_id,
            Activity.category,
            Activity.kind,
            sa.func.count(sa.distinct(Activity.id)),
            sa.func.count(Attendance.id),
            sa.func.coalesce(sa.func.sum(Attendance.minutes), 0),
        )
        .outerjoin(
            Attendance,
            sa.and_(Attendance.activity_id == Activity.id, Attendance.status == "approved"),
        )
        .where(
            Activity.unit_id.in_(subtree(unit_id)),
            Activity.status == "published",
            Activity.starts_at >= period.start,
            Activity.starts_at < period.end,
        )
        .group_by(Activity.unit_id, Activity.category, Activity.kind)
    )
    for unit, category, kind, activities, attendances, minutes in db.session.execute(held):
        found.activities[unit] += activities
        found.attendances[unit] += attendances
        if kind == "party":
            found.party_activities[unit] += activities
        cell = found.categories[category]
        cell[0] += activities
        cell[1] += attendances
        cell[2] += int(minutes)


def _needs(found: Evidence, unit_id: int, period: Period) -> None:
    in_subtree = Need.unit_id.in_(subtree(unit_id))
    filed = (
        sa.select(Need.unit_id, sa.func.count(Need.id))
        .where(in_subtree, Need.created_at >= period.start, Need.created_at < period.end)
        .group_by(Need.unit_id)
    )
    for unit, count in db.session.execute(filed):
        found.needs_filed[unit] += count
    resolved = sa.select(Need.unit_id, Need.resident_id, Need.created_at, Need.resolved_at).where(
        in_subtree,
        Need.status == "resolved",
        Need.resolved_at >= period.start,
        Need.resolved_at < period.end,
    )
    residents: dict[int, set[int]] = defaultdict(set)
    for unit, resident, created, resolved_at in db.session.execute(resolved):
        found.needs_resolved[unit] += 1
        residents[unit].add(resident)
        found.resolve_minutes.append(int((resolved_at - created).total_seconds() // 60))
    for unit, people in residents.items():
        found.residents_served[unit] = len(people)
    found.residents_total = len(set().union(*residents.values())) if residents else 0


def _projects(found: Evidence, unit_id: int, period: Period) -> None:
    """Projects that reached ``done`` in the period (their history says when)."""
    done = (
        sa.select(ServiceProject.unit_id, sa.func.count(sa.distinct(ServiceProject.id)))
        .join(ProjectEvent, ProjectEvent.project_id == ServiceProject.id)
        .where(
            ServiceProject.unit_id.in_(subtree(unit_id)),
            ProjectEvent.kind == "status",
            ProjectEvent.to_status == "done",
            ProjectEvent.created_at >= period.start,
            ProjectEvent.created_at < period.end,
        )
        .group_by(ServiceProject.unit_id)
    )
    for unit, count in db.session.execute(done):
        found.projects_done[unit] += count


def _redemptions(found: Evidence, unit_id: int, period: Period) -> None:
    """Confirmed redemptions at the subtree's shops, by when they were confirmed."""
    confirmed = (
        sa.select(
            Merchant.unit_id,
            Redemption.merchant_id,
            sa.func.count(Redemption.id),
            sa.func.sum(Redemption.points),
        )
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(
            Merchant.unit_id.in_(subtree(unit_id)),
            Redemption.status.in_(("confirmed", "refunded")),
            Redemption.resolved_at >= period.start,
            Redemption.resolved_at < period.end,
        )
        .group_by(Merchant.unit_id, Redemption.merchant_id)
    )
    shops = set()
    for unit, merchant, count, points in db.session.execute(confirmed):
        found.redemptions[unit] += count
        found.redeemed_points[unit] += int(points or 0)
        found.shops[unit] += 1
        shops.add(merchant)
    found.shops_total = len(shops)
