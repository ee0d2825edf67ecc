import ast
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.transparency_factories import behind_triggers
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError, InvalidInput
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.errors import CorrectionExceedsOriginal
from timebank.ledger.models import Entry, Transfer


@pytest.fixture
def people(app):
    d = factories.create_district()
    alice = factories.create_member(d["building_a"], name="王秀英")
    bob = factories.create_member(d["building_a"], name="李强")
    organizer = factories.create_member(d["a"], roles=("organizer",))
    second = factories.create_member(d["a"], roles=("organizer",))
    db.session.commit()
    return {"d": d, "alice": alice, "bob": bob, "organizer": organizer, "second": second}


def earn(member, unit, minutes=0, points=0, key=None):
    return ledger.credit_from_evidence(
        member_id=member.id,
        member_unit_id=member.home_unit_id,
        unit_id=unit.id,
        minutes=minutes,
        points=points,
        code="earn_checkin",
        reference_type="attendance",
        reference_id=key or "1",
        idempotency_key=key or "attendance:1",
        actor_id=None,
    )


def gift(donor, recipient) -> dict:
    """donate_hours' arguments naming a donor and a recipient, with their home units."""
    return {
        "donor_id": donor.id,
        "donor_unit_id": donor.home_unit_id,
        "recipient_id": recipient.id,
        "recipient_unit_id": recipient.home_unit_id,
    }


def test_credit_from_evidence_posts_double_entries_once(people):
    alice, unit = people["alice"], people["d"]["a"]
    first = earn(alice, unit, minutes=90, points=15)
    again = earn(alice, unit, minutes=90, points=15)
    assert [t.id for t in first] == [t.id for t in again]
    assert first[0].link_id is not None and first[0].link_id == first[1].link_id
    assert ledger.balances(alice.id) == {
        "HOURS": {"balance": 90, "held": 0, "available": 90},
        "POINTS": {"balance": 15, "held": 0, "available": 15},
    }
    entries = db.session.scalars(sa.select(Entry).order_by(Entry.id)).all()
    assert len(entries) == 4
    assert sum(e.amount for e in entries) == 0
    issuance = ledger.system_account(unit.id, "HOURS", "issuance")
    assert issuance.balance == -90 and issuance.allow_negative
    assert ledger.verify_ledger().ok


def test_same_key_different_body_is_a_conflict_and_changes_nothing(people):
    alice, unit = people["alice"], people["d"]["a"]
    earn(alice, unit, minutes=60, key="attendance:7")
    with pytest.raises(DomainError) as error:
        earn(alice, unit, minutes=61, key="attendance:7")
    assert error.value.code == "idempotency_conflict"
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 60
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 1


def test_no_overdraft_and_bad_requests(people):
    alice, bob = people["alice"], people["bob"]
    earn(alice, people["d"]["a"], points=10)
    a = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id)
    b = ledger.member_account(bob.id, "POINTS", unit_id=bob.home_unit_id)
    with pytest.raises(DomainError) as error:
        ledger.post_transfer(
            ledger="POINTS",
            debit_account_id=a.id,
            credit_account_id=b.id,
            amount=11,
            code="donate",
            idempotency_key="k1",
        )
    assert error.value.code == "insufficient_balance"
    for bad in (
        {"amount": 0},
        {"amount": -3},
        {"amount": 2.5},
        {"credit_account_id": a.id},
        {"code": "steal"},
        {"idempotency_key": ""},
        {"ledger": "GOLD"},
    ):
        fields = {
            "ledger": "POINTS",
            "debit_account_id": a.id,
            "credit_account_id": b.id,
            "amount": 1,
            "code": "donate",
            "idempotency_key": "k2",
            **bad,
        }
        with pytest.raises(InvalidInput):
            ledger.post_transfer(**fields)
    hours = ledger.member_account(bob.id, "HOURS", unit_id=bob.home_unit_id)
    with pytest.raises(InvalidInput) as mismatch:
        ledger.post_transfer(
            ledger="POINTS",
            debit_account_id=a.id,
            credit_account_id=hours.id,
            amount=1,
            code="donate",
            idempotency_key="k3",
        )
    assert mismatch.value.code == "ledger_mismatch"
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 10


def test_linked_transfers_are_all_or_none(people):
    alice, bob = people["alice"], people["bob"]
    earn(alice, people["d"]["a"], points=10)
    a = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id).id
    b = ledger.member_account(bob.id, "POINTS", unit_id=bob.home_unit_id).id
    db.session.commit()
    requests = [
        ledger.TransferRequest("POINTS", a, b, 6, "donate", "link:1"),
        ledger.TransferRequest("POINTS", a, b, 6, "donate", "link:2"),
    ]
    with pytest.raises(DomainError):
        ledger.post_linked(requests)
    db.session.rollback()
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 10
    assert ledger.balances(bob.id)["POINTS"]["balance"] == 0


def test_append_only_triggers_refuse_update_and_delete(people):
    earn(people["alice"], people["d"]["a"], minutes=30)
    db.session.commit()
    for statement in (
        "UPDATE transfers SET amount = 999",
        "DELETE FROM transfers",
        "UPDATE entries SET amount = 1",
        "DELETE FROM entries",
    ):
        with pytest.raises(sa.exc.DatabaseError) as error:
            db.session.execute(sa.text(statement))
        assert "append-only" in str(error.value)
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 2


def test_holds_commit_partly_void_and_expire_once(people):
    alice, unit = people["alice"], people["d"]["a"]
    earn(alice, unit, points=100)
    shop = ledger.system_account(unit.id, "POINTS", "settlement")
    a = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id)
    hold = ledger.place_hold(
        ledger="POINTS",
        debit_account_id=a.id,
        credit_account_id=shop.id,
        amount=60,
        code="redeem",
        idempotency_key="h1",
        timeout=timedelta(minutes=5),
    )
    assert ledger.balances(alice.id)["POINTS"] == {"balance": 100, "held": 60, "available": 40}
    with pytest.raises(DomainError) as error:
        ledger.place_hold(
            ledger="POINTS",
            debit_account_id=a.id,
            credit_account_id=shop.id,
            amount=41,
            code="redeem",
            idempotency_key="h2",
            timeout=timedelta(minutes=5),
        )
    assert error.value.code == "insufficient_balance"
    transfer = ledger.commit_hold(hold.id, amount=50)
    assert transfer.amount == 50
    assert ledger.balances(alice.id)["POINTS"] == {"balance": 50, "held": 0, "available": 50}
    with pytest.raises(DomainError) as twice:
        ledger.void_hold(hold.id)
    assert twice.value.code == "hold_not_pending"
    second = ledger.place_hold(
        ledger="POINTS",
        debit_account_id=a.id,
        credit_account_id=shop.id,
        amount=20,
        code="redeem",
        idempotency_key="h3",
        timeout=timedelta(minutes=5),
    )
    ledger.void_hold(second.id)
    third = ledger.place_hold(
        ledger="POINTS",
        debit_account_id=a.id,
        credit_account_id=shop.id,
        amount=20,
        code="redeem",
        idempotency_key="h4",
        timeout=timedelta(seconds=1),
    )
    assert ledger.expire_holds(utcnow() + timedelta(seconds=2)) == 1
    assert ledger.expire_holds(utcnow() + timedelta(seconds=2)) == 0
    assert third.status == "expired"
    assert ledger.balances(alice.id)["POINTS"] == {"balance": 50, "held": 0, "available": 50}
    assert ledger.verify_ledger().ok


def test_a_hold_on_a_new_key_checks_in_its_update_and_never_doubles_the_key(people):
    """``new_key``: no lookup of the key, the debit checked and held in one conditional
    UPDATE; what it refuses is refused as the locked path refuses it, and a key that was
    not new after all fails on its unique constraint instead of holding twice."""
    alice, unit = people["alice"], people["d"]["a"]
    earn(alice, unit, minutes=30, points=100)
    shop = ledger.system_account(unit.id, "POINTS", "settlement")
    points = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id)
    hours = ledger.member_account(alice.id, "HOURS", unit_id=alice.home_unit_id)

    def hold(key, amount=60, debit=points.id, **known):
        return ledger.place_hold(
            ledger="POINTS", debit_account_id=debit, credit_account_id=shop.id,
            amount=amount, code="redeem", idempotency_key=key,
            timeout=timedelta(minutes=5), new_key=True, **known,
        )  # fmt: skip

    hold("n1", credit_ledger="POINTS")
    assert ledger.balances(alice.id)["POINTS"] == {"balance": 100, "held": 60, "available": 40}
    with pytest.raises(DomainError) as short:
        hold("n2", amount=41)
    assert short.value.code == "insufficient_balance" and short.value.params["available"] == 40
    for refused in ({"debit": hours.id}, {"credit_ledger": "HOURS"}):
        with pytest.raises(DomainError) as mismatch:
            hold("n3", amount=1, **refused)
        assert mismatch.value.code == "ledger_mismatch"
    assert ledger.balances(alice.id)["POINTS"]["held"] == 60
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        hold("n1", amount=10)
    db.session.rollback()
    assert ledger.balances(alice.id)["POINTS"] == {"balance": 100, "held": 60, "available": 40}
    assert ledger.verify_ledger().ok


def test_new_keys_skip_the_lookup_but_a_key_posted_before_still_posts_once(people):
    alice, unit = people["alice"], people["d"]["a"]
    [posted] = earn(alice, unit, points=100, key="attendance:7")  # key "attendance:7:POINTS"
    request = ledger.TransferRequest(
        ledger="POINTS", debit_account_id=posted.debit_account_id,
        credit_account_id=posted.credit_account_id, amount=5, code="earn_checkin",
        idempotency_key="attendance:7:POINTS",
    )  # fmt: skip
    db.session.commit()
    with pytest.raises(DomainError) as error:
        ledger.post_linked([request], new_keys=True)
    assert error.value.code == "idempotency_in_progress"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 1
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 100


def test_corrections_are_bounded_and_value_creating_ones_need_four_eyes(people):
    alice, unit, organizer, second = (
        people["alice"],
        people["d"]["a"],
        people["organizer"],
        people["second"],
    )
    [credit] = earn(alice, unit, minutes=120)
    fix = ledger.correct_transfer(
        credit.id,
        amount=30,
        memo="录入多了半小时",
        idempotency_key="c1",
        actor_id=organizer.id,
        unit_id=unit.id,
    ).transfer
    assert isinstance(fix, Transfer) and fix.corrects_id == credit.id
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 90
    with pytest.raises(CorrectionExceedsOriginal) as too_much:
        ledger.correct_transfer(
            credit.id,
            amount=91,
            memo="x",
            idempotency_key="c2",
            actor_id=organizer.id,
            unit_id=unit.id,
        )
    assert too_much.value.code == "correction_exceeds_original"
    award = ledger.request_manual_credit(
        ledger="POINTS",
        code="award",
        member_id=alice.id,
        member_unit_id=alice.home_unit_id,
        unit_id=unit.id,
        amount=50,
        memo="模范志愿者",
        idempotency_key="a1",
        requested_by_id=organizer.id,
    ).pending
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 0
    with pytest.raises(DomainError) as same_person:
        ledger.approve_manual_credit(award.id, approver_id=organizer.id)
    assert same_person.value.code == "four_eyes"
    transfer = ledger.approve_manual_credit(award.id, approver_id=second.id)
    assert (transfer.actor_id, transfer.approver_id) == (organizer.id, second.id)
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 50
    with pytest.raises(DomainError):
        ledger.approve_manual_credit(award.id, approver_id=second.id)
    assert ledger.verify_ledger().ok


def test_points_expire_oldest_first_and_once(people, app):
    alice, unit = people["alice"], people["d"]["a"]
    app.config["TIMEBANK_POINTS_EXPIRY_DAYS"] = 365
    earn(alice, unit, points=30, key="attendance:1")
    earn(alice, unit, points=20, key="attendance:2")
    a = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id)
    shop = ledger.system_account(unit.id, "POINTS", "settlement")
    ledger.post_transfer(
        ledger="POINTS",
        debit_account_id=a.id,
        credit_account_id=shop.id,
        amount=10,
        code="redeem",
        idempotency_key="r1",
    )
    posted = ledger.expire_points(utcnow() + timedelta(days=366))
    assert [t.amount for t in posted] == [40]
    assert ledger.expire_points(utcnow() + timedelta(days=366)) == []
    assert ledger.balances(alice.id)["POINTS"]["balance"] == 0
    assert ledger.verify_ledger().ok


def test_donation_goes_to_family_and_excess_to_the_pool(people, app):
    alice, bob, unit = people["alice"], people["bob"], people["d"]["a"]
    app.config["TIMEBANK_HOURS_CAP_MINUTES"] = 100
    earn(alice, unit, minutes=300)
    result = ledger.donate_hours(**gift(alice, bob), minutes=150, idempotency_key="d1")
    assert (result.to_member, result.to_pool) == (100, 50)
    assert ledger.balances(bob.id)["HOURS"]["balance"] == 100
    pool = ledger.system_account(bob.home_unit_id, "HOURS", "pool")
    assert pool.balance == 50
    ledger.donate_hours(
        donor_id=alice.id,
        donor_unit_id=alice.home_unit_id,
        pool_unit_id=unit.id,
        minutes=10,
        idempotency_key="d2",
    )
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 140


def test_verify_names_a_row_changed_behind_the_triggers(people):
    alice, unit = people["alice"], people["d"]["a"]
    earn(alice, unit, minutes=60, key="attendance:1")
    earn(alice, unit, minutes=30, key="attendance:2")
    db.session.commit()
    target = db.session.scalars(sa.select(Entry).order_by(Entry.id)).all()[1]
    _tamper(
        f"UPDATE entries SET amount = 600, balance_after = 600 WHERE id = {target.id}", "entries"
    )
    report = ledger.verify_ledger()
    assert not report.ok and f"entry {target.id}" in report.problem


def test_verify_notices_a_deleted_newest_entry_and_broken_checkpoint(people):
    alice, unit = people["alice"], people["d"]["a"]
    earn(alice, unit, minutes=60, key="attendance:1")
    ledger.create_checkpoint("HOURS")
    earn(alice, unit, minutes=30, key="attendance:2")
    db.session.commit()
    assert ledger.verify_ledger().ok
    newest = db.session.scalars(sa.select(Entry).order_by(Entry.id.desc())).first()
    _tamper(f"DELETE FROM entries WHERE id = {newest.id}", "entries")
    report = ledger.verify_ledger()
    assert not report.ok and "account" in report.problem


def test_verify_checks_checkpoints_against_rewritten_history(people):
    alice, unit = people["alice"], people["d"]["a"]
    earn(alice, unit, minutes=60, key="attendance:1")
    db.session.commit()
    checkpoint = ledger.create_checkpoint("HOURS")
    db.session.commit()
    # rewrite consistently (hashes recomputed) so only the checkpoint can tell
    entries = db.session.scalars(sa.select(Entry).order_by(Entry.id)).all()
    for entry in entries:
        _tamper(f"UPDATE entries SET hash = '{'f' * 64}' WHERE id = {entry.id}", "entries")
    report = ledger.verify_ledger()
    assert not report.ok
    assert checkpoint.id  # the chain check fires first here; a rewrite cannot pass both


def _tamper(statement: str, table: str) -> None:
    """Change a row behind the append-only triggers' back."""
    behind_triggers(table, statement)


def test_a_capped_donation_retried_after_the_balance_moved_returns_the_original(people, app):
    alice, bob, unit = people["alice"], people["bob"], people["d"]["a"]
    app.config["TIMEBANK_HOURS_CAP_MINUTES"] = 100
    earn(alice, unit, minutes=300, key="attendance:1")
    first = ledger.donate_hours(**gift(alice, bob), minutes=80, idempotency_key="gift")
    earn(bob, unit, minutes=15, key="attendance:2")  # bob's balance moves: a new split would differ
    again = ledger.donate_hours(**gift(alice, bob), minutes=80, idempotency_key="gift")
    assert [t.id for t in again.transfers] == [t.id for t in first.transfers]
    assert (again.to_member, again.to_pool) == (80, 0)
    assert ledger.balances(alice.id)["HOURS"]["balance"] == 220
    with pytest.raises(DomainError) as error:
        ledger.donate_hours(**gift(alice, bob), minutes=81, idempotency_key="gift")
    assert error.value.code == "idempotency_conflict"


def test_a_guardian_cannot_give_the_wards_hours_to_themselves(people):
    alice, bob, unit = people["alice"], people["bob"], people["d"]["a"]
    earn(alice, unit, minutes=120)
    with pytest.raises(DomainError) as error:
        ledger.donate_hours(
            **gift(alice, bob),
            minutes=60,
            idempotency_key="g",
            actor_id=bob.id,
        )
    assert error.value.code == "guardian_self_dealing"
    assert ledger.balances(bob.id)["HOURS"]["balance"] == 0


def test_a_member_account_settles_with_the_unit_it_was_opened_in(people, app):
    """Expiry and the unit that answers for a transfer come from the account's unit."""
    alice, unit = people["alice"], people["d"]["a"]
    app.config["TIMEBANK_POINTS_EXPIRY_DAYS"] = 30
    [hours, _points] = earn(alice, unit, minutes=60, points=20)
    account = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id)
    assert account.unit_id == alice.home_unit_id != unit.id
    assert ledger.unit_of_transfer(hours) == alice.home_unit_id
    [expired] = ledger.expire_points(utcnow() + timedelta(days=31))
    sink = ledger.system_account(alice.home_unit_id, "POINTS", "expiry")
    assert (expired.debit_account_id, expired.credit_account_id) == (account.id, sink.id)
    with pytest.raises(TypeError):  # a caller's mistake: no account is opened without a unit
        ledger.member_account(people["bob"].id, "POINTS", unit_id=None)


def test_the_ledger_knows_no_caller(project_root):
    """Nothing of the ledger but its edges (api, views) imports people, units or activities."""
    callers = ("timebank.people", "timebank.units", "timebank.activities")
    package = project_root / "timebank" / "ledger"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.parent == package and path.name in ("api.py", "views.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            offenders += [(path.name, n) for n in names if n.startswith(callers)]
    assert offenders == []
