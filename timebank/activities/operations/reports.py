"""What a member's record and the party report show: attendance, sign-ups, and party
members' dual report (双报到) and service this quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from timebank.activities.models import Activity, Attendance, Signup
from timebank.activities.operations.lookups import local_day_start, local_zone
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.models import Member, PartyProfile
from timebank.projects import operations as projects


def my_attendance(member: Member, *, limit: int = 100) -> list[Attendance]:
    return list(
        db.session.scalars(
            sa.select(Attendance)
            .where(Attendance.member_id == member.id)
            .options(selectinload(Attendance.activity))
            .order_by(Attendance.checked_in_at.desc())
            .limit(limit)
        )
    )


def my_signups(member: Member, *, now: datetime | None = None) -> list[Activity]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Activity)
            .join(Signup, Signup.activity_id == Activity.id)
            .where(
                Signup.member_id == member.id,
                Signup.status == "signed_up",
                Activity.ends_at >= now,
            )
            .order_by(Activity.starts_at)
        )
    )


def quarter_start(now: datetime) -> datetime:
    """The start of the local calendar quarter ``now`` falls in, as UTC."""
    local = now.astimezone(local_zone())
    return local_day_start(date(local.year, 3 * ((local.month - 1) // 3) + 1, 1))


@dataclass
class PartyRow:
    member: Member
    reported: bool
    party_activities: int
    #: approved minutes of service activities (check-in)
    service_minutes: int
    #: approved minutes of hour logs on service projects and small wishes
    project_minutes: int = 0

    @property
    def served_minutes(self) -> int:
        return self.service_minutes + self.project_minutes


def party_report(unit_id: int, *, now: datetime | None = None) -> list[PartyRow]:
    """Per party member living in the subtree: reported in (双报到), party activities
    attended, and approved service minutes this quarter: at activities, and on service
    projects and small wishes (approved hour logs served this quarter)."""
    now = now or utcnow()
    since = quarter_start(now)
    members = people.list_members(unit_id, party="member")
    ids = [m.id for m in members]
    party_counts = _party_activity_counts(ids, since) if ids else {}
    service = _approved_service_minutes(ids, since) if ids else {}
    project_service = projects.approved_minutes_since(ids, since.astimezone(local_zone()).date())
    return [
        PartyRow(
            member=m,
            reported=m.party is not None and m.party.reported_on is not None,
            party_activities=party_counts.get(m.id, 0),
            service_minutes=service.get(m.id, 0),
            project_minutes=project_service.get(m.id, 0),
        )
        for m in members
    ]


def _party_activity_counts(member_ids: list[int], since: datetime) -> dict[int, int]:
    """Member id -> party activities attended since ``since`` (not rejected)."""
    rows = db.session.execute(
        sa.select(Attendance.member_id, sa.func.count(Attendance.id))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(
            Attendance.member_id.in_(member_ids),
            Attendance.checked_in_at >= since,
            Attendance.status != "rejected",
            Activity.kind == "party",
        )
        .group_by(Attendance.member_id)
    )
    return {member_id: count for member_id, count in rows}


def _approved_service_minutes(member_ids: list[int], since: datetime) -> dict[int, int]:
    """Member id -> approved minutes of service activities since ``since``."""
    rows = db.session.execute(
        sa.select(Attendance.member_id, sa.func.sum(Attendance.minutes))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(
            Attendance.member_id.in_(member_ids),
            Attendance.checked_in_at >= since,
            Attendance.status == "approved",
            Activity.kind == "service",
        )
        .group_by(Attendance.member_id)
    )
    return {member_id: int(minutes or 0) for member_id, minutes in rows}


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
