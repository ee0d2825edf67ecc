"""What a member's own pages show: their attendance and sign-ups. (The party members'
dual-report quarter is counted by timebank/reports, which reads activities.)"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from timebank.activities.models import Activity, Attendance, Signup
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people.models import Member


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
