"""Ledger properties: random sequences of operations against a plain in-memory model.

Each hypothesis example starts from an empty database (the test database's reset: a
fresh copy on SQLite, a new rolled-back transaction on PostgreSQL), so the checks after
every step cost the same in the last example as in the first. The model tracks its
accounts (balance, held, point lots), holds, pending credits and the transfers posted;
after every step the database must agree with it, and the global invariants must hold:
each ledger sums to zero, every cached balance and version matches the entries, no
no-overdraft account is below zero, and ``verify_ledger`` is OK. Every operation is
expected to raise exactly when the model says so, with the same error code.

Like a request, each successful step commits and each refused one rolls back.
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests import factories
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Account, Entry, Hold, PendingCredit, PointLot, Transfer

LEDGERS = ("HOURS", "POINTS")
MEMBERS = 3


@dataclass
class ModelAccount:
    id: int
    kind: str
    allow_negative: bool
    balance: int = 0
    held: int = 0
    #: POINTS lots of a member account, oldest first: [remaining, policy days or None]
    lots: list[list] = field(default_factory=list)

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass
class ModelTransfer:
    id: int
    ledger: str
    debit: int
    credit: int
    amount: int
    code: str
    corrected: int = 0


@dataclass
class ModelHold:
    id: int
    debit: int
    credit: int
    ledger: str
    amount: int
    timeout_hours: int
    status: str = "pending"


@dataclass
class ModelPending:
    id: int
    original: ModelTransfer
    debit: int
    credit: int
    amount: int
    status: str = "pending"


class LedgerMachine(RuleBasedStateMachine):
    """One example: a fresh unit with three members and two organizers."""

    #: the Flask app of the test (its app context is active while the machine runs)
    app = None
    #: the test's database (conftest's TestDatabase), emptied before each example
    database = None

    def __init__(self):
        super().__init__()
        self.database.reset()
        self.tag = uuid.uuid4().hex[:12]
        self.serial = itertools.count(1)
        unit = factories.create_unit(name=f"单元-{self.tag}")
        self.unit_id = unit.id
        self.members = [
            factories.create_member(unit, name=f"成员{i}-{self.tag}").id for i in range(MEMBERS)
        ]
        self.organizers = [
            factories.create_member(unit, roles=("organizer",), name=f"组织者{i}-{self.tag}").id
            for i in range(2)
        ]
        self.accounts: dict[int, ModelAccount] = {}
        self.member_accounts = [
            {
                name: self._track(ledger.member_account(m, name, unit_id=self.unit_id))
                for name in LEDGERS
            }
            for m in self.members
        ]
        self.system = {
            (name, kind): self._track(ledger.system_account(self.unit_id, name, kind))
            for name in LEDGERS
            for kind in ("issuance", "expiry", "correction", "settlement", "pool")
        }
        db.session.commit()
        self.expiry_days = 0
        self.hours_cap = 0
        self.app.config["TIMEBANK_POINTS_EXPIRY_DAYS"] = 0
        self.app.config["TIMEBANK_HOURS_CAP_MINUTES"] = 0
        self.transfers: list[ModelTransfer] = []
        self.holds: list[ModelHold] = []
        self.pendings: list[ModelPending] = []
        #: successful requests that may be replayed: (kind, arguments, transfer ids)
        self.replays: list[tuple[str, dict, list[int]]] = []

    def teardown(self):
        db.session.rollback()

    # ------------------------------------------------------------ helpers

    def _track(self, account: Account) -> int:
        self.accounts[account.id] = ModelAccount(account.id, account.kind, account.allow_negative)
        return account.id

    def key(self, what: str) -> str:
        return f"{what}:{self.tag}:{next(self.serial)}"

    def attempt(self, expected: str | None, operation):
        """Run one operation as a request would: commit on success, roll back on a refusal.

        It must raise a DomainError with code ``expected``, or succeed when that is None.
        """
        try:
            result = operation()
        except DomainError as error:
            db.session.rollback()
            assert expected is not None, f"raised {error.code} ({error}); the model expected OK"
            assert error.code == expected, f"raised {error.code} ({error}); expected {expected}"
            return None
        assert expected is None, f"succeeded; the model expected {expected}"
        db.session.commit()
        return result

    def apply(self, transfer, ledger_name: str, debit: int, credit: int, amount: int, code: str):
        """Book a posted transfer in the model, point lots included (FIFO by lot age)."""
        assert (transfer.debit_account_id, transfer.credit_account_id, transfer.amount) == (
            debit,
            credit,
            amount,
        )
        self.accounts[debit].balance -= amount
        self.accounts[credit].balance += amount
        if ledger_name == "POINTS":
            if self.accounts[credit].kind == "member":
                self.accounts[credit].lots.append([amount, self.expiry_days or None])
            if self.accounts[debit].kind == "member":
                left = amount
                # soonest expiry first, then oldest: a lot's expiry is its policy's days
                # after a moment within this example, so days then age give the order
                for lot in sorted(
                    self.accounts[debit].lots, key=lambda lot: (lot[1] is None, lot[1] or 0)
                ):
                    take = min(lot[0], left)
                    lot[0] -= take
                    left -= take
        model = ModelTransfer(transfer.id, ledger_name, debit, credit, amount, code)
        self.transfers.append(model)
        return model

    def draw_member_pair(self, first: int, offset: int) -> tuple[int, int]:
        return first, (first + 1 + offset) % MEMBERS

    # ------------------------------------------------------------ rules

    @rule(
        member=st.integers(0, MEMBERS - 1),
        minutes=st.integers(0, 120),
        points=st.integers(0, 120),
    )
    def credit_from_evidence(self, member, minutes, points):
        key = self.key("attendance")
        arguments = {
            "member_id": self.members[member],
            "member_unit_id": self.unit_id,
            "unit_id": self.unit_id,
            "minutes": minutes,
            "points": points,
            "code": "earn_checkin",
            "reference_type": "attendance",
            "reference_id": key,
            "idempotency_key": key,
            "actor_id": None,
        }
        posted = self.attempt(None, lambda: ledger.credit_from_evidence(**arguments))
        amounts = [
            (name, amount)
            for name, amount in zip(LEDGERS, (minutes, points), strict=True)
            if amount
        ]
        assert len(posted) == len(amounts)
        for transfer, (name, amount) in zip(posted, amounts, strict=True):
            issuance = self.system[(name, "issuance")]
            credit = self.member_accounts[member][name]
            self.apply(transfer, name, issuance, credit, amount, "earn_checkin")
        if posted:
            self.replays.append(("evidence", arguments, [t.id for t in posted]))

    @rule(
        member=st.integers(0, MEMBERS - 1),
        offset=st.integers(0, MEMBERS - 2),
        ledger_name=st.sampled_from(LEDGERS),
        amount=st.integers(1, 120),
    )
    def transfer_between_members(self, member, offset, ledger_name, amount):
        source, target = self.draw_member_pair(member, offset)
        fields = {
            "ledger": ledger_name,
            "debit_account_id": self.member_accounts[source][ledger_name],
            "credit_account_id": self.member_accounts[target][ledger_name],
            "amount": amount,
            "code": "donate",
            "idempotency_key": self.key("donate"),
            "actor_id": self.members[source],
        }
        debit = self.accounts[fields["debit_account_id"]]
        expected = None if debit.available >= amount else "insufficient_balance"
        transfer = self.attempt(expected, lambda: ledger.post_transfer(**fields))
        if transfer is not None:
            self.apply(
                transfer,
                ledger_name,
                fields["debit_account_id"],
                fields["credit_account_id"],
                amount,
                "donate",
            )
            self.replays.append(("transfer", fields, [transfer.id]))

    @rule(
        member=st.integers(0, MEMBERS - 1),
        ledger_name=st.sampled_from(LEDGERS),
        amount=st.integers(1, 120),
        timeout_hours=st.sampled_from([1, 48]),
    )
    def place_hold(self, member, ledger_name, amount, timeout_hours):
        debit = self.member_accounts[member][ledger_name]
        credit = self.system[(ledger_name, "settlement")]
        expected = None if self.accounts[debit].available >= amount else "insufficient_balance"
        hold = self.attempt(
            expected,
            lambda: ledger.place_hold(
                ledger=ledger_name,
                debit_account_id=debit,
                credit_account_id=credit,
                amount=amount,
                code="redeem",
                idempotency_key=self.key("hold"),
                timeout=timedelta(hours=timeout_hours),
            ),
        )
        if hold is not None:
            self.accounts[debit].held += amount
            self.holds.append(ModelHold(hold.id, debit, credit, ledger_name, amount, timeout_hours))

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def commit_hold(self, data):
        hold = data.draw(st.sampled_from(self.holds))
        take = data.draw(st.none() | st.integers(1, hold.amount + 2), label="take")
        if hold.status != "pending":
            expected = "hold_not_pending"
        elif take is not None and take > hold.amount:
            expected = "invalid_amount"
        else:
            expected = None
        transfer = self.attempt(expected, lambda: ledger.commit_hold(hold.id, amount=take))
        if transfer is not None:
            self.accounts[hold.debit].held -= hold.amount
            hold.status = "committed"
            self.apply(
                transfer, hold.ledger, hold.debit, hold.credit, take or hold.amount, "redeem"
            )

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def void_hold(self, data):
        hold = data.draw(st.sampled_from(self.holds))
        expected = None if hold.status == "pending" else "hold_not_pending"
        if self.attempt(expected, lambda: ledger.void_hold(hold.id)) is not None:
            self.accounts[hold.debit].held -= hold.amount
            hold.status = "voided"

    @rule(hours_ahead=st.sampled_from([2, 100]))
    def expire_holds(self, hours_ahead):
        self.attempt(None, lambda: ledger.expire_holds(utcnow() + timedelta(hours=hours_ahead)))
        for hold in self.holds:
            if hold.status == "pending" and hold.timeout_hours <= hours_ahead:
                self.accounts[hold.debit].held -= hold.amount
                hold.status = "expired"

    @precondition(lambda self: self.transfers)
    @rule(data=st.data())
    def correct_transfer(self, data):
        original = data.draw(st.sampled_from(self.transfers))
        amount = data.draw(st.integers(1, original.amount + 3), label="amount")
        # The correction moves value back: from the original's credit to its debit account.
        debit, credit = self.accounts[original.credit], self.accounts[original.debit]
        value_creating = credit.kind == "member"
        if original.code == "correct":
            expected = "invalid_input"
        elif original.corrected + amount > original.amount:
            expected = "correction_exceeds_original"
        elif not value_creating and not debit.allow_negative and debit.available < amount:
            expected = "insufficient_balance"
        else:
            expected = None
        result = self.attempt(
            expected,
            lambda: ledger.correct_transfer(
                original.id,
                amount=amount,
                memo="录入有误",
                idempotency_key=self.key("correct"),
                actor_id=self.organizers[0],
                unit_id=self.unit_id,
            ),
        )
        if result is None:
            return
        assert not result.replayed
        if value_creating:
            pending = result.pending
            assert isinstance(pending, PendingCredit) and result.transfer is None, result
            self.pendings.append(ModelPending(pending.id, original, debit.id, credit.id, amount))
        else:
            transfer = result.transfer
            assert isinstance(transfer, Transfer) and transfer.corrects_id == original.id
            self.apply(transfer, original.ledger, debit.id, credit.id, amount, "correct")
            original.corrected += amount

    @precondition(lambda self: self.pendings)
    @rule(data=st.data(), approver=st.sampled_from([1, 1, 1, 0]))
    def approve_correction(self, data, approver):
        pending = data.draw(st.sampled_from(self.pendings))
        original, debit = pending.original, self.accounts[pending.debit]
        if approver == 0:
            expected = "four_eyes"
        elif pending.status != "pending":
            expected = "already_decided"
        elif original.corrected + pending.amount > original.amount:
            expected = "correction_exceeds_original"
        elif not debit.allow_negative and debit.available < pending.amount:
            expected = "insufficient_balance"
        else:
            expected = None
        transfer = self.attempt(
            expected,
            lambda: ledger.approve_manual_credit(pending.id, approver_id=self.organizers[approver]),
        )
        if transfer is not None:
            assert (transfer.actor_id, transfer.approver_id) == tuple(self.organizers)
            assert transfer.corrects_id == original.id
            self.apply(
                transfer, original.ledger, pending.debit, pending.credit, pending.amount, "correct"
            )
            original.corrected += pending.amount
            pending.status = "approved"

    @rule(days=st.sampled_from([0, 30, 365]))
    def set_points_expiry(self, days):
        self.expiry_days = days
        self.app.config["TIMEBANK_POINTS_EXPIRY_DAYS"] = days

    @rule(days_ahead=st.sampled_from([10, 100, 400, 1000]))
    def expire_points(self, days_ahead):
        # A lot made with policy d days expires before as_of = now + days_ahead iff d <= it.
        as_of = utcnow() + timedelta(days=days_ahead)
        expected = {}
        for accounts in self.member_accounts:
            account = self.accounts[accounts["POINTS"]]
            due = sum(rest for rest, days in account.lots if days and days <= days_ahead)
            amount = min(due, max(account.available, 0))
            if amount > 0:
                expected[account.id] = amount
        posted = self.attempt(None, lambda: ledger.expire_points(as_of))
        mine = {t.debit_account_id: t for t in posted if t.debit_account_id in self.accounts}
        assert {a: t.amount for a, t in mine.items()} == expected
        for account_id, transfer in mine.items():
            sink = self.system[("POINTS", "expiry")]
            self.apply(transfer, "POINTS", account_id, sink, transfer.amount, "expire")
        again = self.attempt(None, lambda: ledger.expire_points(as_of))
        repeated = [(t.debit_account_id, t.amount) for t in again if t.debit_account_id in mine]
        assert repeated == [], f"expire_points is not idempotent for one day: {repeated}"

    @rule(days=st.sampled_from([0, 150]))
    def set_hours_cap(self, days):
        self.hours_cap = days
        self.app.config["TIMEBANK_HOURS_CAP_MINUTES"] = days

    @rule(
        donor=st.integers(0, MEMBERS - 1),
        offset=st.integers(0, MEMBERS - 2),
        to_pool=st.booleans(),
        minutes=st.integers(1, 120),
    )
    def donate_hours(self, donor, offset, to_pool, minutes):
        donor, recipient = self.draw_member_pair(donor, offset)
        source = self.member_accounts[donor]["HOURS"]
        pool = self.system[("HOURS", "pool")]
        target = self.member_accounts[recipient]["HOURS"]
        if to_pool:
            to_member = 0
        elif self.hours_cap:
            to_member = max(0, min(minutes, self.hours_cap - self.accounts[target].balance))
        else:
            to_member = minutes
        expected = None if self.accounts[source].available >= minutes else "insufficient_balance"
        result = self.attempt(
            expected,
            lambda: ledger.donate_hours(
                donor_id=self.members[donor],
                donor_unit_id=self.unit_id,
                minutes=minutes,
                idempotency_key=self.key("gift"),
                recipient_id=None if to_pool else self.members[recipient],
                recipient_unit_id=None if to_pool else self.unit_id,
                pool_unit_id=self.unit_id if to_pool else None,
            ),
        )
        if result is None:
            return
        assert not result.replayed
        assert (result.to_member, result.to_pool) == (to_member, minutes - to_member)
        legs = [(target, to_member), (pool, minutes - to_member)]
        legs = [(credit, amount) for credit, amount in legs if amount]
        assert len(result.transfers) == len(legs)
        for transfer, (credit, amount) in zip(result.transfers, legs, strict=True):
            self.apply(transfer, "HOURS", source, credit, amount, "donate")

    @precondition(lambda self: self.replays)
    @rule(data=st.data(), change=st.booleans())
    def replay(self, data, change):
        kind, arguments, ids = data.draw(st.sampled_from(self.replays))
        arguments = dict(arguments)
        if kind == "transfer":
            if change:
                arguments["amount"] += 1
            operation = lambda: [ledger.post_transfer(**arguments)]  # noqa: E731
        else:
            if change:
                name = "minutes" if arguments["minutes"] else "points"
                arguments[name] += 1
            operation = lambda: ledger.credit_from_evidence(**arguments)  # noqa: E731
        result = self.attempt("idempotency_conflict" if change else None, operation)
        if result is not None:
            assert [t.id for t in result] == ids
            assert kind == "transfer" or result.replayed

    # ------------------------------------------------------------ invariants

    @invariant()
    def database_matches_model(self):
        rows = db.session.execute(
            sa.select(Account.id, Account.balance, Account.held).where(
                Account.id.in_(self.accounts)
            )
        ).all()
        actual = {account_id: (balance, held) for account_id, balance, held in rows}
        wanted = {a.id: (a.balance, a.held) for a in self.accounts.values()}
        assert actual == wanted
        lots = db.session.execute(
            sa.select(PointLot.account_id, PointLot.remaining)
            .where(PointLot.account_id.in_(self.accounts))
            .order_by(PointLot.id)
        ).all()
        actual_lots = {}
        for account_id, remaining in lots:
            actual_lots.setdefault(account_id, []).append(remaining)
        wanted_lots = {a.id: [lot[0] for lot in a.lots] for a in self.accounts.values() if a.lots}
        assert actual_lots == wanted_lots
        if self.holds:
            statuses = dict(
                db.session.execute(
                    sa.select(Hold.id, Hold.status).where(Hold.id.in_([h.id for h in self.holds]))
                ).all()
            )
            assert statuses == {h.id: h.status for h in self.holds}
        for account in self.accounts.values():
            if account.kind == "member":
                # a member's points are exactly the rest of their lots
                assert account.lots == [] or account.balance == sum(r for r, _ in account.lots)

    @invariant()
    def history_pages_list_every_entry_newest_first(self):
        accounts = list(self.member_accounts[0].values())
        wanted = db.session.scalars(
            sa.select(Entry.id).where(Entry.account_id.in_(accounts)).order_by(Entry.id.desc())
        ).all()
        seen, cursor = [], None
        while True:
            page = ledger.member_history(self.members[0], before_entry_id=cursor, limit=7)
            seen += [line.entry_id for line in page]
            if len(page) < 7:
                break
            cursor = page[-1].entry_id
        assert seen == wanted

    @invariant()
    def ledger_invariants_hold(self):
        sums = db.session.execute(
            sa.select(Transfer.ledger, sa.func.sum(Entry.amount))
            .join(Transfer, Transfer.id == Entry.transfer_id)
            .group_by(Transfer.ledger)
        ).all()
        assert all(total == 0 for _ledger, total in sums), sums
        entries = (
            sa.select(
                Entry.account_id,
                sa.func.sum(Entry.amount).label("total"),
                sa.func.count().label("n"),
                sa.func.min(Entry.version).label("low"),
                sa.func.max(Entry.version).label("high"),
            )
            .group_by(Entry.account_id)
            .subquery()
        )
        rows = db.session.execute(
            sa.select(
                Account.id,
                Account.balance,
                Account.held,
                Account.version,
                Account.allow_negative,
                entries.c.total,
                entries.c.n,
                entries.c.low,
                entries.c.high,
            ).outerjoin(entries, entries.c.account_id == Account.id)
        ).all()
        for account_id, balance, held, version, allow_negative, total, n, low, high in rows:
            assert balance == (total or 0), f"account {account_id}: cached balance differs"
            # (account_id, version) is unique, so n rows from 1 to n leave no gap
            assert version == (n or 0) == (high or 0), f"account {account_id}: version gap"
            assert not n or low == 1, f"account {account_id}: versions do not start at 1"
            assert allow_negative or balance - held >= 0, f"account {account_id} overdrawn"
        report = ledger.verify_ledger()
        assert report.ok, report.problem
        db.session.rollback()


def test_ledger_agrees_with_a_plain_model(app, test_database):
    LedgerMachine.app, LedgerMachine.database = app, test_database
    # Examples: the hypothesis profile's (dev 10, ci 30), or TIMEBANK_LEDGER_EXAMPLES=500
    # for a deeper run.
    examples = os.environ.get("TIMEBANK_LEDGER_EXAMPLES")
    depth = {"max_examples": int(examples)} if examples else {}
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            **depth,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
