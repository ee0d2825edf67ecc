"""The log beside concurrent postings and signers, on SQLite and PostgreSQL: an entry
committed late with a lower id is never skipped, and two signers sign once."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from tests import factories
from tests.transparency_factories import ledger_entry_ids, post_entries
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.transparency import operations as transparency
from timebank.transparency.models import LogHead, SignedCheckpoint
from timebank.transparency.operations import log as log_module

pytestmark = pytest.mark.concurrent


def _post_one(unit_id: int, member_id: int, home_id: int, key: str) -> None:
    issuance = ledger.system_account(unit_id, "HOURS", "issuance")
    account = ledger.member_account(member_id, "HOURS", unit_id=home_id)
    ledger.post_transfer(
        ledger="HOURS", debit_account_id=issuance.id, credit_account_id=account.id, amount=5,
        code="earn_checkin", idempotency_key=key,
    )  # fmt: skip


@pytest.fixture
def scene(app):
    street = factories.create_unit(kind="street")
    members = [factories.create_member(street) for _ in range(2)]
    post_entries(3, unit=street, members=members)  # accounts exist; a few entries
    other = factories.create_unit(kind="street")  # B's issuance account: no lock shared with A
    ledger.system_account(other.id, "HOURS", "issuance")
    db.session.commit()
    return {
        "unit": street.id, "other": other.id,
        "members": [(m.id, m.home_unit_id) for m in members],
    }  # fmt: skip


def _in_thread(app, work):
    """Run ``work()`` in a thread with its own app context and session; returns the thread
    and a list that receives its result or error."""
    out: list = []

    def runner():
        with app.app_context():
            try:
                out.append(work())
            except BaseException as error:  # noqa: BLE001 - the test reports it
                db.session.rollback()
                out.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=runner)
    thread.start()
    return thread, out


def test_a_posting_that_commits_late_with_a_lower_id_is_not_skipped(app, scene):
    """A posts (lower entry ids) and stays open; B posts after it and commits; the appender
    starts while A is open. It must wait for A (PostgreSQL: the horizon's SHARE lock;
    SQLite: the write lock), so A's entries join the log before B's, none skipped."""
    unit, [(alice, alice_home), (bob, bob_home)] = scene["unit"], scene["members"]
    a_posted, release_a = threading.Event(), threading.Event()
    postgres = db.session.get_bind().dialect.name == "postgresql"

    def slow_posting():
        _post_one(unit, alice, alice_home, "late:a")
        a_posted.set()
        release_a.wait(10)
        db.session.commit()
        return "a"

    a, a_out = _in_thread(app, slow_posting)
    assert a_posted.wait(10)
    if postgres:  # SQLite: B would wait for A's write lock; the order is then A's anyway
        b, b_out = _in_thread(app, lambda: (_post_one(scene["other"], bob, bob_home, "late:b"),
                                            db.session.commit(), "b")[-1])  # fmt: skip
        b.join(10)
        assert b_out == ["b"]

    def append():
        counts = transparency.append_entries()
        db.session.commit()
        return counts

    appender, appended = _in_thread(app, append)
    time.sleep(0.4)  # the appender is waiting for A now
    assert appended == []
    release_a.set()
    a.join(10)
    appender.join(20)
    assert a_out == ["a"] and isinstance(appended[0], dict), appended
    db.session.expire_all()
    head = db.session.get(LogHead, "HOURS")
    ids = ledger_entry_ids("HOURS")
    assert head.size == len(ids) and head.last_entry_id >= ids[-1]
    report = transparency.verify_logs()["HOURS"]
    assert report.problem is None and report.leaves == len(ids)


def test_the_appender_gives_up_on_a_transaction_that_stays_open(app, scene, monkeypatch):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: an open posting holds the appender at its lock")
    monkeypatch.setattr(log_module, "HORIZON_LOCK_TIMEOUT", "100ms")
    unit, [(alice, alice_home), _] = scene["unit"], scene["members"]
    posted, release = threading.Event(), threading.Event()

    def open_posting():
        _post_one(unit, alice, alice_home, "open:a")
        posted.set()
        release.wait(10)
        db.session.commit()

    holder, _ = _in_thread(app, open_posting)
    assert posted.wait(10)
    before = db.session.get(LogHead, "HOURS")
    counts = transparency.append_entries()
    db.session.commit()
    assert counts == {"HOURS": 0, "POINTS": 0, "waiting": 1}
    assert before is None or db.session.get(LogHead, "HOURS").size == before.size
    release.set()
    holder.join(10)
    assert transparency.append_entries()["HOURS"] == len(ledger_entry_ids("HOURS"))
    db.session.commit()


def test_two_signers_at_once_sign_each_size_once(app, scene):
    post_entries(5, unit=db.session.get(factories.units.Unit, scene["unit"]))
    barrier = threading.Barrier(2)

    def sign():
        barrier.wait()
        signed = transparency.sign_checkpoints()
        db.session.commit()
        return [(c.ledger, c.tree_size) for c in signed]

    threads = [_in_thread(app, sign) for _ in range(2)]
    for thread, _ in threads:
        thread.join(30)
    results = [out[0] for _, out in threads]
    assert all(isinstance(r, list) for r in results), results
    assert sorted(sum(results, [])) == [("HOURS", 16), ("POINTS", 16)]
    rows = db.session.scalars(sa.select(SignedCheckpoint.ledger, SignedCheckpoint.tree_size)).all()
    assert len(rows) == 2
    assert transparency.verify_logs()["POINTS"].problem is None
