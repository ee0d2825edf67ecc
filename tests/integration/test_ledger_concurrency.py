"""The ledger under concurrent writers, on SQLite and PostgreSQL."""

import threading

import pytest
import sqlalchemy as sa

from tests import factories
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Account, PendingCredit, Transfer
from timebank.people.models import Member

pytestmark = pytest.mark.concurrent


def _run_threads(app, count, work):
    """Run ``work(n)`` in ``count`` threads, each in its own app context and session."""
    outcomes: list = [None] * count
    barrier = threading.Barrier(count)

    def runner(n):
        with app.app_context():
            try:
                barrier.wait()
                outcomes[n] = work(n)
                db.session.commit()
            except DomainError as error:
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
def funded(app):
    d = factories.create_district()
    alice = factories.create_member(d["building_a"])
    bob = factories.create_member(d["building_a"])
    ledger.credit_from_evidence(
        member_id=alice.id,
        member_unit_id=alice.home_unit_id,
        unit_id=d["a"].id,
        minutes=600,
        points=70,
        code="earn_checkin",
        reference_type="attendance",
        reference_id="1",
        idempotency_key="attendance:1",
        actor_id=None,
    )
    ledger.credit_from_evidence(
        member_id=bob.id,
        member_unit_id=bob.home_unit_id,
        unit_id=d["a"].id,
        minutes=600,
        points=0,
        code="earn_checkin",
        reference_type="attendance",
        reference_id="2",
        idempotency_key="attendance:2",
        actor_id=None,
    )
    shop = ledger.system_account(d["a"].id, "POINTS", "settlement")
    ids = {
        "alice_points": ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id).id,
        "alice_hours": ledger.member_account(alice.id, "HOURS", unit_id=alice.home_unit_id).id,
        "bob_hours": ledger.member_account(bob.id, "HOURS", unit_id=bob.home_unit_id).id,
        "shop": shop.id,
        "alice": alice.id,
    }
    db.session.commit()
    return ids


def test_64_concurrent_redemptions_exactly_k_succeed(app, funded):
    """70 points, 64 redemptions of 10: exactly 7 succeed, none overdraw."""

    def redeem(n):
        transfer = ledger.post_transfer(
            ledger="POINTS",
            debit_account_id=funded["alice_points"],
            credit_account_id=funded["shop"],
            amount=10,
            code="redeem",
            idempotency_key=f"redeem:{n}",
        )
        return transfer.id

    outcomes = _run_threads(app, 64, redeem)
    assert [o for o in outcomes if not isinstance(o, (int, str))] == []
    assert sum(isinstance(o, int) for o in outcomes) == 7
    assert outcomes.count("insufficient_balance") == 57
    assert ledger.balances(funded["alice"])["POINTS"]["balance"] == 0
    assert ledger.verify_ledger().ok


def test_opposite_transfers_never_deadlock_into_an_error(app, funded):
    def swap(n):
        a, b = funded["alice_hours"], funded["bob_hours"]
        debit, credit = (a, b) if n % 2 else (b, a)
        return ledger.post_transfer(
            ledger="HOURS",
            debit_account_id=debit,
            credit_account_id=credit,
            amount=15,
            code="donate",
            idempotency_key=f"swap:{n}",
        ).id

    outcomes = _run_threads(app, 40, swap)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert ledger.balances(funded["alice"])["HOURS"]["balance"] == 600
    assert ledger.verify_ledger().ok


def test_50_concurrent_submissions_of_one_key_make_one_transfer(app, funded):
    def submit(n):
        return ledger.post_transfer(
            ledger="HOURS",
            debit_account_id=funded["alice_hours"],
            credit_account_id=funded["bob_hours"],
            amount=30,
            code="donate",
            idempotency_key="same-key",
        ).id

    outcomes = _run_threads(app, 50, submit)
    # Every submission gets the one transfer back: the losers wait for the account lock,
    # then find the winner's transfer under the key.
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert len(set(outcomes)) == 1
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Transfer)
        .where(Transfer.idempotency_key == "same-key")
    )
    assert count == 1
    assert ledger.balances(funded["alice"])["HOURS"]["balance"] == 570


def test_two_corrections_of_one_transfer_approved_at_once_give_back_once(app, funded):
    """Each pending correction fits the room alone; approved together, only one posts."""
    home = db.session.get(Member, funded["alice"]).home_unit
    organizers = [factories.create_member(home, roles=("organizer",)) for _ in range(3)]
    gift = ledger.post_transfer(
        ledger="HOURS",
        debit_account_id=funded["alice_hours"],
        credit_account_id=funded["bob_hours"],
        amount=60,
        code="donate",
        idempotency_key="gift",
    )
    pending = [
        ledger.correct_transfer(
            gift.id,
            amount=60,
            memo="捐错了",
            idempotency_key=f"fix:{n}",
            actor_id=organizers[n].id,
            unit_id=ledger.unit_of_transfer(gift),
        ).pending.id
        for n in range(2)
    ]
    db.session.commit()

    outcomes = _run_threads(
        app, 2, lambda n: ledger.approve_manual_credit(pending[n], approver_id=organizers[2].id).id
    )
    assert sorted(map(str, outcomes))[1] == "correction_exceeds_original", outcomes
    corrected = db.session.scalar(
        sa.select(sa.func.sum(Transfer.amount)).where(Transfer.corrects_id == gift.id)
    )
    assert corrected == 60
    assert ledger.balances(funded["alice"])["HOURS"]["balance"] == 600
    assert ledger.verify_ledger().ok


@pytest.mark.parametrize("kind", ["award", "donate_to_member", "donate_to_pool", "correct"])
def test_concurrent_replays_of_one_api_key_answer_200_after_one_success(
    app, funded, token_for, kind
):
    """50 clients send one request with one key at once: one is the original (201, or 202
    for an award waiting for approval), every other is told it is a replay (200)."""
    alice = db.session.get(Member, funded["alice"])
    bob_id = db.session.scalar(
        sa.select(Account.member_id).where(Account.id == funded["bob_hours"])
    )
    organizer = factories.create_member(alice.home_unit, roles=("organizer",))
    caller = organizer if kind in ("award", "correct") else alice
    if kind == "award":
        # bob has no POINTS account yet: the twins also open it at once
        body = {"kind": "award", "ledger": "POINTS", "amount": 5, "member_id": bob_id}
        body["memo"] = "网格模范志愿者"
    elif kind == "correct":
        earned = db.session.scalar(
            sa.select(Transfer.id).where(Transfer.idempotency_key == "attendance:1:HOURS")
        )
        body = {"kind": "correct", "corrects_transfer_id": earned, "amount": 5, "memo": "多记"}
    else:
        body = {"kind": "donate", "amount": 5}
        if kind == "donate_to_member":
            body["recipient_id"] = bob_id
        else:
            body["pool_unit_id"] = alice.home_unit.parent_id  # a grid's pool: buildings have none
    body["idempotency_key"] = "one-key"
    headers = token_for(caller)
    stored_key = f"api:{caller.id}:one-key"
    db.session.commit()

    def send(n):
        response = app.test_client().post("/api/v1/transfers", json=body, headers=headers)
        return response.status_code, response.get_json()

    outcomes = _run_threads(app, 50, send)
    statuses = sorted(o[0] if isinstance(o, tuple) else o for o in outcomes)
    first = 202 if kind == "award" else 201
    assert statuses == [200] * 49 + [first], outcomes
    if kind == "award":
        made = sa.select(PendingCredit.id).where(PendingCredit.idempotency_key == stored_key)
        answered = {o[1]["pending_credit"]["id"] for o in outcomes}
    else:
        made = sa.select(Transfer.id).where(Transfer.idempotency_key == stored_key)
        answered = {o[1]["transfers"][0]["id"] for o in outcomes}
    assert db.session.scalars(made).all() == list(answered)
    assert ledger.verify_ledger().ok
