"""What an organizer exports about people: a unit's roster (each member's hours and points
earned in a period, and their balances now), hours per volunteer per month, and an
activity's attendance sheet (who signed up, checked in and out, and the minutes credited).

Figures are verified credits from the ledger, as the honour roll counts them (approved
service and manual awards, net of their corrections); balances are the accounts' own.
Reading only: nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from timebank.activities.models import Activity, Attendance, Signup
from timebank.extensions import db
from timebank.ledger.models import Account, Entry
from timebank.people.models import Member
from timebank.reports.operations.credits import counted_codes, credit_entries
from timebank.reports.operations.ledger_sums import subtree
from timebank.reports.periods import Period, bucket_of

#: members a roster lists: those who may still serve (not removed, rejected or unverified)
ROSTER_STATUSES = ("active", "suspended")


@dataclass
class RosterRow:
    member: Member
    #: verified HOURS credits in the period (minutes), net of corrections
    minutes: int = 0
    #: verified POINTS credits in the period, net of corrections
    points: int = 0
    #: the member's HOURS balance now (minutes)
    hours_balance: int = 0
    #: the member's POINTS balance now
    points_balance: int = 0


def _credits_by_member(unit_id: int, period: Period, ledger: str, *, by_month: bool = False):
    """(member id[, created_at], amount) of the verified credits of ``ledger`` in the period
    to members living in the subtree: summed per member, or one row per entry."""
    query, account, _original = credit_entries(counted_codes(True))
    where = (
        account.ledger == ledger,
        Member.home_unit_id.in_(subtree(unit_id)),
        Entry.created_at >= period.start,
        Entry.created_at < period.end,
    )
    query = query.join(Member, Member.id == account.member_id).where(*where)
    if by_month:
        return db.session.execute(
            query.with_only_columns(account.member_id, Entry.created_at, Entry.amount)
        ).all()
    total = sa.func.sum(Entry.amount)
    return db.session.execute(
        query.with_only_columns(account.member_id, total).group_by(account.member_id)
    ).all()


def unit_roster(unit_id: int, period: Period) -> list[RosterRow]:
    """Every member living in the unit's subtree (active or suspended), by home unit and
    name, with their verified hours and points of the period and their balances now."""
    members = db.session.scalars(
        sa.select(Member)
        .where(Member.home_unit_id.in_(subtree(unit_id)), Member.status.in_(ROSTER_STATUSES))
        .order_by(Member.home_unit_id, Member.name, Member.id)
    ).all()
    rows = {m.id: RosterRow(member=m) for m in members}
    for member_id, amount in _credits_by_member(unit_id, period, "HOURS"):
        if member_id in rows:
            rows[member_id].minutes = int(amount or 0)
    for member_id, amount in _credits_by_member(unit_id, period, "POINTS"):
        if member_id in rows:
            rows[member_id].points = int(amount or 0)
    balances = db.session.execute(
        sa.select(Account.member_id, Account.ledger, sa.func.sum(Account.balance))
        .join(Member, Member.id == Account.member_id)
        .where(
            Account.kind == "member",
            Member.home_unit_id.in_(subtree(unit_id)),
            Member.status.in_(ROSTER_STATUSES),
        )
        .group_by(Account.member_id, Account.ledger)
    ).all()
    for member_id, ledger, balance in balances:
        if member_id in rows:
            if ledger == "HOURS":
                rows[member_id].hours_balance = int(balance or 0)
            else:
                rows[member_id].points_balance = int(balance or 0)
    return list(rows.values())


@dataclass
class VolunteerMonths:
    """Hours per volunteer per month of a period: one row per member with verified hours,
    one column per calendar month the period touches."""

    period: Period
    months: list[date]
    #: (member, minutes per month), most minutes first, then by name
    rows: list[tuple[Member, list[int]]] = field(default_factory=list)

    @property
    def month_totals(self) -> list[int]:
        return [sum(row[1][i] for row in self.rows) for i in range(len(self.months))]

    @property
    def total(self) -> int:
        return sum(self.month_totals)


def volunteer_months(unit_id: int, period: Period) -> VolunteerMonths:
    """Verified hours (minutes) of each volunteer living in the subtree, month by month."""
    bounds = period.month_bounds()
    months = period.months()
    cells: dict[int, list[int]] = defaultdict(lambda: [0] * len(months))
    for member_id, created_at, amount in _credits_by_member(
        unit_id, period, "HOURS", by_month=True
    ):
        cells[member_id][bucket_of(created_at, bounds)] += int(amount)
    kept = {member_id: minutes for member_id, minutes in cells.items() if sum(minutes)}
    members = {
        m.id: m for m in db.session.scalars(sa.select(Member).where(Member.id.in_(list(kept))))
    }
    rows = sorted(
        ((members[member_id], minutes) for member_id, minutes in kept.items()),
        key=lambda row: (-sum(row[1]), row[0].name, row[0].id),
    )
    return VolunteerMonths(period=period, months=months, rows=rows)


@dataclass
class SheetLine:
    """One member on an activity's attendance sheet."""

    member: Member
    signed_up_at: datetime | None = None
    #: signed_up, withdrawn, or None (walked in without signing up)
    signup_status: str | None = None
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    #: the check-out was closed by the job at the window's end, not by the member
    auto_closed: bool = False
    #: pending, review, approved, rejected, or None (signed up, never came)
    attendance_status: str | None = None
    #: minutes credited: the approved attendance's minutes, else 0
    credited_minutes: int = 0
    manual: bool = False


def attendance_sheet(activity: Activity) -> list[SheetLine]:
    """Everyone who signed up for or checked in to the activity, by check-in time (those
    who never came last, by sign-up time)."""
    lines: dict[int, SheetLine] = {}
    signups = db.session.scalars(
        sa.select(Signup).where(Signup.activity_id == activity.id).order_by(Signup.created_at)
    ).all()
    for signup in signups:
        lines[signup.member_id] = SheetLine(
            member=signup.member, signed_up_at=signup.created_at, signup_status=signup.status
        )
    attendances = db.session.scalars(
        sa.select(Attendance).where(Attendance.activity_id == activity.id)
    ).all()
    for attendance in attendances:
        line = lines.get(attendance.member_id)
        if line is None:
            line = lines[attendance.member_id] = SheetLine(member=attendance.member)
        line.checked_in_at = attendance.checked_in_at
        line.checked_out_at = attendance.checked_out_at
        line.auto_closed = attendance.checkout_auto_closed
        line.attendance_status = attendance.status
        line.manual = attendance.manual
        if attendance.status == "approved":
            line.credited_minutes = attendance.minutes or 0
    never = datetime.max.replace(tzinfo=None)

    def order(line: SheetLine):
        came = line.checked_in_at.replace(tzinfo=None) if line.checked_in_at else never
        signed = line.signed_up_at.replace(tzinfo=None) if line.signed_up_at else never
        return (came, signed, line.member.id)

    return sorted(lines.values(), key=order)
