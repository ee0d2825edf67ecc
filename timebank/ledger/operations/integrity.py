"""Tamper evidence: ``verify_ledger`` recomputes every chain, balance and version from the
entries; checkpoints publish each ledger's entry count and a hash over its account heads,
so a rewrite that recomputes every hash is still caught."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from timebank.core.audit import record_audit
from timebank.core.db import one_transaction
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger.models import GENESIS_HASH, LEDGERS, Checkpoint, Hold
from timebank.ledger.operations.accounts import check_ledger
from timebank.ledger.operations.hashing import entry_hash, transfer_digest
from timebank.ledger.operations.sql import ACCOUNTS, ENTRIES, TRANSFERS, is_postgres


@dataclass
class VerifyReport:
    ok: bool = True
    accounts: int = 0
    entries: int = 0
    transfers: int = 0
    checkpoints: int = 0
    problem: str | None = None
    ledger_sums: dict[str, int] = field(default_factory=dict)
    #: what the checks registered beside the ledger's own found (e.g. the transparency log)
    extra: dict[str, dict] = field(default_factory=dict)

    def fail(self, problem: str) -> VerifyReport:
        self.ok = False
        self.problem = problem
        return self

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Tally:
    """What walking the chains counted, for the checks that follow the walk."""

    entries: int = 0
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGERS, 0))
    entries_per_transfer: dict[int, int] = field(default_factory=dict)
    accounts_seen: set[int] = field(default_factory=set)


#: checks that run after the ledger's own, by name: each takes the report (it may add its
#: counts to ``report.extra``) and returns the first problem it found, or None. Modules
#: above the ledger register theirs (create_app), so the ledger imports none of them.
EXTRA_CHECKS: dict[str, Callable[[VerifyReport], str | None]] = {}


def register_check(name: str, check: Callable[[VerifyReport], str | None]) -> None:
    """Run ``check`` in every ``verify_ledger`` from now on (once per name)."""
    EXTRA_CHECKS[name] = check


def record_verification(report: VerifyReport, *, actor_id: int | None, via: str) -> None:
    """Put a verify run on the audit trail: who ran it (None: the system), from where
    (``cli``, ``job``, ``page``, ``api``) and what it found."""
    record_audit(
        "ledger.verify", actor=actor_id, target="ledger", detail=via,
        after={"ok": report.ok, "entries": report.entries, "transfers": report.transfers,
               "checkpoints": report.checkpoints, "problem": report.problem},
    )  # fmt: skip


@use_case
def run_verification(
    *, actor_id: int | None, via: str, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Verify the ledger and put the run on the audit trail, whatever it found: the one
    door for ``timebank ledger verify``, the nightly job, the page and POST /ledger/verify
    (a GET only reads, and is not recorded)."""
    report = verify_ledger(progress=progress)
    record_verification(report, actor_id=actor_id, via=via)
    return report


def verify_ledger(progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Recompute every chain, balance and version from the entries; check every ledger sums
    to zero, every transfer has its two matching entries, every held amount matches the
    pending holds, and the ledger still extends every checkpoint; then the registered
    checks (the transparency log). Names the first wrong row."""
    report = VerifyReport()
    conn = db.session.connection()
    one_transaction(conn)  # its entries are streamed through a server-side cursor
    report.transfers = conn.execute(sa.select(sa.func.count()).select_from(TRANSFERS)).scalar()
    accounts = {
        row.id: row
        for row in conn.execute(
            sa.select(
                ACCOUNTS.c.id,
                ACCOUNTS.c.ledger,
                ACCOUNTS.c.balance,
                ACCOUNTS.c.held,
                ACCOUNTS.c.version,
                ACCOUNTS.c.head_hash,
                ACCOUNTS.c.allow_negative,
            )
        )
    }
    report.accounts = len(accounts)
    tally = _Tally()
    if problem := _walk_chains(conn, accounts, tally, progress):
        return report.fail(problem)
    report.entries = tally.entries
    if problem := _unwalked_account(accounts, tally) or _unpaired_transfer(tally, report):
        return report.fail(problem)
    report.ledger_sums = tally.sums
    if any(tally.sums.values()):
        return report.fail(f"a ledger does not sum to zero: {tally.sums}")
    if problem := _held_mismatch(conn, accounts) or _broken_checkpoint(report):
        return report.fail(problem)
    for check in EXTRA_CHECKS.values():
        if problem := check(report):
            return report.fail(problem)
    return report


def _entries_with_transfers(conn):
    """Every entry with its transfer's columns, by account then version, streamed."""
    # PostgreSQL formats the times as the canonical text itself: parsing a datetime per row
    # and formatting it again in Python took a quarter of the time (bench/ledger.py).
    e_time, t_time = (
        ("to_char(e.created_at, :fmt)", "to_char(t.created_at, :fmt)")
        if is_postgres()
        else ("e.created_at", "t.created_at")
    )
    raw = sa.text(
        "SELECT e.id, e.account_id, e.version, e.transfer_id, e.amount, e.balance_after, "
        f"e.prev_hash, e.hash, {e_time}, t.ledger, t.debit_account_id, t.credit_account_id, "
        "t.amount, t.code, t.idempotency_key, t.reference_type, t.reference_id, t.corrects_id, "
        f"t.link_id, t.actor_id, t.approver_id, t.memo, {t_time} "
        "FROM entries e JOIN transfers t ON t.id = e.transfer_id "
        "ORDER BY e.account_id, e.version"
    )
    return conn.execute(
        raw.execution_options(stream_results=True, yield_per=5000),
        {"fmt": "YYYY-MM-DD HH24:MI:SS.US"} if is_postgres() else {},
    )


def _walk_chains(conn, accounts: dict, tally: _Tally, progress) -> str | None:
    """Walk each account's entries in version order, recomputing its balance, versions and
    hash chain, and tally what the later checks need. Returns the first problem found."""
    # The loop runs once per entry: everything it touches is a local.
    sums, per_transfer, seen = tally.sums, tally.entries_per_transfer, tally.accounts_seen
    current, balance, version, head = None, 0, 0, GENESIS_HASH
    count = 0
    for row in _entries_with_transfers(conn):
        entry_id, account_id, e_version, transfer_id, e_amount, e_balance, prev_hash, stored = row[
            :8
        ]
        e_created, t_created = row[8], row[22]
        # ledger, debit, credit, amount, code, key, references, link, actor, approver, memo:
        # transfer_digest's arguments, in its order.
        transfer_fields = row[9:22]
        ledger, debit_id, credit_id, t_amount = transfer_fields[:4]
        if account_id != current:
            if current is not None and (
                problem := _close_chain(accounts.get(current), current, balance, version, head)
            ):
                return problem
            current, balance, version, head = account_id, 0, 0, GENESIS_HASH
            seen.add(account_id)
        count += 1
        if progress is not None and count % 10000 == 0:
            progress(10000)
        version += 1
        balance += e_amount
        sums[ledger] += e_amount
        per_transfer[transfer_id] = per_transfer.get(transfer_id, 0) + 1
        expected = -t_amount if account_id == debit_id else t_amount
        if account_id not in (debit_id, credit_id) or e_amount != expected:
            return f"entry {entry_id}: amount {e_amount} does not match transfer {transfer_id}"
        if e_version != version:
            return f"entry {entry_id}: version {e_version}, expected {version} (a gap)"
        if e_balance != balance:
            return f"entry {entry_id}: balance_after {e_balance}, expected {balance}"
        if prev_hash != head:
            return f"entry {entry_id}: does not chain to the previous entry"
        created = e_created if e_created.__class__ is str else _time_text(e_created)
        if e_created != t_created:
            return f"entry {entry_id}: time differs from transfer {transfer_id}"
        # The same two functions the posting used: one definition of the chain.
        digest = transfer_digest(*transfer_fields)
        recomputed = entry_hash(
            head, account_id, version, transfer_id, e_amount, balance, created, digest
        )
        if recomputed != stored:
            return (
                f"entry {entry_id} (account {account_id}, version {version}): hash mismatch; "
                f"the entry or transfer {transfer_id} was changed"
            )
        head = stored
    if current is not None and (
        problem := _close_chain(accounts.get(current), current, balance, version, head)
    ):
        return problem
    if progress is not None:
        progress(count % 10000)
    tally.entries = count
    return None


def _time_text(value) -> str:
    # SQLite returns the stored text; PostgreSQL a naive datetime.
    return value if isinstance(value, str) else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _close_chain(account, account_id: int, balance: int, version: int, head: str) -> str | None:
    """Compare an account's cached state with what its entries add up to."""
    if account is None:
        return f"entries reference account {account_id}, which does not exist"
    if (account.balance, account.version, account.head_hash) != (balance, version, head):
        return (
            f"account {account_id}: cached balance {account.balance}, version "
            f"{account.version} or head differs from its entries (balance {balance}, "
            f"version {version})"
        )
    if not account.allow_negative and balance < 0:
        return f"account {account_id} may not go negative but its entries sum to {balance}"
    return None


def _unwalked_account(accounts: dict, tally: _Tally) -> str | None:
    for account_id, account in accounts.items():
        if account_id not in tally.accounts_seen and (account.balance or account.version):
            return f"account {account_id} has a balance or version but no entries"
    return None


def _unpaired_transfer(tally: _Tally, report: VerifyReport) -> str | None:
    per_transfer = tally.entries_per_transfer
    if len(per_transfer) != report.transfers or any(n != 2 for n in per_transfer.values()):
        broken = next((t for t, n in per_transfer.items() if n != 2), None)
        return (
            f"transfer {broken} does not have exactly two entries"
            if broken
            else "a transfer has no entries"
        )
    return None


def _held_mismatch(conn, accounts: dict) -> str | None:
    held = dict(
        conn.execute(
            sa.select(Hold.debit_account_id, sa.func.sum(Hold.amount))
            .where(Hold.status == "pending")
            .group_by(Hold.debit_account_id)
        ).all()
    )
    for account_id, account in accounts.items():
        if account.held != held.get(account_id, 0):
            return (
                f"account {account_id}: held {account.held}, pending holds sum to "
                f"{held.get(account_id, 0)}"
            )
    return None


def _broken_checkpoint(report: VerifyReport) -> str | None:
    """The first checkpoint the ledger no longer extends; counts those it does."""
    for checkpoint in db.session.scalars(sa.select(Checkpoint).order_by(Checkpoint.id)):
        count_now, heads_now = _heads(checkpoint.ledger, checkpoint.max_entry_id)
        if (count_now, heads_now) != (checkpoint.entry_count, checkpoint.heads_hash):
            return (
                f"checkpoint {checkpoint.id} ({checkpoint.ledger}, {checkpoint.entry_count} "
                f"entries) is no longer extended: entries up to {checkpoint.max_entry_id} were "
                "removed or rewritten"
            )
        report.checkpoints += 1
    return None


def _heads(ledger: str, max_entry_id: int) -> tuple[int, str]:
    """(entry count, hash over every account head) of ``ledger`` up to ``max_entry_id``."""
    in_ledger = sa.select(ACCOUNTS.c.id).where(ACCOUNTS.c.ledger == ledger)
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ENTRIES)
        .where(ENTRIES.c.id <= max_entry_id, ENTRIES.c.account_id.in_(in_ledger))
    )
    last = (
        sa.select(ENTRIES.c.account_id, sa.func.max(ENTRIES.c.version).label("version"))
        .where(ENTRIES.c.id <= max_entry_id, ENTRIES.c.account_id.in_(in_ledger))
        .group_by(ENTRIES.c.account_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ENTRIES.c.account_id, ENTRIES.c.version, ENTRIES.c.hash)
        .join(
            last,
            sa.and_(last.c.account_id == ENTRIES.c.account_id, last.c.version == ENTRIES.c.version),
        )
        .order_by(ENTRIES.c.account_id)
    )
    digest = hashlib.sha256()
    for account_id, version, entry_hash_value in rows:
        digest.update(f"{account_id}:{version}:{entry_hash_value}\n".encode())
    return count, digest.hexdigest()


@use_case
def create_checkpoint(ledger: str) -> Checkpoint:
    """Record the ledger's entry count and a hash over its account heads, as of now."""
    check_ledger(ledger)
    if is_postgres():
        # Let in-flight postings finish so no lower entry id commits after we read.
        db.session.execute(sa.text("LOCK TABLE entries IN SHARE MODE"))
    max_id = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(ENTRIES.c.id), 0)))
    count, heads = _heads(ledger, max_id)
    checkpoint = Checkpoint(ledger=ledger, entry_count=count, max_entry_id=max_id, heads_hash=heads)
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def list_checkpoints() -> list[Checkpoint]:
    """Every published checkpoint, newest first."""
    return list(db.session.scalars(sa.select(Checkpoint).order_by(Checkpoint.id.desc())))
