"""Demo data of the organizer's to-do list: in 上坎社区, besides the attendance and hour
logs the other demos leave waiting, two residents who applied to join, a shop's
application, and an award the admin asked for (the organizer is the second person); and
the organizer's daily reminder, written from the same counts as his home page."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.people import operations as people
from timebank.people.models import Member, RoleAssignment
from timebank.reminders.todo import TODO_LINK, organizer_todo
from timebank.units.models import Unit, UnitClosure

ORGANIZER_PHONE = "13800000001"
ADMIN_PHONE = "13800000000"
#: residents of 上坎社区 who applied through the join poster and wait for approval
APPLICANTS = (("15900000001", "苏桂兰"), ("15900000002", "韩志勇"))
SHOP = ("上坎早点铺", "restaurant", "上坎路20号", "每天 6:00–10:30")


#: the queues of an organizer's to-do home, as the login lines name them
WORK = (
    ("checkouts", "check-outs to approve"),
    ("held", "check-ins held for review"),
    ("credits", "awards for a second person"),
    ("hour_logs", "hour logs"),
    ("registrations", "member applications"),
    ("shops", "shop applications"),
    ("statements_to_build", "statements to build"),
    ("statements_to_pay", "statements to pay"),
)


def todo_logins() -> str:
    """A login line per organizer (138...) with something waiting on their to-do home."""
    lines = []
    organizers = db.session.scalars(
        sa.select(Member)
        .join(RoleAssignment, RoleAssignment.member_id == Member.id)
        .where(RoleAssignment.role == "organizer", Member.phone.like("138%"))
        .distinct()
        .order_by(Member.phone)
    )
    for organizer in organizers:
        counts = organizer_todo(organizer).counts
        work = [f"{counts[queue]} {label}" for queue, label in WORK if counts[queue]]
        if work:
            lines.append(
                f"  pending    {organizer.phone} ({organizer.name}, {organizer.home_unit.name}): "
                + ", ".join(work)
                + " (home page → 待办事项)"
            )
    return "".join(f"{line}\n" for line in lines)


def load_todo_demo(now: datetime | None = None) -> str:
    """Once: the waiting work above and the reminder; returns a summary line."""
    now = now or utcnow()
    organizer = people.find_member_by_phone(ORGANIZER_PHONE)
    admin = people.find_member_by_phone(ADMIN_PHONE)
    if organizer is None or admin is None or people.find_member_by_phone(APPLICANTS[0][0]):
        return ""
    community = organizer.home_unit
    subtree = sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == community.id)
    building = db.session.scalar(
        sa.select(Unit).where(Unit.id.in_(subtree), Unit.kind == "building").order_by(Unit.id)
    )
    for phone, name in APPLICANTS:
        people.create_member(phone=phone, name=name, home_unit_id=building.id, status="pending")
    residents = list(
        db.session.scalars(
            sa.select(Member)
            .where(Member.home_unit_id.in_(subtree), Member.phone.like("139%"))
            .order_by(Member.phone.desc())
            .limit(2)
        )
    )
    owner, awarded = residents[0], residents[1]
    name, category, address, hours = SHOP
    merchants.apply_merchant(
        unit_id=community.id, owner=owner, actor=owner, name=name, category=category,
        address=f"西固区{address}", opening_hours=hours, contact_name=owner.name,
        contact_phone="0931-7523456",
    )  # fmt: skip
    ledger.request_manual_credit(
        ledger="POINTS", code="award", member_id=awarded.id,
        member_unit_id=awarded.home_unit_id, unit_id=awarded.home_unit_id, amount=50,
        memo="冬至给独居老人送饺子，街道表扬奖励", idempotency_key="demo:award:admin",
        requested_by_id=admin.id,
    )  # fmt: skip
    db.session.flush()
    todo = organizer_todo(organizer, now=now)
    inbox.notify(
        organizer,
        "approvals_waiting",
        key="demo:approvals",
        params={"days": 2, **todo.counts},
        link=TODO_LINK,
        now=now - timedelta(hours=2),
    )
    return f"Demo to-do list of {organizer.name}: {todo.total} things waiting.\n"
