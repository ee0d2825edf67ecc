"""A member's service record (志愿服务记录): their verified hours over a period, by
activity and project, from the ledger entries and what caused them. The same record is
what a certificate attests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from timebank.activities.models import Activity, Attendance
from timebank.extensions import db
from timebank.ledger.models import PendingCredit
from timebank.projects.models import HourLog
from timebank.reports import periods
from timebank.reports.operations.credits import CreditLine, member_credits
from timebank.reports.periods import Period


@dataclass
class RecordLine:
    """One activity, project, small wish or award, with the minutes it was credited."""

    kind: str  #: activity, project, wish, award
    title: str
    first_day: date
    last_day: date
    minutes: int = 0
    times: int = 0
    manual: bool = False


@dataclass
class ServiceRecord:
    member_id: int
    period: Period
    lines: list[RecordLine]
    #: every ledger entry counted, oldest first
    entry_ids: list[int] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def manual_minutes(self) -> int:
        return sum(line.minutes for line in self.lines if line.manual)

    @property
    def watermark(self) -> int | None:
        return max(self.entry_ids) if self.entry_ids else None


def service_record(
    member_id: int, period: Period, *, watermark: int | None = None
) -> ServiceRecord:
    """The member's verified HOURS credits posted in ``period`` (up to ``watermark``),
    grouped by what caused them, largest first; lines that corrections took back to zero
    are left out."""
    credits = member_credits(
        member_id, "HOURS", start=period.start, end=period.end, watermark=watermark
    )
    causes = _causes(credits)
    lines: dict[tuple[str, str], RecordLine] = {}
    for credit in credits:
        kind, title = causes.get(credit.reference, ("award", ""))
        day = periods.local_date(credit.at)
        line = lines.get((kind, title))
        if line is None:
            line = lines[(kind, title)] = RecordLine(
                kind=kind, title=title, first_day=day, last_day=day, manual=kind == "award"
            )
        line.minutes += credit.minutes_or_points
        line.times += 1 if credit.minutes_or_points > 0 else 0
        line.first_day, line.last_day = min(line.first_day, day), max(line.last_day, day)
    kept = [line for line in lines.values() if line.minutes]
    kept.sort(key=lambda line: (-line.minutes, line.first_day, line.title))
    return ServiceRecord(
        member_id=member_id, period=period, lines=kept, entry_ids=[c.entry_id for c in credits]
    )


def _causes(credits: list[CreditLine]) -> dict[str, tuple[str, str]]:
    """reference -> (kind, title) for the attendance, hour logs and awards behind credits."""
    ids: dict[str, set[int]] = defaultdict(set)
    for credit in credits:
        kind, _sep, number = credit.reference.partition(":")
        if number.isdigit():
            ids[kind].add(int(number))
    found: dict[str, tuple[str, str]] = {}
    if ids["attendance"]:
        rows = db.session.execute(
            sa.select(Attendance.id, Activity.title)
            .join(Activity, Activity.id == Attendance.activity_id)
            .where(Attendance.id.in_(ids["attendance"]))
        )
        found.update({f"attendance:{i}": ("activity", title) for i, title in rows})
    if ids["hour_log"]:
        logs = db.session.scalars(sa.select(HourLog).where(HourLog.id.in_(ids["hour_log"])))
        for log in logs:
            kind = "project" if log.project_id else "wish"
            found[f"hour_log:{log.id}"] = (kind, log.subject_title)
    if ids["pending_credit"]:
        rows = db.session.execute(
            sa.select(PendingCredit.id, PendingCredit.memo).where(
                PendingCredit.id.in_(ids["pending_credit"])
            )
        )
        for i, memo in rows:
            found[f"pending_credit:{i}"] = ("award", memo)
    return found
