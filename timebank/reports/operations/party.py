"""The dual-report quarter (双报到): where party members reported in, the party activities
they attended and the service they gave (activities, projects, small wishes), and what is
still due this quarter.

Counted from the evidence by when it happened: attendance by its check-in, hour logs by
the day served. Party activities count unless rejected (attending is the duty); service
counts once approved. The quarter's duty is TIMEBANK_PARTY_QUARTER_ACTIVITIES party
activities and TIMEBANK_PARTY_QUARTER_MINUTES of service, and a dual report on record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from timebank.activities.models import Activity, Attendance
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people.models import Member, PartyProfile
from timebank.projects.models import HourLog
from timebank.reports import periods
from timebank.reports.operations.ledger_sums import subtree
from timebank.reports.periods import Period


def quarter_start(now: datetime) -> datetime:
    """The start of the local calendar quarter ``now`` falls in, as UTC."""
    return periods.quarter_of(now).start


@dataclass
class Duty:
    """What a quarter asks of a party member."""

    activities: int
    minutes: int

    @classmethod
    def configured(cls) -> Duty:
        config = current_app.config
        return cls(
            activities=int(config["TIMEBANK_PARTY_QUARTER_ACTIVITIES"]),
            minutes=int(config["TIMEBANK_PARTY_QUARTER_MINUTES"]),
        )


@dataclass
class PartyRow:
    member: Member
    reported: bool
    party_activities: int
    #: approved minutes of service activities (check-in)
    service_minutes: int
    #: approved minutes of hour logs on service projects and small wishes
    project_minutes: int = 0
    #: of those, small wishes (微心愿)
    wish_minutes: int = 0
    duty: Duty | None = None

    @property
    def served_minutes(self) -> int:
        return self.service_minutes + self.project_minutes

    @property
    def served(self) -> bool:
        return self.served_minutes > 0

    @property
    def activities_due(self) -> int:
        return max(0, self.duty.activities - self.party_activities) if self.duty else 0

    @property
    def minutes_due(self) -> int:
        return max(0, self.duty.minutes - self.served_minutes) if self.duty else 0

    @property
    def done(self) -> bool:
        return self.reported and not self.activities_due and not self.minutes_due


def party_members_select(unit_id: int) -> sa.Select:
    """Party members living in the subtree or reported in to a unit of it, by name."""
    reach = subtree(unit_id)
    return (
        sa.select(Member)
        .join(PartyProfile, PartyProfile.member_id == Member.id)
        .where(
            Member.status == "active",
            sa.or_(Member.home_unit_id.in_(reach), PartyProfile.reported_unit_id.in_(reach)),
        )
        .options(
            selectinload(Member.party).joinedload(PartyProfile.reported_unit),
            selectinload(Member.party).joinedload(PartyProfile.workplace_org),
            joinedload(Member.home_unit),
        )
        .order_by(Member.name, Member.id)
    )


def party_report(
    unit_id: int,
    *,
    now: datetime | None = None,
    period: Period | None = None,
    branch: str | None = None,
) -> list[PartyRow]:
    """Per party member living in the subtree or reported in to it: reported in (双报到),
    party activities attended, and approved service minutes in the quarter (``period``, by
    default the one ``now`` falls in): at activities, and on service projects and small
    wishes. ``branch``: only members of that party branch."""
    period = period or periods.quarter_of(now or utcnow())
    query = party_members_select(unit_id)
    if branch is not None:
        query = query.where(PartyProfile.branch == branch)
    members = list(db.session.scalars(query))
    return rows_for(members, period)


def rows_for(members: list[Member], period: Period) -> list[PartyRow]:
    ids = [m.id for m in members]
    party_counts = _party_activity_counts(ids, period)
    service = _approved_service_minutes(ids, period)
    logged = _approved_log_minutes(ids, period)
    duty = Duty.configured()
    return [
        PartyRow(
            member=m,
            reported=m.party is not None and m.party.reported_on is not None,
            party_activities=party_counts.get(m.id, 0),
            service_minutes=service.get(m.id, 0),
            project_minutes=sum(logged.get(m.id, {}).values()),
            wish_minutes=logged.get(m.id, {}).get("wish", 0),
            duty=duty,
        )
        for m in members
    ]


def _by_member(member_ids: list[int], period: Period, value, *where) -> dict[int, int]:
    """Member id -> ``value`` (an aggregate) over their attendances checked in during the
    period that meet ``where``."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        sa.select(Attendance.member_id, value)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(
            Attendance.member_id.in_(member_ids),
            Attendance.checked_in_at >= period.start,
            Attendance.checked_in_at < period.end,
            *where,
        )
        .group_by(Attendance.member_id)
    )
    return {member_id: int(amount or 0) for member_id, amount in rows}


def _party_activity_counts(member_ids: list[int], period: Period) -> dict[int, int]:
    """Member id -> party activities attended in the period (not rejected)."""
    return _by_member(
        member_ids, period, sa.func.count(Attendance.id),
        Attendance.status != "rejected", Activity.kind == "party",
    )  # fmt: skip


def _approved_service_minutes(member_ids: list[int], period: Period) -> dict[int, int]:
    """Member id -> approved minutes of service activities in the period."""
    return _by_member(
        member_ids, period, sa.func.sum(Attendance.minutes),
        Attendance.status == "approved", Activity.kind == "service",
    )  # fmt: skip


def _approved_log_minutes(member_ids: list[int], period: Period) -> dict[int, dict[str, int]]:
    """Member id -> {"project": minutes, "wish": minutes} of approved hour logs served on a
    day of the period."""
    if not member_ids:
        return {}
    kind = sa.case((HourLog.project_id.is_(None), "wish"), else_="project")
    rows = db.session.execute(
        sa.select(HourLog.member_id, kind, sa.func.sum(HourLog.credited_minutes))
        .where(
            HourLog.member_id.in_(member_ids),
            HourLog.status == "approved",
            HourLog.served_on >= period.first,
            HourLog.served_on <= period.last,
        )
        .group_by(HourLog.member_id, kind)
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for member_id, what, minutes in rows:
        found[member_id][what] = int(minutes or 0)
    return found


def party_members_not_served(since: datetime) -> list[Member]:
    """Active party members with no approved service attendance since ``since`` (the
    quarter's start), by id."""
    served = (
        sa.select(Attendance.member_id)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(
            Attendance.status == "approved",
            Attendance.checked_in_at >= since,
            Activity.kind == "service",
        )
    )
    return list(
        db.session.scalars(
            sa.select(Member)
            .join(PartyProfile, PartyProfile.member_id == Member.id)
            .where(Member.status == "active", Member.id.not_in(served))
            .order_by(Member.id)
        )
    )


@dataclass
class BranchRow:
    """One party branch (the workplace's party organization) in a unit's quarter."""

    branch: str
    members: int = 0
    reported: int = 0
    served: int = 0
    minutes: int = 0
    party_activities: int = 0
    rows: list[PartyRow] = field(default_factory=list)

    @property
    def not_served(self) -> int:
        return self.members - self.served


def by_branch(rows: list[PartyRow]) -> list[BranchRow]:
    """The quarter's rows summed per party branch, by name."""
    found: dict[str, BranchRow] = {}
    for row in rows:
        name = row.member.party.branch if row.member.party else ""
        branch = found.setdefault(name, BranchRow(branch=name))
        branch.members += 1
        branch.reported += row.reported
        branch.served += row.served
        branch.minutes += row.served_minutes
        branch.party_activities += row.party_activities
        branch.rows.append(row)
    return [found[name] for name in sorted(found)]


@dataclass
class ServiceLine:
    """One thing a party member did in the quarter."""

    kind: str  #: party, service, project, wish
    title: str
    day: object
    minutes: int
    status: str


@dataclass
class MyQuarter:
    member: Member
    period: Period
    row: PartyRow
    lines: list[ServiceLine]


def my_quarter(member: Member, period: Period) -> MyQuarter:
    """A party member's own quarter: their row and every line behind it, by day."""
    row = rows_for([member], period)[0]
    lines = []
    attendance = db.session.execute(
        sa.select(Attendance, Activity)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(
            Attendance.member_id == member.id,
            Attendance.checked_in_at >= period.start,
            Attendance.checked_in_at < period.end,
        )
        .order_by(Attendance.checked_in_at)
    )
    for attended, activity in attendance:
        lines.append(
            ServiceLine(
                kind=activity.kind,
                title=activity.title,
                day=periods.local_date(attended.checked_in_at),
                minutes=(attended.minutes or 0) if attended.status == "approved" else 0,
                status=attended.status,
            )  # fmt: skip
        )
    logs = db.session.scalars(
        sa.select(HourLog)
        .where(
            HourLog.member_id == member.id,
            HourLog.served_on >= period.first,
            HourLog.served_on <= period.last,
        )
        .options(joinedload(HourLog.project), joinedload(HourLog.need))
        .order_by(HourLog.served_on, HourLog.id)
    )
    for log in logs:
        lines.append(
            ServiceLine(
                kind="project" if log.project_id else "wish",
                title=log.subject_title,
                day=log.served_on,
                minutes=(log.credited_minutes or 0) if log.status == "approved" else 0,
                status=log.status,
            )  # fmt: skip
        )
    lines.sort(key=lambda line: line.day)
    return MyQuarter(member=member, period=period, row=row, lines=lines)
