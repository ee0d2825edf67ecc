"""A scene for the organizer's to-do list: something waiting in every queue of one
organizer (tests/unit/test_todo.py and the browser's tests/e2e/test_organizer_todo.py)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests import factories
from tests.activities_factories import create_activity
from tests.merchants_factories import create_merchant, create_offer, fund
from tests.projects_factories import create_project
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.projects import operations as projects

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _award(d, member, requested_by, key):
    ledger.request_manual_credit(
        ledger="HOURS", code="award", member_id=member.id, member_unit_id=member.home_unit_id,
        unit_id=d["a"].id, amount=60, memo="春节慰问", idempotency_key=key,
        requested_by_id=requested_by.id,
    )  # fmt: skip


def todo_scene() -> dict:
    """Community A with something in every queue of its organizer, and community B with
    its own organizer and nothing waiting."""
    d = factories.create_district()
    organizer = factories.create_member(d["a"], roles=("organizer",), name="上坎网格长")
    second = factories.create_member(d["a"], roles=("organizer",), name="上坎社区书记")
    alice = factories.create_member(d["building_a"], name="王秀英")
    bob = factories.create_member(d["building_a"], name="李建国")
    other = factories.create_member(d["b"], roles=("organizer",), name="古浪路网格长")
    factories.create_member(d["building_a"], status="pending", name="新居民")
    now = utcnow()
    # an activity that ended: one check-out to approve and one check-in held for review
    ended = create_activity(d["a"], organizer=organizer, starts_at=now - timedelta(hours=5))
    activities.manual_check_in(ended, alice, actor=organizer, now=ended.starts_at)
    held = activities.manual_check_in(ended, bob, actor=organizer, now=ended.starts_at).attendance
    held.status, held.review_reason = "review", "outside_radius"
    # a running activity's check-ins are not ready to approve yet
    running = create_activity(d["a"], organizer=organizer, starts_at=now - timedelta(minutes=30))
    activities.manual_check_in(running, alice, actor=organizer, now=now)
    # awards: one the second organizer asked for (the organizer decides it), one of the
    # organizer's own (the second decides it)
    _award(d, alice, second, "award:1")
    _award(d, bob, organizer, "award:2")
    start = now - timedelta(hours=2)
    project = create_project(d["a"], organizer=organizer, starts_at=start)
    projects.claim_place(project, alice, now=start - timedelta(days=1))
    projects.change_project_status(project, "in_progress", actor=organizer, now=start)
    projects.log_hours(
        member=alice, logged_by=alice, minutes=90, description="清理楼道",
        served_on=start.astimezone(SHANGHAI).date(), project=project,
    )  # fmt: skip
    create_merchant(d["a"], approved=False, name="上坎便民超市")
    merchant = create_merchant(d["a"], organizer=organizer, name="老王肉菜店")
    fund(alice, 40)
    offer = create_offer(merchant)
    redemption = merchants.redeem(
        code=merchants.current_redeem_code(alice.id).token, offer_id=offer.id,
        idempotency_key="todo-scene", staff=merchant.owner,
    ).redemption  # fmt: skip
    merchants.confirm_redemption(redemption.id, staff=merchant.owner)
    db.session.commit()
    return {
        "d": d, "organizer": organizer, "second": second, "other": other,
        "merchant": merchant, "ended": ended, "now": now,
    }  # fmt: skip
