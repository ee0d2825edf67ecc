"""Transparency-log benchmark: appending 1,000,000 entries, proofs, signing, verify, and
what the appender's horizon costs concurrent postings.

For each database (a SQLite file in a temporary directory, and PostgreSQL):

a. the anchor: hashlib alone over --entries leaves (leaf hashes, then the tree's root),
   the figure the log cannot beat;
b. appending --entries HOURS entries to an empty log in one ``append_entries()`` (reading
   them, hashing, writing the stored subtree roots), then a small append (100 entries) on
   top of it, as the every-minute job does;
c. signing a checkpoint (the consistency check with the last one included), inclusion and
   consistency proof latency (p50, p99), and the log's part of ``ledger verify``;
d. PostgreSQL only: --clients threads post transfers for --seconds, first alone, then with
   an appender taking the horizon (LOCK TABLE entries IN SHARE MODE in a savepoint) every
   --horizon-every seconds: postings' p50 and p99, and how long each horizon took.

The entries are synthetic (rows inserted with one SQL statement, distinct hashes, no
valid chains): the log reads only their ids, hashes and ledger.

PostgreSQL: TIMEBANK_BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/bench (its schema ``public`` is wiped).

    .venv/bin/python bench/transparency.py                       # both databases, 1M
    .venv/bin/python bench/transparency.py --entries 100000 --databases sqlite
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TIMEBANK_ENV", "testing")

import sqlalchemy as sa  # noqa: E402

from bench._postgres import fresh_database  # noqa: E402
from timebank import create_app  # noqa: E402
from timebank.extensions import db  # noqa: E402
from timebank.ledger import operations as ledger  # noqa: E402
from timebank.people import operations as people  # noqa: E402
from timebank.transparency import merkle  # noqa: E402
from timebank.transparency import operations as transparency  # noqa: E402
from timebank.units import operations as units  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries to append")
    parser.add_argument("--proofs", type=int, default=300, help="samples per proof latency")
    parser.add_argument("--clients", type=int, default=4, help="posting threads (PostgreSQL)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per posting measurement")
    parser.add_argument("--horizon-every", type=float, default=0.5, help="seconds")
    return parser.parse_args(argv)


def add_entries(count: int) -> None:
    """``count`` HOURS entries (count/2 transfers from a unit's issuance account to a
    member), each with a distinct hash, in one INSERT ... SELECT per table."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    unit_id = units.create_unit(
        name=f"压测-{uuid.uuid4().hex[:6]}", kind="street", parent_id=None
    ).id
    member = people.create_member(phone="19800000001", name="压测", home_unit_id=unit_id, roles=())
    source = ledger.system_account(unit_id, "HOURS", "issuance")
    target = ledger.member_account(member.id, "HOURS", unit_id=unit_id)
    db.session.commit()
    series = (
        "(SELECT generate_series(1, :n) AS g) AS s"
        if postgres
        else "(WITH RECURSIVE r(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM r WHERE g < :n) "
        "SELECT g FROM r) AS s"
    )
    digest = "lpad(to_hex(CAST(g AS BIGINT) * 2 + side), 64, '0')" if postgres else (
        "printf('%064x', g * 2 + side)"
    )  # fmt: skip
    now = datetime.now(UTC)
    params = {
        "n": count // 2, "src": source.id, "dst": target.id, "dummy": "d" * 64,
        "now": now.replace(tzinfo=None) if postgres else ledger.canonical_time(now),
    }  # fmt: skip
    db.session.execute(
        sa.text(
            "INSERT INTO transfers (id, ledger, debit_account_id, credit_account_id, amount, "
            "code, idempotency_key, body_hash, created_at) "
            "SELECT g, 'HOURS', :src, :dst, 1, 'earn_checkin', 'bench:' || CAST(g AS TEXT), "
            f":dummy, :now FROM {series} ORDER BY g"
        ),
        params,
    )
    db.session.execute(
        sa.text(
            "INSERT INTO entries (transfer_id, account_id, amount, balance_after, version, "
            "prev_hash, hash, created_at) "
            f"SELECT g, a, d, d * g, g, :dummy, {digest}, :now FROM ("
            f"SELECT g, 0 AS side, :src AS a, -1 AS d FROM {series} UNION ALL "
            f"SELECT g, 1, :dst, 1 FROM {series}) AS x ORDER BY g, side"
        ),
        params,
    )
    if postgres:
        db.session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('transfers', 'id'), :n)"), params
        )
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def timed(label: str, work):
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"  {label:58} {seconds:8.2f} s", flush=True)
    return result, seconds


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms"


def anchor(count: int) -> None:
    inputs = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(count)]
    sha = hashlib.sha256
    leaves, _ = timed(
        f"hashlib: {count:,} leaf hashes", lambda: [sha(b"\x00" + x).digest() for x in inputs]
    )
    timed(f"hashlib: the root over {count:,} leaves", lambda: merkle.extend(0, {}, leaves))


def bench_log(app, count: int, proofs: int) -> None:
    with app.app_context():
        timed(f"insert {count:,} synthetic entries (set-up)", lambda: add_entries(count))

        def append():
            result = transparency.append_entries(limit=None)
            db.session.commit()
            return result

        appended, seconds = timed(f"append_entries(): {count:,} entries to an empty log", append)
        print(f"  {'':58} {appended['HOURS'] / seconds:8,.0f} entries/s")
        [signed], _ = timed("sign a checkpoint", lambda: _commit(transparency.sign_checkpoints()))
        add_more(100)
        timed("append 100 more entries (the every-minute job)", append)
        [newer], _ = timed("sign again (consistency with the last checked)",
                           lambda: _commit(transparency.sign_checkpoints()))  # fmt: skip
        ids = db.session.scalars(sa.select(ledger.ENTRIES.c.id).order_by(sa.func.random())
                                 .limit(proofs)).all()  # fmt: skip
        samples = []
        for entry_id in ids:
            start = time.perf_counter()
            transparency.inclusion_proofs([entry_id])
            samples.append(time.perf_counter() - start)
            db.session.rollback()
        print(f"  {'inclusion proof':58} {percentiles(samples)}")
        rng, samples = random.Random(1), []
        for _ in range(proofs):
            old = rng.randint(1, signed.tree_size)
            start = time.perf_counter()
            transparency.consistency_proof("HOURS", old, newer.tree_size)
            samples.append(time.perf_counter() - start)
            db.session.rollback()
        print(f"  {'consistency proof':58} {percentiles(samples)}")
        reports, _ = timed("ledger verify's log check (every leaf, node, checkpoint)",
                           transparency.verify_logs)  # fmt: skip
        problems = [r.problem for r in reports.values() if r.problem]
        print(f"  {'':58} {problems or 'OK'}")
        db.engine.dispose()


def _commit(value):
    db.session.commit()
    return [c for c in value if c.ledger == "HOURS"]


def add_more(count: int) -> None:
    unit_id = units.create_unit(
        name=f"压测-{uuid.uuid4().hex[:6]}", kind="street", parent_id=None
    ).id
    member = people.create_member(
        phone="19800000002", name="压测二", home_unit_id=unit_id, roles=()
    )
    source = ledger.system_account(unit_id, "HOURS", "issuance")
    target = ledger.member_account(member.id, "HOURS", unit_id=unit_id)
    for n in range(count // 2):
        ledger.post_transfer(
            ledger="HOURS", debit_account_id=source.id, credit_account_id=target.id, amount=1,
            code="earn_checkin", idempotency_key=f"more:{uuid.uuid4().hex}:{n}",
        )  # fmt: skip
    db.session.commit()


def bench_horizon(app, clients: int, seconds: float, every: float) -> None:
    """Postings' latency alone, then beside an appender taking the horizon."""
    with app.app_context():
        unit_id = units.create_unit(name="压测-水平线", kind="street", parent_id=None).id
        pairs = []
        for n in range(clients):
            member = people.create_member(
                phone=f"1981000{n:04d}", name="压测", home_unit_id=unit_id, roles=()
            )
            pairs.append(
                (ledger.system_account(unit_id, "HOURS", "issuance").id,
                 ledger.member_account(member.id, "HOURS", unit_id=unit_id).id)
            )  # fmt: skip
        db.session.commit()
    for label, with_appender in (("postings alone", False), ("postings beside the appender", True)):
        latencies, waits = run_postings(app, pairs, seconds, every if with_appender else None)
        print(f"  {label:58} {percentiles(latencies)}  ({len(latencies) / seconds:,.0f}/s)")
        if waits:
            print(f"  {'  the horizon (lock, max(id), release)':58} {percentiles(waits)}")


def run_postings(app, pairs, seconds: float, every: float | None):
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    waits: list[float] = []
    lock = threading.Lock()

    def poster(pair):
        mine = []
        with app.app_context():
            while time.perf_counter() < stop:
                start = time.perf_counter()
                ledger.post_transfer(
                    ledger="HOURS", debit_account_id=pair[0], credit_account_id=pair[1],
                    amount=1, code="earn_checkin", idempotency_key=uuid.uuid4().hex,
                )  # fmt: skip
                db.session.commit()
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    def appender():
        with app.app_context():
            while time.perf_counter() < stop:
                start = time.perf_counter()
                transparency.entry_horizon()
                db.session.commit()
                waits.append(time.perf_counter() - start)
                time.sleep(every)

    threads = [threading.Thread(target=poster, args=(pair,)) for pair in pairs]
    if every is not None:
        threads.append(threading.Thread(target=appender))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, waits


def main(argv=None) -> None:
    args = parse_args(argv)
    print(f"a. the anchor (hashlib only, {args.entries:,} leaves)")
    anchor(args.entries)
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.databases.split(","):
            print(f"\n{kind}")
            url = fresh_database(kind, Path(workdir), "transparency")
            app = create_app({"SQLALCHEMY_DATABASE_URI": url})
            print("b-c. the log")
            bench_log(app, args.entries, args.proofs)
            if kind == "postgresql":
                print(f"d. the horizon's cost to {args.clients} posting threads")
                bench_horizon(app, args.clients, args.seconds, args.horizon_every)


if __name__ == "__main__":
    main()
