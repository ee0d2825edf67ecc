"""Demo merchants for the demo district: near each community a meat-and-vegetable shop
(菜市场/肉菜店), a barber (理发店) and a pharmacy (药店), each with offers and an owner
who logs in as its staff; volunteers who earned points and spent some; last month
settled and paid; this month open, with a refund; one shop still waiting for approval.

The history is written as it would have been: redemptions confirmed on past days post
their ``redeem`` transfers at those days (the ledger's holds, long resolved, are not
replayed). Loading twice changes nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.core import codes
from timebank.core.clock import utcnow
from timebank.core.timeline import Timeline
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.merchants.models import Merchant, Offer, Redemption
from timebank.people import operations as people
from timebank.people.models import Member
from timebank.units.models import Unit, UnitClosure

STAFF_PHONES = [f"136000000{n:02d}" for n in range(1, 10)]
#: per community: (shop, category, owner, address), near 西柳沟街道 in 兰州西固区
SHOPS = {
    "上坎社区": (
        ("上坎菜市场老王肉菜店", "grocery", "王建国", "上坎路菜市场12号摊位"),
        ("红星理发店", "barber", "李红梅", "上坎路36号"),
        ("康宁大药房上坎店", "pharmacy", "赵德胜", "上坎路58号"),
    ),
    "古浪路社区": (
        ("古浪路鲜肉蔬菜店", "grocery", "马永红", "古浪路农贸市场8号"),
        ("丽人理发店", "barber", "张丽", "古浪路21号"),
        ("仁和药店", "pharmacy", "刘志强", "古浪路45号"),
    ),
    "福利东路社区": (
        ("福利东路平价肉菜店", "grocery", "陈国强", "福利东路菜市场3号"),
        ("新时代理发店", "barber", "孙建华", "福利东路17号"),
        ("百姓大药房福利东路店", "pharmacy", "周淑珍", "福利东路62号"),
    ),
}
#: per category: (title, points, benefit fields, limits)
OFFERS = {
    "grocery": (
        ("满30元减5元", 50, {"benefit": "discount", "discount_fen": 500}, {"per_member_daily": 1}),
        (
            "蔬菜九折（最多减10元）",
            30,
            {"benefit": "percent", "percent_off": 10, "cap_fen": 1000},
            {"per_member_monthly": 4},
        ),
    ),
    "barber": (
        (
            "爱心义剪：免费理发一次",
            200,
            {"benefit": "item", "item_name": "理发一次"},
            {"min_service_minutes": 300, "per_member_monthly": 1, "stock": 60},
        ),
    ),
    "pharmacy": (
        (
            "一次性医用口罩一盒",
            40,
            {"benefit": "item", "item_name": "口罩一盒（50只）"},
            {"stock": 200},
        ),
        (
            "满100元减10元",
            80,
            {"benefit": "discount", "discount_fen": 1000},
            {"budget_points": 8000},
        ),
    ),
}
PENDING_SHOP = ("幸福便利超市", "supermarket", "福利东路社区", "福利东路88号")


def staff_logins(password: str) -> str:
    """The login line of the shops' staff, beside the other demo logins."""
    return (
        f"  shop staff {STAFF_PHONES[0]} ... {STAFF_PHONES[-1]} / {password} "
        "(each owns a demo shop: home page → Counter)"
    )


def load_merchants_demo(
    *,
    password_hash: str,
    seed: int = 2020,
    now: datetime | None = None,
    timeline: Timeline | None = None,
):
    """Create the demo shops, offers and history once; returns a summary line.

    The history's postings are scheduled on ``timeline`` when one is given (the caller
    runs it, interleaved with other modules' history), else written at once."""
    if db.session.scalar(sa.select(Merchant.id).limit(1)) is not None:
        return "Demo merchants are already loaded.\n"
    rng = random.Random(seed)
    now = now or utcnow()
    shops, phones = [], iter(STAFF_PHONES)
    for community in db.session.scalars(
        sa.select(Unit).where(Unit.kind == "community").order_by(Unit.id)
    ):
        organizer = _organizer_of(community)
        for name, category, owner_name, address in SHOPS.get(community.name, ()):
            owner = people.create_member(
                phone=next(phones), name=owner_name, password_hash=password_hash,
                home_unit_id=community.id,
            )  # fmt: skip
            shop = merchants.apply_merchant(
                unit_id=community.id, owner=owner, actor=organizer, name=name,
                category=category, address=f"西固区{address}", opening_hours="每天 7:30–20:00",
                contact_name=owner_name, contact_phone=f"0931-75{rng.randrange(10000, 99999)}",
                lat=36.09 + rng.uniform(-0.01, 0.01), lng=103.63 + rng.uniform(-0.01, 0.01),
            )  # fmt: skip
            merchants.approve_merchant(shop, actor=organizer)
            offers = [_offer(shop, owner, spec, now) for spec in OFFERS[category]]
            shops.append((shop, offers, organizer, community))
    _pending_shop(password_hash)
    own = timeline is None
    timeline = timeline or Timeline()
    redeemed = _history(shops, rng, now, timeline)
    if own:
        timeline.run()
    return (
        f"Demo merchants: {len(shops)} shops near {len(shops) // 3} communities, "
        f"{redeemed} past redemptions, last month settled but for two shops of 上坎社区.\n"
    )


def _organizer_of(community: Unit) -> Member:
    return db.session.scalar(
        sa.select(Member)
        .where(Member.home_unit_id == community.id, Member.phone.like("138%"))
        .order_by(Member.id)
    )


def _offer(shop: Merchant, owner: Member, spec, now: datetime) -> Offer:
    title, cost, benefit, limits = spec
    return merchants.create_offer(
        shop, actor=owner, title=title, points_cost=cost, valid_from=now - timedelta(days=75),
        valid_until=now + timedelta(days=300), description="凭时间银行兑换码使用，不找零。",
        **benefit, **limits,
    )  # fmt: skip


def _pending_shop(password_hash: str) -> None:
    name, category, community_name, address = PENDING_SHOP
    community = db.session.scalar(sa.select(Unit).where(Unit.name == community_name))
    if community is None:
        return
    applicant = db.session.scalar(
        sa.select(Member)
        .where(Member.home_unit_id.in_(_subtree(community.id)), Member.phone.like("139%"))
        .order_by(Member.id.desc())
    )
    if applicant is not None:
        merchants.apply_merchant(
            unit_id=community.id, owner=applicant, actor=applicant, name=name, category=category,
            address=f"西固区{address}", opening_hours="24小时", contact_name=applicant.name,
            contact_phone="0931-7588888",
        )  # fmt: skip


def _subtree(unit_id: int):
    return sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)


def _volunteers(community: Unit, count: int) -> list[Member]:
    return list(
        db.session.scalars(
            sa.select(Member)
            .where(Member.home_unit_id.in_(_subtree(community.id)), Member.phone.like("139%"))
            .order_by(Member.id)
            .limit(count)
        )
    )


def _post(request_fields: dict, at: datetime):
    [transfer] = ledger.post_linked([ledger.TransferRequest(**request_fields)], now=at)
    return transfer


def _earn(member: Member, community: Unit, at: datetime) -> None:
    """Six hours of verified service and 600 points, before last month."""
    for name, amount in (("HOURS", 360), ("POINTS", 600)):
        _post(
            {
                "ledger": name,
                "debit_account_id": ledger.system_account(community.id, name, "issuance").id,
                "credit_account_id": ledger.member_account(
                    member.id, name, unit_id=member.home_unit_id
                ).id,
                "amount": amount,
                "code": "earn_service",
                "idempotency_key": f"demo:earn:{member.id}:{name}",
                "reference_type": "demo",
                "reference_id": f"service:{member.id}",
            },
            at,
        )


def _redemption(shop, offer, member, at: datetime) -> Redemption:
    """A redemption confirmed at ``at``, with its redeem transfer posted at ``at``."""
    redemption = Redemption(
        merchant_id=shop.id, offer=offer, member=member, code_step=codes.step_of(at),
        points=offer.points_cost, status="held", body_hash="demo",
        idempotency_key=f"demo:{member.id}:{at:%Y%m%d%H%M%S}", staff_id=shop.owner_id,
        resolved_by_id=shop.owner_id, created_at=at,
        expires_at=at + timedelta(minutes=2), resolved_at=at + timedelta(seconds=20),
    )  # fmt: skip
    db.session.add(redemption)
    db.session.flush()
    transfer = _post(
        {
            "ledger": "POINTS",
            "debit_account_id": ledger.member_account(
                member.id, "POINTS", unit_id=member.home_unit_id
            ).id,
            "credit_account_id": ledger.merchant_account(shop.id, "POINTS").id,
            "amount": offer.points_cost,
            "code": "redeem",
            "idempotency_key": f"redemption:{redemption.id}:demo",
            "actor_id": shop.owner_id,
            "reference_type": "redemption",
            "reference_id": str(redemption.id),
        },
        redemption.resolved_at,
    )
    redemption.transfer_id = transfer.id
    redemption.status = "confirmed"
    db.session.flush()
    return redemption


def _refund(redemption: Redemption, at: datetime) -> None:
    original = ledger.get_transfer(redemption.transfer_id)
    refund = _post(
        {
            "ledger": "POINTS",
            "debit_account_id": original.credit_account_id,
            "credit_account_id": original.debit_account_id,
            "amount": original.amount,
            "code": "correct",
            "corrects_id": original.id,
            "idempotency_key": f"redemption:{redemption.id}:refund",
            "actor_id": redemption.staff_id,
            "reference_type": "redemption",
            "reference_id": str(redemption.id),
            "memo": "顾客退货",
        },
        at,
    )
    redemption.status = "refunded"
    redemption.refund_transfer_id = refund.id
    redemption.refunded_by_id = redemption.staff_id
    redemption.refunded_at = at
    redemption.refund_reason = "顾客退货"
    db.session.flush()
    merchants.tell_member_refunded(redemption, at)  # the member's inbox says so


def _moments(rng, start: datetime, end: datetime, count: int) -> list[datetime]:
    """``count`` shop-hours moments (08:00 to 19:59 local) between ``start`` and ``end``,
    in order."""
    span = max(1, int((end - start).total_seconds()))
    picked = [start + timedelta(seconds=rng.randrange(span)) for _ in range(count)]
    return sorted(_in_shop_hours(m, start, end).replace(microsecond=0) for m in picked)


def _in_shop_hours(moment: datetime, start: datetime, end: datetime) -> datetime:
    """The same minute moved into 08:00–19:59 of its local day, unless that leaves
    [start, end)."""
    local = moment.astimezone(merchants.local_zone())
    moved = local.replace(hour=8 + local.hour % 12).astimezone(moment.tzinfo)
    return moved if start <= moved < end else moment


def _history(shops, rng: random.Random, now: datetime, timeline: Timeline) -> int:
    """Volunteers earn points two months ago, redeem last month and this month; last
    month is settled; this month's statement is open, with one refund. Every posting is
    scheduled on ``timeline`` at its moment; returns how many redemptions it holds."""
    this_month = merchants.month_bounds(merchants.current_month(now))[0]
    last_month = merchants.month_bounds(merchants.previous_month(now))[0]
    earned_at = last_month - timedelta(days=20) + timedelta(hours=10)  # at 10:00 local
    count = 0
    by_community: dict[int, list] = {}
    for shop, offers, organizer, community in shops:
        by_community.setdefault(community.id, []).append((shop, offers, organizer))
    for community_id, community_shops in by_community.items():
        community = db.session.get(Unit, community_id)
        volunteers = _volunteers(community, 8)
        for member in volunteers:
            timeline.at(earned_at, _earn, member, community, earned_at)
        moments = _moments(rng, last_month + timedelta(hours=2), this_month, 8)
        if now - timedelta(hours=1) > this_month + timedelta(hours=2):
            moments += _moments(rng, this_month + timedelta(hours=2), now - timedelta(hours=1), 5)
        moments.append(now - timedelta(minutes=20))
        for n, at in enumerate(moments):
            shop, offers, _organizer = community_shops[n % len(community_shops)]
            offer = offers[n // len(community_shops) % len(offers)]
            made: list[Redemption] = []  # the refund, scheduled now, finds it here later
            member = volunteers[n % len(volunteers)]
            timeline.at(at, lambda *args, made=made: made.append(_redemption(*args)),
                        shop, offer, member, at)  # fmt: skip
            count += 1
            if n == len(moments) - 3 and at >= this_month:
                refund_at = at + timedelta(minutes=30)
                timeline.at(refund_at, lambda made=made, at=refund_at: _refund(made[0], at))
        timeline.at(now, _settle, community_shops, now)
    return count


#: shops whose last month the organizer still has to settle (his to-do list shows them):
#: one statement built and not paid, one not built yet
LEFT_UNPAID = "康宁大药房上坎店"
LEFT_UNBUILT = "红星理发店"


def _settle(community_shops, now: datetime) -> None:
    """Last month's statements built and paid (but for LEFT_UNPAID and LEFT_UNBUILT),
    this month's built (open)."""
    for shop, _offers, organizer in community_shops:
        if shop.name != LEFT_UNBUILT:
            last = merchants.build_statement(shop, merchants.previous_month(now), now=now)
            if shop.name != LEFT_UNPAID:
                paid_by = {"actor": organizer, "reference": f"西柳沟街道财政所转账 {last.month}"}
                merchants.mark_statement_paid(last.id, now=now, **paid_by)
        merchants.build_statement(shop, merchants.current_month(now), now=now)
