"""Redemption under concurrent counters, on SQLite and PostgreSQL: no point is spent twice,
a code redeems once, and an offer's stock and per-member limits hold."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import ON_POSTGRES
from tests.merchants_factories import code_of, create_merchant, create_offer, fund
from tests.statements import BEGIN_IMMEDIATE, recorded_statements, verbs
from timebank.core import codes
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.merchants.models import Redemption
from timebank.people.models import Member

pytestmark = pytest.mark.concurrent


def run_threads(app, count, work):
    """Run ``work(n)`` in ``count`` threads at once, each in its own app context and
    session, committing like a request; returns each result or error code."""
    outcomes: list = [None] * count
    barrier = threading.Barrier(count)

    def runner(n):
        with app.app_context():
            try:
                barrier.wait()
                outcomes[n] = work(n)
                db.session.commit()
            except DomainError as error:
                if error.commit_anyway:
                    db.session.commit()
                else:
                    db.session.rollback()
                outcomes[n] = error.code
            except BaseException as error:  # noqa: BLE001 - the test reports any other failure
                db.session.rollback()
                outcomes[n] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def two_shops(app, district, token_for):
    """Two shops of community A, each with a 10-point offer and a staff token, and a
    member with exactly 10 points."""
    shops = []
    for name in ("老王肉菜店", "红星理发店"):
        merchant = create_merchant(district["a"], name=name)
        offer = create_offer(merchant, points_cost=10)
        shops.append({"merchant": merchant, "offer": offer})
    member = factories.create_member(district["building_a"], name="王秀英")
    fund(member, 10)
    db.session.commit()
    for shop in shops:
        shop["headers"] = token_for(shop["merchant"].owner)
    return shops, member


def post_redemption(app, headers, body):
    response = app.test_client().post("/api/v1/redemptions", json=body, headers=headers)
    return response.status_code, (response.get_json() or {}).get("code")


def test_two_counters_redeem_the_last_points_at_once_and_one_succeeds(app, two_shops):
    shops, member = two_shops
    step = codes.step_of(utcnow())
    # the phone's code now and the one before it: both valid, both the same 10 points
    tokens = [codes.make_token(merchants.REDEEM, member.id, s) for s in (step, step - 1)]

    def counter(n):
        body = {"code": tokens[n], "offer_id": shops[n]["offer"].id, "idempotency_key": f"c{n}"}
        return post_redemption(app, shops[n]["headers"], body)

    outcomes = run_threads(app, 2, counter)
    assert sorted(outcomes) == [(201, None), (409, "insufficient_balance")], outcomes
    assert ledger.balances(member.id)["POINTS"] == {"balance": 10, "held": 10, "available": 0}
    held = db.session.scalars(sa.select(Redemption).where(Redemption.member_id == member.id))
    [redemption] = held.all()
    # two of the shop's counters press confirm at once: exactly one takes the points (the
    # other shop's staff may not confirm it at all: the operation asks)
    owner_id = db.session.get(Redemption, redemption.id).merchant.owner_id
    db.session.commit()  # SQLite: the main thread lets go of the write lock

    def confirm(n):
        staff = db.session.get(Member, owner_id)
        return merchants.confirm_redemption(redemption.id, staff=staff).status

    confirmed = run_threads(app, 2, confirm)
    assert sorted(map(str, confirmed)) == ["confirmed", "redemption_not_held"], confirmed
    assert ledger.balances(member.id)["POINTS"]["balance"] == 0
    assert ledger.verify_ledger().ok


def test_one_code_at_two_counters_at_once_redeems_once(app, two_shops):
    shops, member = two_shops
    fund(member, 90)
    db.session.commit()
    token = merchants.current_redeem_code(member.id).token

    def counter(n):
        body = {"code": token, "offer_id": shops[n]["offer"].id, "idempotency_key": f"r{n}"}
        return post_redemption(app, shops[n]["headers"], body)

    outcomes = run_threads(app, 2, counter)
    assert sorted(outcomes) == [(201, None), (409, "redeem_code_used")], outcomes
    assert ledger.balances(member.id)["POINTS"]["held"] == 10


def test_stock_holds_under_32_concurrent_redemptions(app, district):
    merchant = create_merchant(district["a"])
    offer = create_offer(merchant, points_cost=3, stock=5, budget_points=15)
    members = [factories.create_member(district["building_a"]) for _ in range(32)]
    for member in members:
        fund(member, 10)
    db.session.commit()
    tokens = [merchants.current_redeem_code(m.id).token for m in members]
    offer_id, staff_id = offer.id, merchant.owner_id

    def redeem(n):
        staff = db.session.get(Member, staff_id)
        return merchants.redeem(
            code=tokens[n], offer_id=offer_id, idempotency_key=f"s{n}", staff=staff
        ).redemption.status

    outcomes = run_threads(app, 32, redeem)
    assert outcomes.count("held") == 5, outcomes
    assert outcomes.count("offer_out_of_stock") == 27, outcomes
    assert merchants.offer_usage([offer_id])[offer_id] == {"count": 5, "points": 15}


def test_per_member_limits_hold_under_32_concurrent_redemptions(app, district):
    merchant = create_merchant(district["a"])
    offer = create_offer(
        merchant,
        points_cost=1,
        per_member_daily=3,
        per_member_monthly=4,
        valid_from=utcnow() - timedelta(days=3),
        valid_until=utcnow() + timedelta(days=3),
    )
    member = factories.create_member(district["building_a"], name="王秀英")
    fund(member, 100)
    db.session.commit()
    # 32 counters, each with the member's code of a different 30-second step of today
    today = merchants.local_day_start(utcnow()) + timedelta(hours=1)
    moments = [today + timedelta(seconds=30 * n) for n in range(32)]
    tokens = [merchants.current_redeem_code(member.id, now=m).token for m in moments]
    offer_id, staff_id = offer.id, merchant.owner_id

    def redeem(n):
        staff = db.session.get(Member, staff_id)
        return merchants.redeem(
            code=tokens[n],
            offer_id=offer_id,
            idempotency_key=f"m{n}",
            staff=staff,
            now=moments[n],
        ).redemption.status

    outcomes = run_threads(app, 32, redeem)
    assert outcomes.count("held") == 3, outcomes
    assert outcomes.count("daily_limit_reached") == 29, outcomes
    assert ledger.balances(member.id)["POINTS"]["held"] == 3


def test_on_sqlite_a_counter_takes_the_write_lock_only_to_write(app, client, two_shops):
    if ON_POSTGRES:
        pytest.skip("a SQLite-only detail: PostgreSQL's readers take no lock")
    shops, member = two_shops
    limited = create_offer(shops[0]["merchant"], points_cost=1, per_member_daily=3)
    second = factories.create_member(member.home_unit, name="李桂兰")
    fund(second, 5)
    db.session.commit()
    db.session.expunge_all()  # each request reads what it needs, as in production

    def lock_held_for(method, url, **kwargs):
        """The answer, and the statements from the write lock on."""
        with recorded_statements(lock=True) as statements:
            response = getattr(client, method)(url, headers=shops[0]["headers"], **kwargs)
        assert response.status_code in (200, 201), response.json
        return response.json, statements[statements.index(BEGIN_IMMEDIATE) :]

    def hold(customer, offer, key):
        body = {"code": code_of(customer), "offer_id": offer.id, "idempotency_key": key}
        return lock_held_for("post", "/api/v1/redemptions", json=body)

    # the token, the access check, the code's offer, an earlier answer and the member are
    # read before the lock: holding it, a hold writes the redemption and the ledger's hold
    held, locked_texts = hold(member, shops[0]["offer"], "lock-1")
    locked = verbs(locked_texts)
    # the redemption; the ledger: the member's account checked and held in one conditional
    # UPDATE (its key is new with the redemption, the credit account was read on POINTS),
    # the hold; the redemption's hold. Whether the customer is an official (shown
    # unmasked) was read with the customer, before.
    assert locked == ["BEGIN IMMEDIATE", "INSERT", "UPDATE", "INSERT", "UPDATE"], locked
    _, confirmed_texts = lock_held_for("post", f"/api/v1/redemptions/{held['id']}/confirm")
    confirmed = verbs(confirmed_texts)
    # the redemption locked, the staff's grants (asked of the locked row: the edge read no
    # target of its own), the hold, the hold's point lots; the transfer (raw SQL)
    assert confirmed[:5] == ["BEGIN IMMEDIATE", "SELECT", "SELECT", "SELECT", "SELECT"]
    assert "FROM role_assignments" in confirmed_texts[2], confirmed_texts
    # the customer's official status came with the lock
    assert confirmed.count("SELECT") == 4, confirmed
    # an offer with limits is counted under the lock; a twin that committed meanwhile is
    # met by the INSERT (or looked up if a limit refuses), not by a lookup on every hold
    _, locked = hold(second, limited, "lock-2")
    assert "FROM offers" in locked[1] and "FOR UPDATE" not in locked[1]  # SQLite: the lock
    assert "FROM merchants" in locked[2]  # still accepting points?
    assert "count(*)" in locked[3]  # the member's redemptions today
    assert locked[4].startswith("INSERT INTO redemptions")


@pytest.mark.parametrize("round_", range(3))
def test_a_stock_lowered_while_a_counter_redeems_the_last_one_never_oversells(
    app, district, round_
):
    """merchants.update_offer checks the stock against what is taken on the offer's
    locked row, as a redemption does: lowering the stock to what is taken and a counter
    taking one more at the same moment never both succeed (issue 21, finding 10)."""
    merchant = create_merchant(district["a"], name="老王肉菜店")
    offer = create_offer(merchant, points_cost=10, stock=3)
    buyers = [factories.create_member(district["building_a"]) for _ in range(2)]
    for buyer in buyers:
        fund(buyer, 10)
    merchants.redeem(
        code=code_of(buyers[0]), offer_id=offer.id, idempotency_key=f"race-{round_}-0",
        staff=merchant.owner,
    )  # fmt: skip
    db.session.commit()
    offer_id, owner_id, buyer_id = offer.id, merchant.owner_id, buyers[1].id

    def work(n):
        owner = db.session.get(Member, owner_id)
        if n == 0:
            return merchants.update_offer(offer_id, actor=owner, stock=1).stock
        return merchants.redeem(
            code=code_of(db.session.get(Member, buyer_id)), offer_id=offer_id,
            idempotency_key=f"race-{round_}-1", staff=owner,
        ).redemption.status  # fmt: skip

    lowered, redeemed = run_threads(app, 2, work)
    assert (lowered, redeemed) in ((1, "offer_out_of_stock"), ("invalid_offer", "held")), (
        lowered,
        redeemed,
    )
    db.session.expire_all()
    taken = db.session.scalar(
        sa.select(sa.func.count(Redemption.id)).where(
            Redemption.offer_id == offer_id, Redemption.status == "held"
        )
    )
    assert taken <= db.session.get(type(offer), offer_id).stock
