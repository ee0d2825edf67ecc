"""Ledger benchmark: transfers per second, read latency at a long history, verify speed.

For each database (a SQLite file in a temporary directory, and PostgreSQL):

a. transfers per second through the operations layer: ``ledger.post_transfer`` of 1
   HOURS minute between two member accounts funded by ``credit_from_evidence``, one
   transaction and commit per transfer, as a request does; 1 client, then N clients
   (threads, each with its own app context and its own pair of members);
b. the raw baseline, in the same run and the same tables: the same transfer written
   plainly with sqlite3 / psycopg (BEGIN [IMMEDIATE]; SELECT the two accounts in id order
   [FOR UPDATE]; balance check; INSERT the transfer; INSERT its two entries; UPDATE the two
   accounts; COMMIT). It computes the same two entry hashes (microseconds) so its rows stay
   valid for ``verify``. Every transfer figure is also printed as a ratio to it;
d. ``ledger.verify_ledger()`` entries per second, after adding --verify-entries entries
   with valid hash chains in bulk (built with the operations' own hash helpers);
c. balance read (``ledger.balances``) and first history page (``ledger.member_history``,
   limit 50) latency, p50 and p99, for a member with --entries entries (default 1,000,000)
   and for one with --small-entries (1,000), to show the cost does not grow with history.
   Those rows are inserted with one SQL statement each (generate_series / a recursive CTE)
   and carry dummy hashes, so this step comes after ``verify``.

PostgreSQL: TIMEBANK_BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/bench. Its schema ``public`` is dropped and
migrated afresh: give it a database of its own.

    .venv/bin/python bench/ledger.py                         # both databases, full size
    .venv/bin/python bench/ledger.py --entries 20000 --seconds 3 --verify-entries 20000
    .venv/bin/python bench/ledger.py --databases postgresql --profile

Every loop stops at its count or after --seconds, whichever comes first. --profile also
runs the single-client operations path under pyinstrument and prints where time goes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
# bench/ (this folder) holds http.py, which would shadow the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TIMEBANK_ENV", "testing")

import sqlalchemy as sa  # noqa: E402

from bench._postgres import fresh_database  # noqa: E402
from timebank import create_app  # noqa: E402
from timebank.extensions import db  # noqa: E402
from timebank.ledger import operations as ledger  # noqa: E402
from timebank.people import operations as people  # noqa: E402
from timebank.units import operations as units  # noqa: E402

FUNDS = 10**9
DUMMY_HASH = "d" * 64


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="time bound per measurement")
    parser.add_argument("--transfers", type=int, default=50_000, help="count bound per run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternate raw and operations runs; report medians"
    )
    parser.add_argument("--entries", type=int, default=1_000_000, help="history of the big one")
    parser.add_argument("--small-entries", type=int, default=1_000)
    parser.add_argument("--verify-entries", type=int, default=200_000)
    parser.add_argument("--reads", type=int, default=2_000, help="samples per latency figure")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the 1-client path")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- set-up


_phones = iter(range(19_800_000_000, 19_900_000_000))


def new_unit() -> int:
    return units.create_unit(name=f"压测-{uuid.uuid4().hex[:8]}", kind="street", parent_id=None).id


def new_member(unit_id: int) -> int:
    return people.create_member(
        phone=str(next(_phones)), name="压测志愿者", home_unit_id=unit_id, roles=()
    ).id


def funded_pairs(app, count: int) -> list[tuple[int, int, int]]:
    """``count`` (debit account, credit account, actor) pairs of members; the first is rich."""
    pairs = []
    with app.app_context():
        unit_id = new_unit()
        for _ in range(count):
            rich, other = new_member(unit_id), new_member(unit_id)
            ledger.credit_from_evidence(
                member_id=rich,
                member_unit_id=unit_id,
                unit_id=unit_id,
                minutes=FUNDS,
                points=0,
                code="earn_service",
                reference_type="bench",
                reference_id=str(rich),
                idempotency_key=f"bench-funds:{uuid.uuid4()}",
                actor_id=None,
            )
            pairs.append(
                (
                    ledger.member_account(rich, "HOURS", unit_id=unit_id).id,
                    ledger.member_account(other, "HOURS", unit_id=unit_id).id,
                    rich,
                )
            )
        db.session.commit()
    return pairs


# ---------------------------------------------------------------- transfer loops


def ops_client(app, pair, limit: int, deadline: float, progress) -> int:
    """Post transfers through the operations layer, one commit each, until limit/deadline."""
    debit, credit, actor = pair
    tag = uuid.uuid4().hex
    done = 0
    with app.app_context():
        while done < limit and time.perf_counter() < deadline:
            ledger.post_transfer(
                ledger="HOURS",
                debit_account_id=debit,
                credit_account_id=credit,
                amount=1,
                code="donate",
                idempotency_key=f"bench:{tag}:{done}",
                actor_id=actor,
            )
            db.session.commit()
            done += 1
            progress.update(1)
        db.session.remove()
    return done


class _NoProgress:
    def update(self, _count: int) -> None:
        pass


def process_client(url: str, pair, limit: int, start_at: float, seconds: float) -> int:
    """One client in a process of its own (as gunicorn workers are), from ``start_at``."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    while time.time() < start_at:
        time.sleep(0.001)
    return ops_client(app, pair, limit, time.perf_counter() + seconds, _NoProgress())


def run_processes(url: str, pairs, limit: int, seconds: float) -> float:
    """Operations-layer transfers/s with one process per pair, all in the same window."""
    start_at = time.time() + 5  # time for every process to import and build its app
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(pairs)) as pool:
        counts = pool.starmap(
            process_client,
            [(url, pair, limit // len(pairs), start_at, seconds) for pair in pairs],
        )
    return sum(counts) / seconds


class RawClient:
    """The same transfer as plain SQL on a DB-API connection of its own."""

    def __init__(self, kind: str, url: str):
        self.kind = kind
        if kind == "sqlite":
            self.conn = sqlite3.connect(
                sa.engine.make_url(url).database, isolation_level=None, check_same_thread=False
            )
            for pragma in (
                "busy_timeout = 10000",
                "foreign_keys = ON",
                "journal_mode = WAL",
                "synchronous = NORMAL",
            ):
                self.conn.execute(f"PRAGMA {pragma}")
            self.mark = "?"
        else:
            import psycopg

            plain = sa.engine.make_url(url).set(drivername="postgresql")
            self.conn = psycopg.connect(plain.render_as_string(hide_password=False))
            self.mark = "%s"

    def close(self) -> None:
        self.conn.close()

    def transfer(self, debit: int, credit: int, amount: int, key: str) -> None:
        m = self.mark
        now = datetime.now(UTC)
        stamp = ledger.canonical_time(now)
        created = stamp if self.kind == "sqlite" else now.replace(tzinfo=None)
        cur = self.conn.cursor()
        lock = "" if self.kind == "sqlite" else " FOR UPDATE"
        cur.execute("BEGIN IMMEDIATE" if self.kind == "sqlite" else "BEGIN")
        try:
            cur.execute(
                "SELECT id, balance, held, version, head_hash, allow_negative FROM accounts "
                f"WHERE id IN ({m}, {m}) ORDER BY id{lock}",
                sorted((debit, credit)),
            )
            state = {row[0]: list(row[1:]) for row in cur.fetchall()}
            balance, held, _version, _head, allow_negative = state[debit]
            if not allow_negative and balance - held < amount:
                raise RuntimeError("insufficient balance")
            cur.execute(
                "INSERT INTO transfers (ledger, debit_account_id, credit_account_id, amount, "
                "code, idempotency_key, body_hash, created_at) "
                f"VALUES ('HOURS', {m}, {m}, {m}, 'donate', {m}, {m}, {m}) RETURNING id",
                (debit, credit, amount, key, DUMMY_HASH, created),
            )
            transfer_id = cur.fetchone()[0]
            digest = ledger.transfer_digest(
                "HOURS", debit, credit, amount, "donate", key, *([None] * 7)
            )
            rows = []
            for account_id, change in ((debit, -amount), (credit, amount)):
                row = state[account_id]
                row[0] += change
                row[2] += 1
                new_hash = ledger.entry_hash(
                    row[3], account_id, row[2], transfer_id, change, row[0], stamp, digest
                )
                rows += [transfer_id, account_id, change, row[0], row[2], row[3], new_hash, created]
                row[3] = new_hash
            values = f"({m}, {m}, {m}, {m}, {m}, {m}, {m}, {m})"
            cur.execute(
                "INSERT INTO entries (transfer_id, account_id, amount, balance_after, version, "
                f"prev_hash, hash, created_at) VALUES {values}, {values}",
                rows,
            )
            for account_id in (debit, credit):
                balance, _held, version, head, _allow = state[account_id]
                cur.execute(
                    f"UPDATE accounts SET balance = {m}, version = {m}, head_hash = {m} "
                    f"WHERE id = {m}",
                    (balance, version, head, account_id),
                )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()


def raw_client(kind: str, url: str, pair, limit: int, deadline: float, progress) -> int:
    debit, credit, _actor = pair
    client = RawClient(kind, url)
    if kind == "postgresql":
        client.conn.autocommit = True  # BEGIN and COMMIT are ours, as in the sqlite client
    tag = uuid.uuid4().hex
    done = 0
    try:
        while done < limit and time.perf_counter() < deadline:
            client.transfer(debit, credit, 1, f"raw:{tag}:{done}")
            done += 1
            progress.update(1)
    finally:
        client.close()
    return done


def run_clients(label: str, worker, pairs, limit: int, seconds: float) -> float:
    """Run ``worker(pair, limit, deadline, progress)`` in one thread per pair; transfers/s."""
    results = [0] * len(pairs)
    barrier = threading.Barrier(len(pairs) + 1)
    times = {}

    def target(index, pair):
        barrier.wait()
        results[index] = worker(pair, limit // len(pairs), times["deadline"], progress)

    with tqdm(total=limit, desc=label, unit="tr", leave=False) as progress:
        threads = [threading.Thread(target=target, args=(i, pair)) for i, pair in enumerate(pairs)]
        for thread in threads:
            thread.start()
        times["start"] = time.perf_counter()
        times["deadline"] = times["start"] + seconds
        barrier.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - times["start"]
    return sum(results) / elapsed


# ---------------------------------------------------------------- bulk histories


def add_valid_entries(app, entries: int, fanout: int = 200) -> None:
    """``entries`` more entries with valid chains: awards from one unit's issuance account to
    ``fanout`` merchant accounts, built with the operations' hash helpers, inserted in bulk."""
    with app.app_context():
        unit_id = new_unit()
        source = ledger.system_account(unit_id, "HOURS", "issuance").id
        base = 7_000_000 + unit_id * 1_000
        targets = [ledger.merchant_account(base + i, "HOURS").id for i in range(fanout)]
        db.session.commit()
        state = {
            row.id: [row.balance, row.version, row.head_hash]
            for row in db.session.execute(
                sa.select(
                    ledger.ACCOUNTS.c.id,
                    ledger.ACCOUNTS.c.balance,
                    ledger.ACCOUNTS.c.version,
                    ledger.ACCOUNTS.c.head_hash,
                ).where(ledger.ACCOUNTS.c.id.in_([source, *targets]))
            )
        }
        next_transfer = db.session.scalar(sa.select(sa.func.max(ledger.TRANSFERS.c.id))) or 0
        now = datetime.now(UTC)
        stamp = ledger.canonical_time(now)
        tag = uuid.uuid4().hex
        batch = 10_000
        with tqdm(total=entries, desc="valid entries", unit="e", leave=False) as progress:
            for start in range(0, entries // 2, batch):
                transfers, rows = [], []
                for i in range(start, min(start + batch, entries // 2)):
                    next_transfer += 1
                    target = targets[i % fanout]
                    key = f"bulk:{tag}:{i}"
                    digest = ledger.transfer_digest(
                        "HOURS", source, target, 1, "award", key, *([None] * 7)
                    )
                    transfers.append(
                        {
                            "id": next_transfer,
                            "ledger": "HOURS",
                            "debit_account_id": source,
                            "credit_account_id": target,
                            "amount": 1,
                            "code": "award",
                            "idempotency_key": key,
                            "body_hash": DUMMY_HASH,
                            "created_at": now,
                        }
                    )
                    for account_id, change in ((source, -1), (target, 1)):
                        row = state[account_id]
                        row[0] += change
                        row[1] += 1
                        new_hash = ledger.entry_hash(
                            row[2], account_id, row[1], next_transfer, change, row[0], stamp, digest
                        )
                        rows.append(
                            {
                                "transfer_id": next_transfer,
                                "account_id": account_id,
                                "amount": change,
                                "balance_after": row[0],
                                "version": row[1],
                                "prev_hash": row[2],
                                "hash": new_hash,
                                "created_at": now,
                            }
                        )
                        row[2] = new_hash
                db.session.execute(ledger.TRANSFERS.insert(), transfers)
                db.session.execute(ledger.ENTRIES.insert(), rows)
                progress.update(len(rows))
        save_accounts(state)
        fix_sequences()
        db.session.commit()


def save_accounts(state: dict[int, list]) -> None:
    db.session.execute(
        ledger.ACCOUNTS.update()
        .where(ledger.ACCOUNTS.c.id == sa.bindparam("account_id"))
        .values(balance=sa.bindparam("b"), version=sa.bindparam("v"), head_hash=sa.bindparam("h")),
        [{"account_id": a, "b": b, "v": v, "h": h} for a, (b, v, h) in state.items()],
    )


def fix_sequences() -> None:
    """After inserting explicit ids on PostgreSQL, move the id sequences past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("transfers", "entries"):
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )


def add_history(app, member_id: int, count: int) -> None:
    """``count`` consistent entries (balances and versions right, hashes dummy) on the
    member's HOURS account, credits from a fresh unit's issuance account: one INSERT ...
    SELECT per table over generate_series (PostgreSQL) or a recursive CTE (SQLite)."""
    with app.app_context():
        postgres = db.session.get_bind().dialect.name == "postgresql"
        unit_id = new_unit()
        source = ledger.system_account(unit_id, "HOURS", "issuance")
        home = people.get_member(member_id).home_unit_id
        target = ledger.member_account(member_id, "HOURS", unit_id=home)
        db.session.commit()
        first = (db.session.scalar(sa.select(sa.func.max(ledger.TRANSFERS.c.id))) or 0) + 1
        series = (
            "(SELECT generate_series(1, :n) AS g) AS s"
            if postgres
            else "(WITH RECURSIVE r(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM r WHERE g < :n) "
            "SELECT g FROM r) AS s"
        )
        now = datetime.now(UTC)
        created = now.replace(tzinfo=None) if postgres else ledger.canonical_time(now)
        params = {
            "n": count,
            "first": first,
            "src": source.id,
            "dst": target.id,
            "src_balance": source.balance,
            "src_version": source.version,
            "dst_balance": target.balance,
            "dst_version": target.version,
            "key": f"history:{uuid.uuid4().hex}:",
            "dummy": DUMMY_HASH,
            "now": created,
        }
        concat = "CAST(:key AS TEXT) || CAST(g AS TEXT)"
        statements = [
            "INSERT INTO transfers (id, ledger, debit_account_id, credit_account_id, amount, "
            "code, idempotency_key, body_hash, created_at, reference_type, reference_id) "
            f"SELECT :first + g - 1, 'HOURS', :src, :dst, 1, 'earn_checkin', {concat}, :dummy, "
            f":now, 'attendance', CAST(g AS TEXT) FROM {series} ORDER BY g",
            "INSERT INTO entries (transfer_id, account_id, amount, balance_after, version, "
            "prev_hash, hash, created_at) "
            "SELECT :first + g - 1, a, d, b, v, :dummy, :dummy, :now FROM ("
            f"SELECT g, 0 AS side, :src AS a, -1 AS d, :src_balance - g AS b, "
            f":src_version + g AS v FROM {series} UNION ALL "
            f"SELECT g, 1, :dst, 1, :dst_balance + g, :dst_version + g FROM {series}"
            ") AS x ORDER BY g, side",
        ]
        with tqdm(total=len(statements), desc=f"history of {count:,}", leave=False) as progress:
            for statement in statements:
                db.session.execute(sa.text(statement), params)
                progress.update(1)
        save_accounts(
            {
                source.id: [source.balance - count, source.version + count, DUMMY_HASH],
                target.id: [target.balance + count, target.version + count, DUMMY_HASH],
            }
        )
        fix_sequences()
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def latencies(app, read, reads: int, seconds: float, label: str) -> tuple[float, float]:
    """p50 and p99 in milliseconds of ``read()`` plus ending its transaction, as a request."""
    samples = []
    with app.app_context():
        read()  # warm the statement cache
        db.session.rollback()
        deadline = time.perf_counter() + seconds
        for _ in tqdm(range(reads), desc=label, leave=False):
            start = time.perf_counter()
            read()
            db.session.rollback()
            samples.append(time.perf_counter() - start)
            if time.perf_counter() > deadline:
                break
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples) * 1000, p99 * 1000


# ---------------------------------------------------------------- the run


def bench_database(kind: str, args, workdir: Path) -> list[tuple[str, float, str, str]]:
    url = fresh_database(kind, workdir, "ledger")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    rows: list[tuple[str, float, str, str]] = []
    clients = args.clients
    pairs = funded_pairs(app, 3 * clients + 2)
    single, raw_single = pairs[0], pairs[1]
    many, raw_many = pairs[2 : 2 + clients], pairs[2 + clients : 2 + 2 * clients]
    processes = pairs[2 + 2 * clients :]

    def ops(pair, limit, deadline, progress):
        return ops_client(app, pair, limit, deadline, progress)

    def raw(pair, limit, deadline, progress):
        return raw_client(kind, url, pair, limit, deadline, progress)

    # warm-up: connection pools, statement caches, prepared statements
    run_clients("warm-up", ops, [single], 200, 2)
    run_clients("warm-up raw", raw, [raw_single], 200, 2)

    # Short runs in turn, medians of each: a shared machine's load drifts, and a ratio of
    # two runs minutes apart would measure the drift.
    n, s = args.transfers, args.seconds
    part = s / args.rounds
    runs = {"raw_1": [], "ops_1": [], "raw_n": [], "ops_n": [], "ops_p": []}
    for round_ in range(1, args.rounds + 1):
        tag = f"{kind} {round_}/{args.rounds}"
        runs["raw_1"].append(run_clients(f"{tag} raw 1", raw, [raw_single], n, part))
        runs["ops_1"].append(run_clients(f"{tag} ops 1", ops, [single], n, part))
        runs["raw_n"].append(run_clients(f"{tag} raw {clients}", raw, raw_many, n, part))
        runs["ops_n"].append(run_clients(f"{tag} ops {clients}", ops, many, n, part))
        print(f"{tag}: {clients} client processes for {part:.1f} s ...", file=sys.stderr)
        runs["ops_p"].append(run_processes(url, processes, n, part))
    raw_1, ops_1, raw_n, ops_n, ops_p = (statistics.median(v) for v in runs.values())
    rows += [
        ("raw baseline transfers/s, 1 client", raw_1, "1.00 of raw 1", ""),
        ("operations transfers/s, 1 client", ops_1, f"{ops_1 / raw_1:.2f} of raw 1", "≥ 0.60"),
        (
            f"raw baseline transfers/s, {clients} clients",
            raw_n,
            f"{raw_n / raw_1:.2f} of raw 1",
            "",
        ),
        (
            f"operations transfers/s, {clients} clients",
            ops_n,
            f"{ops_n / raw_n:.2f} of raw {clients}; {ops_n / ops_1:.2f} of ops 1",
            "≥ 1.6 of ops 1 (PostgreSQL)" if kind == "postgresql" else "≤ ops 1 expected",
        ),
        (
            f"operations transfers/s, {clients} processes",
            ops_p,
            f"{ops_p / raw_n:.2f} of raw {clients}; {ops_p / ops_1:.2f} of ops 1",
            "(threads share one GIL; workers are processes)",
        ),
    ]

    if args.profile:
        profile_single(app, single, min(s, 5.0))

    if args.verify_entries:
        add_valid_entries(app, args.verify_entries)
        with app.app_context():
            total = db.session.scalar(sa.select(sa.func.count()).select_from(ledger.ENTRIES))
            db.session.rollback()
            with tqdm(total=total, desc="verify", unit="e", leave=False) as progress:
                start = time.perf_counter()
                report = ledger.verify_ledger(progress=progress.update)
                elapsed = time.perf_counter() - start
            db.session.rollback()
        if not report.ok:
            raise SystemExit(f"verify failed on the benchmark ledger: {report.problem}")
        rows.append(
            (
                f"verify entries/s ({report.entries:,} entries, ok)",
                report.entries / elapsed,
                f"{elapsed:.2f} s",
                "≥ 100,000",
            )
        )

    with app.app_context():
        unit_id = new_unit()
        small, big = new_member(unit_id), new_member(unit_id)
        db.session.commit()
    add_history(app, small, args.small_entries)
    add_history(app, big, args.entries)
    for member_id, count in ((small, args.small_entries), (big, args.entries)):
        p50, p99 = latencies(
            app, lambda m=member_id: ledger.balances(m), args.reads, s, f"balances {count:,}"
        )
        rows.append((f"balance read p50 ms, {count:,} entries", p50, f"p99 {p99:.2f} ms", "< 5"))
        p50, p99 = latencies(
            app,
            lambda m=member_id: ledger.member_history(m, limit=50),
            args.reads,
            s,
            f"history {count:,}",
        )
        rows.append((f"history page p50 ms, {count:,} entries", p50, f"p99 {p99:.2f} ms", ""))
    with app.app_context():
        db.engine.dispose()
    return rows


def profile_single(app, pair, seconds: float) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("--profile needs pyinstrument: .venv/bin/pip install pyinstrument", file=sys.stderr)
        return
    profiler = Profiler(interval=0.0005)
    with tqdm(total=None, desc="profile", leave=False) as progress:
        profiler.start()
        ops_client(app, pair, 10**9, time.perf_counter() + seconds, progress)
        profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main(argv=None) -> int:
    args = parse_args(argv)
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    results = {}
    with tempfile.TemporaryDirectory(prefix="timebank-ledger-bench-") as tmp:
        for kind in kinds:
            results[kind] = bench_database(kind, args, Path(tmp))
    print()
    print(f"{'database':<11}{'measurement':<46}{'value':>12}  {'ratio / detail':<44}target")
    for kind, rows in results.items():
        for name, value, detail, target in rows:
            print(f"{kind:<11}{name:<46}{value:>12,.2f}  {detail:<44}{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
