"""A small world for reports, with figures one can count by hand (kept apart from
factories.py, which other modules grow).

Times are UTC; the deployment's zone is Asia/Shanghai (UTC+8), so 2026-03-31T16:00Z is
midnight of 1 April there: the first moment of 2026Q2.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests import factories
from tests.activities_factories import earn
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people


def at(text: str) -> datetime:
    """``2026-01-10T02:00`` read as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def credit(clock, member, unit, organizer, *, minutes, points, when, title="周六环境整治"):
    """Verified service of ``member`` at an activity of ``unit``, approved and posted at
    ``when`` (the ledger's created_at)."""
    clock.freeze(when)
    return earn(member, unit, organizer, title=title, minutes=minutes, points=points, at=when)


def award(clock, member, unit, requester, approver, *, minutes, when, memo="抗疫表彰"):
    """A manual HOURS award asked for by one organizer and approved by another at ``when``."""
    clock.freeze(when)
    asked = ledger.request_manual_credit(
        ledger="HOURS", code="award", member_id=member.id, member_unit_id=member.home_unit_id,
        unit_id=unit.id, amount=minutes, memo=memo, idempotency_key=f"award:{member.id}:{when}",
        requested_by_id=requester.id,
    )  # fmt: skip
    return ledger.approve_manual_credit(asked.pending.id, approver_id=approver.id)


def quarter_world(clock) -> dict:
    """The first quarter of 2026 in the test district, counted by hand:

    ============  =========  ======  ======  ====================================
    who           lives in   min     points  when (UTC)
    ============  =========  ======  ======  ====================================
    alice (党员)  101号楼    120     20      2026-01-10 02:00 (January)
    alice         101号楼    60      10      2026-02-05 02:00 (February)
    bob           101号楼    90      15      2026-03-31 15:59 (23:59 on 31 March)
    carol         201号楼    30      5       2026-02-20 02:00 (February)
    carol         201号楼    45      5       2026-03-31 16:00 (00:00 on 1 April: Q2)
    ============  =========  ======  ======  ====================================

    Q1: street 300 min, 50 points, 3 volunteers, 1 party member; 上坎社区 270 / 45 / 2 /
    1; 古浪路社区 30 / 5 / 1 / 0; months 120, 90, 90 minutes.
    """
    d = factories.create_district()
    organizer_a = factories.create_member(d["a"], roles=("organizer",), name="李建华")
    organizer_b = factories.create_member(d["b"], roles=("organizer",), name="马桂芳")
    alice = factories.create_member(d["building_a"], name="王秀英")
    bob = factories.create_member(d["building_a"], name="张伟")
    carol = factories.create_member(d["building_b"], name="刘芳")
    people.register_party(alice, branch="兰州石化公司第二党支部")
    credit(clock, alice, d["grid_a"], organizer_a, minutes=120, points=20,
           when=at("2026-01-10T02:00"), title="垃圾分类督导")  # fmt: skip
    credit(clock, alice, d["grid_a"], organizer_a, minutes=60, points=10,
           when=at("2026-02-05T02:00"), title="助老送餐")  # fmt: skip
    credit(clock, bob, d["a"], organizer_a, minutes=90, points=15,
           when=at("2026-03-31T15:59"), title="爱心巡逻")  # fmt: skip
    credit(clock, carol, d["b"], organizer_b, minutes=30, points=5,
           when=at("2026-02-20T02:00"), title="垃圾分类督导")  # fmt: skip
    credit(clock, carol, d["b"], organizer_b, minutes=45, points=5,
           when=at("2026-03-31T16:00"), title="爱心义诊")  # fmt: skip
    db.session.commit()
    return {
        **d, "organizer_a": organizer_a, "organizer_b": organizer_b, "alice": alice,
        "bob": bob, "carol": carol,
    }  # fmt: skip
