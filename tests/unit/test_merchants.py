"""Merchants: applying and approval, staff, offers and who may redeem them, the redeem
code, the two-step redemption, limits, expiry with an injected clock, refunds and
settlement (no HTTP)."""

from datetime import timedelta

import pytest

from tests import factories
from tests.merchants_factories import code_of, create_merchant, create_offer, fund, key, make_staff
from timebank.core import access, codes
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.merchants.operations.redeem_codes import REDEEM


@pytest.fixture
def d(app):
    return factories.create_district()


@pytest.fixture
def shop(d):
    """An approved shop of community A with one 10-point offer, and a member with 25."""
    organizer = factories.create_member(d["a"], roles=("organizer",))
    merchant = create_merchant(d["a"], organizer=organizer)
    member = factories.create_member(d["building_a"], name="王秀英")
    fund(member, 25)
    return {
        "merchant": merchant,
        "offer": create_offer(merchant),
        "member": member,
        "owner": merchant.owner,
        "organizer": organizer,
    }


def code_error(callable_, *args, **kwargs) -> str:
    """The error's code; what the call flushed is rolled back, as the unit of work does."""
    with pytest.raises(DomainError) as error, db.session.begin_nested():
        callable_(*args, **kwargs)
    return error.value.code


def points(member) -> dict:
    return ledger.balances(member.id)["POINTS"]


def redeem(shop, member=None, offer=None, *, now=None, code=None):
    member, offer = member or shop["member"], offer or shop["offer"]
    return merchants.redeem(
        code=code or code_of(member, now),
        offer_id=offer.id,
        idempotency_key=key(),
        staff=offer.merchant.owner,  # staff of the offer's own shop
        now=now,
    ).redemption


# ---------------------------------------------------------------- merchants and staff


def test_a_shop_applies_and_an_organizer_approves_it(d):
    owner = factories.create_member(d["building_a"], name="王建国")
    organizer = factories.create_member(d["a"], roles=("organizer",))
    merchant = create_merchant(d["a"], owner=owner, approved=False, name="上坎老王肉菜店")
    assert merchant.status == "pending" and merchant.owner_id == owner.id
    assert merchants.merchant_account_id(merchant.id) is None
    # staff rights begin with approval
    assert not access.may(owner, "redemptions.counter", Target(merchant=merchant.id))
    assert code_error(create_offer, merchant) == "merchant_not_approved"
    merchants.approve_merchant(merchant, actor=organizer)
    assert merchant.status == "approved" and merchant.decided_by_id == organizer.id
    assert merchants.merchant_account_id(merchant.id) is not None
    assert access.may(owner, "redemptions.counter", Target(merchant=merchant.id))
    assert code_error(merchants.approve_merchant, merchant, actor=organizer) == (
        "merchant_not_pending"
    )
    assert (
        code_error(create_merchant, d["a"], owner=owner, approved=False, name="上坎老王肉菜店")
        == "merchant_exists"
    )


def test_suspend_and_reinstate(shop):
    merchant, organizer = shop["merchant"], shop["organizer"]
    merchants.suspend_merchant(merchant, actor=organizer, reason="价格欺诈投诉")
    assert merchant.status == "suspended" and merchant.status_reason == "价格欺诈投诉"
    assert code_error(redeem, shop) == "merchant_not_approved"
    assert code_error(merchants.suspend_merchant, merchant, actor=organizer, reason="x") == (
        "merchant_wrong_status"
    )
    merchants.reinstate_merchant(merchant, actor=organizer)
    assert redeem(shop).status == "held"
    assert code_error(merchants.reinstate_merchant, merchant, actor=organizer) == (
        "merchant_wrong_status"
    )


def test_invalid_profile_fields_are_named(d):
    owner = factories.create_member(d["a"])
    with pytest.raises(DomainError) as error:
        create_merchant(d["a"], owner=owner, category="casino", contact_phone="call me", lat=99.0)
    assert set(error.value.errors) == {"category", "contact_phone", "lat"}


def test_owner_invites_staff_by_phone_scoped_to_one_shop(d, shop):
    owner, merchant = shop["owner"], shop["merchant"]
    clerk = factories.create_member(d["building_a"], name="李娟")
    invited = merchants.invite_staff(merchant, phone=clerk.phone, actor=owner)
    assert invited == {"phone": f"{clerk.phone[:3]}****{clerk.phone[-4:]}", "status": "invited"}
    assert not access.may(clerk, "redemptions.counter", Target(merchant=merchant.id))
    make_staff(merchant, clerk)
    merchants.invite_staff(merchant, phone=clerk.phone, actor=owner)  # already staff: nothing
    assert merchants.invitations_for(clerk) == []
    assert [m.id for m in merchants.list_staff(merchant)] == [owner.id, clerk.id]
    other = create_merchant(d["a"], name="红星理发店", category="barber")
    assert access.may(clerk, "redemptions.counter", Target(merchant=merchant.id))
    assert not access.may(clerk, "redemptions.counter", Target(merchant=other.id))
    # one shop per unit: a role is unique per member and unit
    assert code_error(make_staff, other, clerk) == "staff_of_another_merchant"
    # an unknown phone is answered the same, and nothing happens
    assert merchants.invite_staff(merchant, phone="13699999999", actor=owner) == {
        "phone": "136****9999",
        "status": "invited",
    }
    merchants.remove_staff(merchant, member_id=clerk.id, actor=owner)
    assert not access.may(clerk, "redemptions.counter", Target(merchant=merchant.id))
    assert code_error(merchants.remove_staff, merchant, member_id=owner.id, actor=owner) == (
        "owner_stays_staff"
    )


def test_the_owner_manages_and_organizers_oversee(d, shop):
    owner, clerk = shop["owner"], factories.create_member(d["a"])
    make_staff(shop["merchant"], clerk)
    target = merchants.merchant_owner_target(shop["merchant"].id)
    assert access.may(owner, "merchants.manage", target)
    assert access.may(shop["organizer"], "merchants.manage", target)
    assert not access.may(clerk, "merchants.manage", target)
    assert access.may(owner, "merchants.statements", target)
    assert not access.may(owner, "merchants.settle", target)
    other_organizer = factories.create_member(d["b"], roles=("organizer",))
    assert not access.may(other_organizer, "merchants.manage", target)


# ---------------------------------------------------------------- offers


def test_an_offer_names_its_benefit_completely(shop):
    merchant = shop["merchant"]
    cases = [
        ({"benefit": "discount", "discount_fen": None}, "discount_fen"),
        ({"benefit": "percent", "discount_fen": None, "percent_off": 10}, "cap_fen"),
        ({"benefit": "item", "discount_fen": None}, "item_name"),
        ({"benefit": "free"}, "benefit"),
        ({"points_cost": 0}, "points_cost"),
        ({"stock": 0}, "stock"),
        ({"valid_until": utcnow() - timedelta(days=2)}, "valid_until"),
        ({"title": " "}, "title"),
    ]
    for fields, field in cases:
        with pytest.raises(DomainError) as error:
            create_offer(merchant, **fields)
        assert field in error.value.errors, (fields, error.value.errors)
    offer = create_offer(
        merchant, benefit="percent", discount_fen=None, percent_off=10, cap_fen=1000
    )
    assert (offer.percent_off, offer.cap_fen, offer.discount_fen) == (10, 1000, None)


def test_offers_for_a_member_put_the_affordable_ones_first(d, shop):
    merchant, member = shop["merchant"], shop["member"]
    create_offer(merchant, title="免费理发一次", points_cost=200)
    create_offer(merchant, title="口罩一盒", points_cost=20)
    create_offer(merchant, title="只给古浪路社区", points_cost=5, unit_ids=[d["b"].id])
    create_offer(merchant, title="需要5小时服务", points_cost=8, min_service_minutes=300)
    create_offer(merchant, title="已下架", points_cost=1).status = "withdrawn"
    far = create_merchant(d["b"], name="古浪路药店")
    create_offer(far, title="远处的店", points_cost=1)
    listed = merchants.offers_for_member(member, available_points=25)
    assert [(o.offer.title, o.affordable) for o in listed] == [
        ("满30元减5元", True),
        ("口罩一盒", True),
        ("只给古浪路社区", True),
        ("需要5小时服务", True),
        ("免费理发一次", False),
    ]
    assert [o.ineligible.code if o.ineligible else None for o in listed][2:4] == [
        "offer_not_for_your_unit",
        "not_enough_service",
    ]
    assert listed[-1].missing_points == 175


# ---------------------------------------------------------------- the redeem code


def test_redeem_codes_forged_expired_not_yet_valid_and_typed(shop):
    member = shop["member"]
    now = utcnow()
    code = merchants.current_redeem_code(member.id, now=now)
    assert code.token.startswith(f"r{member.id}.") and code.short_code.startswith(f"{member.id}-")
    assert merchants.read_redeem_code(code.token, now=now).member_id == member.id
    typed = merchants.read_redeem_code(code.short_code, now=now + timedelta(seconds=30))
    assert (typed.member_id, typed.step, typed.typed) == (member.id, code.step, True)
    later = now + timedelta(minutes=2)
    assert code_error(merchants.read_redeem_code, code.token, now=later) == "redeem_code_expired"
    assert code_error(merchants.read_redeem_code, code.short_code, now=later) == (
        "redeem_code_expired"
    )
    forged = code.token[:-4] + ("AAAA" if not code.token.endswith("AAAA") else "BBBB")
    assert code_error(merchants.read_redeem_code, forged, now=now) == "redeem_code_invalid"
    wrong = f"{member.id}-{(int(code.short_code.split('-')[1]) + 1) % 1_000_000:06d}"
    assert code_error(merchants.read_redeem_code, wrong, now=now) == "redeem_code_invalid"
    future = codes.make_token(REDEEM, member.id, code.step + 2)
    assert code_error(merchants.read_redeem_code, future, now=now) == "redeem_code_not_yet_valid"
    badge_purpose = codes.declare_purpose("badge", prefix="m", short_label="badge_short")
    badge = codes.make_token(badge_purpose, member.id, code.step)
    assert code_error(merchants.read_redeem_code, badge, now=now) == "redeem_code_invalid"
    assert code_error(merchants.read_redeem_code, "", now=now) == "redeem_code_invalid"


# ---------------------------------------------------------------- hold, confirm, void


def test_hold_then_confirm_moves_the_points_to_the_shop(shop):
    member, merchant = shop["member"], shop["merchant"]
    redemption = redeem(shop)
    assert redemption.status == "held" and redemption.points == 10
    assert points(member) == {"balance": 25, "held": 10, "available": 15}
    assert merchants.member_pending(member.id) == [redemption]
    merchants.confirm_redemption(redemption.id, staff=shop["owner"])
    assert redemption.status == "confirmed" and redemption.transfer_id is not None
    assert points(member) == {"balance": 15, "held": 0, "available": 15}
    assert merchants.merchant_balance(merchant.id) == 10
    transfer = ledger.get_transfer(redemption.transfer_id)
    assert (transfer.code, transfer.reference_type, transfer.reference_id) == (
        "redeem",
        "redemption",
        str(redemption.id),
    )
    assert code_error(merchants.confirm_redemption, redemption.id, staff=shop["owner"]) == (
        "redemption_not_held"
    )
    summary = merchants.merchant_summary(merchant.id)
    assert (summary.today.count, summary.today.points, summary.balance) == (1, 10, 10)
    assert ledger.verify_ledger().ok


def test_void_releases_the_points(shop):
    redemption = redeem(shop)
    merchants.void_redemption(redemption.id, staff=shop["owner"])
    assert redemption.status == "voided"
    assert points(shop["member"]) == {"balance": 25, "held": 0, "available": 25}
    assert code_error(merchants.void_redemption, redemption.id, staff=shop["owner"]) == (
        "redemption_not_held"
    )


def test_a_code_redeems_once_and_a_key_replays(shop):
    member, offer = shop["member"], shop["offer"]
    code, counter_key = code_of(member), key()
    first = merchants.redeem(
        code=code, offer_id=offer.id, idempotency_key=counter_key, staff=shop["owner"]
    )
    again = merchants.redeem(
        code=code, offer_id=offer.id, idempotency_key=counter_key, staff=shop["owner"]
    )
    assert (first.replayed, again.replayed) == (False, True)
    assert again.redemption.id == first.redemption.id
    other = create_offer(shop["merchant"], title="口罩一盒", points_cost=5)
    assert (
        code_error(
            merchants.redeem,
            code=code,
            offer_id=other.id,
            idempotency_key=counter_key,
            staff=shop["owner"],
        )
        == "idempotency_conflict"
    )
    # the same code at another counter, under another key: used
    assert (
        code_error(
            merchants.redeem,
            code=code,
            offer_id=offer.id,
            idempotency_key=key(),
            staff=shop["owner"],
        )
        == "redeem_code_used"
    )
    assert points(member)["held"] == 10
    # a retry of the first request after its code expired is still a replay
    late = utcnow() + timedelta(minutes=5)
    retry = merchants.redeem(
        code=code, offer_id=offer.id, idempotency_key=counter_key, staff=shop["owner"], now=late
    )
    assert retry.replayed and retry.redemption.id == first.redemption.id


def test_not_enough_points_is_refused_and_holds_nothing(shop):
    expensive = create_offer(shop["merchant"], title="免费理发一次", points_cost=30)
    assert code_error(redeem, shop, offer=expensive) == "insufficient_balance"
    assert points(shop["member"])["held"] == 0
    assert merchants.member_redemptions(shop["member"].id) == []


def test_eligibility_units_and_minimum_service(d, shop):
    member = shop["member"]
    only_b = create_offer(shop["merchant"], title="只给古浪路社区", unit_ids=[d["b"].id])
    assert code_error(redeem, shop, offer=only_b) == "offer_not_for_your_unit"
    only_a = create_offer(shop["merchant"], title="只给上坎社区", unit_ids=[d["a"].id])
    assert redeem(shop, offer=only_a).status == "held"
    five_hours = create_offer(shop["merchant"], title="理发", min_service_minutes=300)
    assert code_error(redeem, shop, offer=five_hours, now=utcnow() + timedelta(seconds=30)) == (
        "not_enough_service"
    )
    fund(member, 0, minutes=300)
    later = utcnow() + timedelta(seconds=31)
    assert redeem(shop, offer=five_hours, now=later).status == "held"


def test_withdrawn_and_out_of_window_offers(shop):
    offer = create_offer(
        shop["merchant"],
        title="下周开始",
        valid_from=utcnow() + timedelta(days=7),
        valid_until=utcnow() + timedelta(days=9),
    )
    assert code_error(redeem, shop, offer=offer) == "offer_not_started"
    ended = create_offer(
        shop["merchant"],
        title="上月",
        valid_from=utcnow() - timedelta(days=40),
        valid_until=utcnow() - timedelta(days=10),
    )
    assert code_error(redeem, shop, offer=ended) == "offer_ended"
    merchants.withdraw_offer(shop["offer"])
    assert code_error(redeem, shop) == "offer_withdrawn"


# ---------------------------------------------------------------- limits


def test_stock_and_budget_count_held_and_confirmed_but_not_voided(d, shop):
    offer = create_offer(shop["merchant"], title="限量", points_cost=1, stock=2)
    members = [factories.create_member(d["building_a"]) for _ in range(4)]
    for m in members:
        fund(m, 5)
    first = redeem(shop, members[0], offer)
    redeem(shop, members[1], offer)
    assert code_error(redeem, shop, members[2], offer) == "offer_out_of_stock"
    merchants.void_redemption(first.id, staff=shop["owner"])
    assert redeem(shop, members[2], offer).status == "held"
    budget = create_offer(shop["merchant"], title="预算", points_cost=2, budget_points=3)
    redeem(shop, members[3], budget)
    # members[0] used this step's code: the next step's code
    later = utcnow() + timedelta(seconds=31)
    assert code_error(redeem, shop, members[0], budget, now=later) == "offer_budget_exhausted"
    assert merchants.offer_usage([offer.id])[offer.id] == {"count": 2, "points": 2}


def test_per_member_limits_by_local_day_and_month(shop):
    offer = create_offer(
        shop["merchant"],
        title="每日一次",
        points_cost=1,
        per_member_daily=1,
        per_member_monthly=2,
        valid_from=utcnow() - timedelta(days=60),
        valid_until=utcnow() + timedelta(days=60),
    )
    member = shop["member"]
    zone = merchants.local_zone()
    # the 10th, local noon, of next month: three days in one local month
    today = utcnow().astimezone(zone)
    month = today.replace(day=28) + timedelta(days=10)
    day = month.replace(day=10, hour=12, minute=0, second=0, microsecond=0)

    def at(days):
        return redeem(shop, member, offer, now=day + timedelta(days=days))

    at(0)
    assert code_error(at, 0.01) == "daily_limit_reached"
    at(1)
    assert code_error(at, 2) == "monthly_limit_reached"


# ---------------------------------------------------------------- expiry (injected clock)


def test_an_expired_hold_releases_the_points(shop):
    member = shop["member"]
    redemption = redeem(shop)
    assert points(member)["available"] == 15
    timeout = merchants.hold_timeout()
    assert merchants.expire_stale_redemptions(utcnow() + timeout - timedelta(seconds=5)) == 0
    later = redemption.expires_at + timedelta(seconds=1)
    assert merchants.expire_stale_redemptions(later) == 1
    assert redemption.status == "expired"
    assert points(member) == {"balance": 25, "held": 0, "available": 25}
    assert merchants.expire_stale_redemptions(later) == 0  # twice changes nothing
    assert code_error(merchants.confirm_redemption, redemption.id, staff=shop["owner"]) == (
        "redemption_expired"
    )
    assert ledger.verify_ledger().ok


def test_confirming_too_late_releases_instead(shop):
    redemption = redeem(shop)
    late = redemption.expires_at + timedelta(seconds=1)
    with pytest.raises(DomainError) as error:
        merchants.confirm_redemption(redemption.id, staff=shop["owner"], now=late)
    assert error.value.code == "redemption_expired" and error.value.commit_anyway
    db.session.commit()  # what the unit of work does: the release is kept
    assert redemption.status == "expired"
    assert points(shop["member"])["held"] == 0


# ---------------------------------------------------------------- refunds


def confirmed(shop, **kwargs):
    redemption = redeem(shop, **kwargs)
    return merchants.confirm_redemption(redemption.id, staff=shop["owner"])


def test_a_refund_is_a_correcting_transfer_linked_to_the_original(shop):
    redemption = confirmed(shop)
    merchants.refund_redemption(redemption.id, staff=shop["owner"], reason="顾客退货")
    assert redemption.status == "refunded"
    refund = ledger.get_transfer(redemption.refund_transfer_id)
    assert (refund.code, refund.corrects_id, refund.amount, refund.memo) == (
        "correct",
        redemption.transfer_id,
        10,
        "顾客退货",
    )
    assert points(shop["member"])["balance"] == 25
    assert merchants.merchant_balance(shop["merchant"].id) == 0
    assert code_error(merchants.refund_redemption, redemption.id, staff=shop["owner"]) == (
        "redemption_not_confirmed"
    )
    assert ledger.verify_ledger().ok


def test_refunds_end_after_the_refund_period(shop):
    redemption = confirmed(shop)
    late = utcnow() + merchants.refund_period() + timedelta(minutes=1)
    assert (
        code_error(merchants.refund_redemption, redemption.id, staff=shop["owner"], now=late)
        == "refund_period_over"
    )
    held = redeem(shop, now=utcnow() + timedelta(seconds=30))
    assert code_error(merchants.refund_redemption, held.id, staff=shop["owner"]) == (
        "redemption_not_confirmed"
    )


# ---------------------------------------------------------------- settlement


def next_month_start(now):
    return merchants.month_bounds(merchants.current_month(now))[1]


def test_a_statement_is_built_from_the_ledger_and_rebuilt_the_same(shop):
    merchant, now = shop["merchant"], utcnow()
    kept, refunded = confirmed(shop), confirmed(shop, now=now + timedelta(seconds=30))
    merchants.refund_redemption(refunded.id, staff=shop["owner"])
    period = merchants.current_month(now)
    statement = merchants.build_statement(merchant, period)
    figures = (
        statement.redemptions,
        statement.refunds,
        statement.points_redeemed,
        statement.points_refunded,
        statement.points_net,
        statement.amount_fen,
    )
    assert figures == (2, 1, 20, 10, 10, 10 * merchants.point_value_fen())
    assert [line.redemption_id for line in merchants.statement_lines(merchant.id, period)] == [
        kept.id,
        refunded.id,
    ]
    again = merchants.build_statement(merchant, period)
    assert again.id == statement.id and again.points_net == 10
    assert merchants.statement_figures(merchant.id, period).points_net == statement.points_net


def test_marking_paid_posts_a_settle_transfer_and_freezes_the_month(shop):
    merchant, organizer, now = shop["merchant"], shop["organizer"], utcnow()
    redemption = confirmed(shop)
    statement = merchants.build_statement(merchant, merchants.current_month(now))
    assert code_error(merchants.mark_statement_paid, statement.id, actor=organizer) == (
        "statement_period_open"
    )
    after = next_month_start(now) + timedelta(hours=1)
    merchants.mark_statement_paid(
        statement.id, actor=organizer, reference="银行转账 0042", now=after
    )
    assert statement.status == "paid" and statement.payment_reference == "银行转账 0042"
    settle = ledger.get_transfer(statement.settle_transfer_id)
    assert (settle.code, settle.amount) == ("settle", 10)
    settlement = ledger.system_account(merchant.unit_id, "POINTS", "settlement")
    assert settlement.balance == 10 and merchants.merchant_balance(merchant.id) == 0
    assert (
        code_error(merchants.mark_statement_paid, statement.id, actor=organizer, now=after)
        == "statement_paid"
    )
    # the month is settled: its redemptions are no longer refunded, its figures never change
    assert code_error(merchants.refund_redemption, redemption.id, staff=shop["owner"]) == (
        "redemption_settled"
    )
    assert merchants.build_statement(merchant, statement.period_start).points_net == 10
    assert ledger.verify_ledger().ok


def test_monthly_statements_for_every_approved_shop(d, shop):
    confirmed(shop)
    create_merchant(d["b"], name="古浪路药店", category="pharmacy")
    create_merchant(d["b"], name="未批准的店", approved=False)
    after = next_month_start(utcnow()) + timedelta(days=2)
    built = merchants.build_monthly_statements(after)
    # a shop that redeemed nothing gets no ¥0 statement to "pay" (issue 21, finding 11)
    assert [(s.merchant.name, s.points_net) for s in built] == [(shop["merchant"].name, 10)]
    assert len(merchants.build_monthly_statements(after)) == 1  # again: the same one
    assert code_error(merchants.parse_month, "2026-13") == "invalid_month"


def test_settlement_totals_equal_the_ledger(d, shop):
    """Three shops, redemptions, a refund, statements built and one paid: the statements'
    figures are the ledger's, summed independently from its transfers, and the points
    not yet settled are exactly the shops' balances."""
    import sqlalchemy as sa

    from timebank.ledger.models import Account, Transfer

    others = [create_merchant(d["a"], name=f"第{n}家店") for n in range(2)]
    shops = [shop["merchant"], *others]
    offers = [shop["offer"], *(create_offer(m, points_cost=3 + n) for n, m in enumerate(others))]
    members = [factories.create_member(d["building_a"]) for _ in range(6)]
    for member in members:
        fund(member, 40)
    confirmed_ids = []
    for n, member in enumerate(members):
        for k, offer in enumerate(offers):
            if (n + k) % 3:
                at = utcnow() + timedelta(seconds=30 * k)
                held = redeem(shop, member, offer, now=at)
                staff = offer.merchant.owner
                confirmed_ids.append(merchants.confirm_redemption(held.id, staff=staff).id)
    refunded = merchants.get_redemption(confirmed_ids[1])
    merchants.refund_redemption(refunded.id, staff=refunded.merchant.owner, reason="退货")
    period = merchants.current_month(utcnow())
    statements = [merchants.build_statement(m, period) for m in shops]
    after = next_month_start(utcnow()) + timedelta(hours=2)
    merchants.mark_statement_paid(statements[0].id, actor=shop["organizer"], now=after)

    merchant_accounts = sa.select(Account.id).where(Account.kind == "merchant")
    redeemed = db.session.scalar(
        sa.select(sa.func.sum(Transfer.amount)).where(
            Transfer.code == "redeem", Transfer.credit_account_id.in_(merchant_accounts)
        )
    )
    refunded = db.session.scalar(
        sa.select(sa.func.sum(Transfer.amount)).where(
            Transfer.code == "correct", Transfer.debit_account_id.in_(merchant_accounts)
        )
    )
    settled = db.session.scalar(
        sa.select(sa.func.sum(Transfer.amount)).where(Transfer.code == "settle")
    )
    assert sum(s.points_redeemed for s in statements) == redeemed
    assert sum(s.points_refunded for s in statements) == refunded
    assert sum(s.points_net for s in statements) == redeemed - refunded
    assert settled == statements[0].points_net
    unsettled = sum(s.points_net for s in statements if s.status == "open")
    assert sum(merchants.merchant_balance(m.id) for m in shops) == unsettled
    assert sum(s.amount_fen for s in statements) == (redeemed - refunded) * 10
    for statement, merchant in zip(statements, shops, strict=True):
        rebuilt = merchants.statement_figures(merchant.id, period)
        assert (rebuilt.points_redeemed, rebuilt.points_refunded) == (
            statement.points_redeemed,
            statement.points_refunded,
        )
    assert ledger.verify_ledger().ok
