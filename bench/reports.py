"""Reports benchmark: a street's quarterly roll-up over a year of a big district.

For each database (a SQLite file in a temporary directory, and PostgreSQL), it builds in
bulk (plain INSERTs on the DB-API connection, COPY on PostgreSQL; a progress bar each):

- --units units (default 10,000): 4 street offices, 10 communities each, 12 grids each,
  and buildings under the grids (the rest), with their closure rows;
- --members members living in the buildings (default 50,000), a fifth of them party
  members, with an HOURS and a POINTS account each, and each community's issuance,
  expiry and correction accounts;
- --checkins check-ins (default 100,000): an attendance and its ``in`` scan each, at
  activities held over the year in the communities (20 attendees an activity);
- --transfers transfers (default 1,000,000) over the year, in time order, two entries
  each: HOURS and POINTS credits of the attendances (earn_checkin), then project hours
  (earn_project), awards, redemptions at shops, expiry and donations.

Then it fills ``report_flows`` from the ledger (what the report-flows job keeps current)
and times ``reports.unit_rollup`` of one street for 2026Q2 (every query the page and
the API run: the ledger's flows by part and month, distinct volunteers and party members
overall and by unit, activities and attendance by category, needs, projects, shops),
--runs times after a warm-up, and prints the median and the best, and the part each step
takes. The aim is under 200 ms.

PostgreSQL: TIMEBANK_BENCH_REPORTS_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports; its schema ``public`` is dropped
and migrated afresh: give it a database of its own.

    .venv/bin/python bench/reports.py                              # both, full size
    .venv/bin/python bench/reports.py --databases sqlite --transfers 100000 --checkins 10000
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
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
from timebank.ledger.operations.hashing import canonical_time  # noqa: E402

POSTGRES_URL = os.environ.get(
    "TIMEBANK_BENCH_REPORTS_DATABASE_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports",
)
YEAR_START = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 2026-01-01 00:00 in Asia/Shanghai
YEAR = timedelta(days=365)
HASH = "b" * 64
CHUNK = 20_000
#: the mix of the transfers that follow the attendance credits: (code, ledger, share)
MIX = (
    ("earn_project", "HOURS", 0.30),
    ("earn_project", "POINTS", 0.20),
    ("award", "HOURS", 0.05),
    ("redeem", "POINTS", 0.25),
    ("expire", "POINTS", 0.10),
    ("donate", "HOURS", 0.10),
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--checkins", type=int, default=100_000)
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15, help="timed roll-ups after a warm-up")
    parser.add_argument("--workdir", help="keep the SQLite file here (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="time the databases built before")
    return parser.parse_args(argv)


class Loader:
    """Bulk rows on the DB-API connection of one database."""

    def __init__(self, kind: str, url: str):
        self.kind = kind
        self.engine = sa.create_engine(url)
        self.raw = self.engine.raw_connection()

    def stamp(self, moment: datetime):
        return canonical_time(moment) if self.kind == "sqlite" else moment.replace(tzinfo=None)

    def insert(self, table: str, columns: tuple[str, ...], rows, total: int, label: str) -> None:
        """``rows`` (an iterable of tuples) into ``table``, in chunks, with a progress bar."""
        cursor = self.raw.cursor()
        names = ", ".join(columns)
        if self.kind == "sqlite" and not self.raw.driver_connection.in_transaction:
            cursor.execute("BEGIN")
        with tqdm(total=total, desc=f"{self.kind}: {label}", unit="row", leave=False) as bar:
            if self.kind == "postgresql":
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        bar.update(1)
            else:
                marks = ", ".join("?" * len(columns))
                statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
                iterator = iter(rows)
                while chunk := list(itertools.islice(iterator, CHUNK)):
                    cursor.executemany(statement, chunk)
                    bar.update(len(chunk))
        if self.kind == "sqlite":
            cursor.execute("COMMIT")
        else:
            self.raw.commit()

    def close(self) -> None:
        if self.kind == "postgresql":
            cursor = self.raw.cursor()
            self.raw.commit()
            self.raw.driver_connection.autocommit = True
            for table in ("transfers", "entries", "accounts", "attendances", "unit_closure"):
                # as autovacuum would: statistics, the visibility map, BRIN summaries
                cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            self.raw.cursor().execute("ANALYZE")
        self.raw.close()
        self.engine.dispose()


def build_units(load: Loader, count: int, now: datetime) -> dict:
    """4 streets > 10 communities > 12 grids > buildings: ids, parents and closure rows."""
    streets = list(range(1, 5))
    communities, grids, parents = [], [], {}
    next_id = 5
    for street in streets:
        for _c in range(10):
            communities.append(next_id)
            parents[next_id] = street
            next_id += 1
    for community in communities:
        for _g in range(12):
            grids.append(next_id)
            parents[next_id] = community
            next_id += 1
    buildings = []
    while next_id <= count:
        grid = grids[(next_id - 1) % len(grids)]
        buildings.append(next_id)
        parents[next_id] = grid
        next_id += 1
    kinds = {u: "street" for u in streets}
    kinds.update({u: "community" for u in communities})
    kinds.update({u: "grid" for u in grids})
    kinds.update({u: "building" for u in buildings})
    lines = {}
    for unit in range(1, next_id):
        line, here = [unit], unit
        while here in parents:
            here = parents[here]
            line.append(here)
        lines[unit] = line
    load.insert(
        "units", ("id", "parent_id", "name", "kind", "depth", "created_at"),
        ((u, parents.get(u), f"单元{u}", kinds[u], len(lines[u]) - 1, load.stamp(now))
         for u in range(1, next_id)),
        next_id - 1, "units",
    )  # fmt: skip
    closure = [(a, u, d) for u, line in lines.items() for d, a in enumerate(line)]
    load.insert(
        "unit_closure", ("ancestor_id", "descendant_id", "depth"), closure, len(closure),
        "unit closure",
    )  # fmt: skip
    community_of = {u: next((a for a in lines[u] if kinds[a] == "community"), None) for u in lines}
    return {"streets": streets, "communities": communities, "buildings": buildings,
            "community_of": community_of}  # fmt: skip


def build_people(load: Loader, tree: dict, count: int, now: datetime) -> dict:
    """Members in the buildings, a fifth of them party members, and every account."""
    buildings = tree["buildings"]
    homes = [buildings[n % len(buildings)] for n in range(count)]
    load.insert(
        "members",
        ("id", "phone", "name", "home_unit_id", "status", "has_smartphone", "session_epoch",
         "created_at"),
        ((n + 1, f"1{n:010d}", f"志愿者{n}", homes[n], "active", True, 0, load.stamp(now))
         for n in range(count)),
        count, "members",
    )  # fmt: skip
    load.insert(
        "party_profiles", ("member_id", "branch", "created_at"),
        ((n + 1, f"党支部{n % 50}", load.stamp(now)) for n in range(0, count, 5)),
        (count + 4) // 5, "party members",
    )  # fmt: skip
    accounts, ids = [], {}
    for n in range(count):
        for ledger in ("HOURS", "POINTS"):
            ids[(n + 1, ledger)] = len(accounts) + 1
            accounts.append((len(accounts) + 1, ledger, "member", f"member:{n + 1}:{ledger}",
                             n + 1, homes[n], None, False))  # fmt: skip
    for community in tree["communities"]:
        for kind in ("issuance", "expiry", "correction"):
            for ledger in ("HOURS", "POINTS"):
                ids[(f"{kind}:{community}", ledger)] = len(accounts) + 1
                accounts.append((len(accounts) + 1, ledger, kind,
                                 f"unit:{community}:{kind}:{ledger}", None, community, None,
                                 True))  # fmt: skip
    shops = []
    for index, community in enumerate(tree["communities"]):
        ids[(f"shop:{community}", "POINTS")] = len(accounts) + 1
        shops.append(len(accounts) + 1)
        accounts.append((len(accounts) + 1, "POINTS", "merchant", f"merchant:{index + 1}", None,
                         None, index + 1, False))  # fmt: skip
    load.insert(
        "accounts",
        ("id", "ledger", "kind", "owner_key", "member_id", "unit_id", "merchant_id",
         "allow_negative", "balance", "held", "version", "head_hash", "created_at"),
        ((*row, 0, 0, 0, HASH, load.stamp(now)) for row in accounts),
        len(accounts), "accounts",
    )  # fmt: skip
    return {"homes": homes, "accounts": ids}


def build_attendance(load: Loader, tree: dict, people_: dict, count: int) -> list[tuple]:
    """Activities over the year in the communities (20 attendees each), an attendance and
    its ``in`` scan per check-in. Returns (attendance id, member, community, moment)."""
    homes, community_of = people_["homes"], tree["community_of"]
    per_activity = 20
    activities = (count + per_activity - 1) // per_activity
    categories = ("patrol", "cleanup", "elderly_meals", "free_haircut", "after_school")
    starts = [YEAR_START + YEAR * (a + 0.5) / activities for a in range(activities)]
    places = [tree["communities"][a % len(tree["communities"])] for a in range(activities)]
    load.insert(
        "activities",
        ("id", "unit_id", "title", "description", "category", "kind", "starts_at", "ends_at",
         "signup_required", "points_per_hour", "checkin_bonus", "checkin_mode",
         "requires_checkout", "status", "created_at"),
        ((a + 1, places[a], f"活动{a}", "", categories[a % len(categories)],
          "party" if a % 10 == 0 else "service", load.stamp(starts[a]),
          load.stamp(starts[a] + timedelta(hours=2)), False, 10, 0, "kiosk", True, "published",
          load.stamp(starts[a])) for a in range(activities)),
        activities, "activities",
    )  # fmt: skip
    members_here: dict[int, list[int]] = {}
    for member, home in enumerate(homes, start=1):
        members_here.setdefault(community_of[home], []).append(member)
    rows = []
    for index in range(count):
        activity = index // per_activity
        local = members_here[places[activity]]
        member = local[(activity * per_activity + index) % len(local)]
        rows.append((index + 1, activity + 1, member, starts[activity]))
    load.insert(
        "attendances",
        ("id", "activity_id", "member_id", "status", "checked_in_at", "checked_out_at",
         "checkout_auto_closed", "manual", "minutes", "points", "created_at"),
        ((i, a, m, "approved", load.stamp(t), load.stamp(t + timedelta(hours=2)), False, False,
          120, 20, load.stamp(t)) for i, a, m, t in rows),
        count, "attendances",
    )  # fmt: skip
    load.insert(
        "checkins",
        ("id", "attendance_id", "activity_id", "member_id", "kind", "method", "scanned_at",
         "received_at", "nonce"),
        ((i, i, a, m, "in", "kiosk", load.stamp(t), load.stamp(t), f"n{i}")
         for i, a, m, t in rows),
        count, "check-ins",
    )  # fmt: skip
    return [(i, m, places[a - 1], t) for i, a, m, t in rows]


def transfer_rows(tree: dict, people_: dict, attendance: list[tuple], count: int):
    """Every transfer as (id, ledger, debit, credit, amount, code, key, created_at, ref),
    in time order (append-only: created_at rises with the id)."""
    accounts, homes, community_of = people_["accounts"], people_["homes"], tree["community_of"]
    planned = []
    for att_id, member, community, moment in attendance:
        for ledger, amount in (("HOURS", 120), ("POINTS", 20)):
            planned.append((moment + timedelta(hours=3), ledger,
                            accounts[(f"issuance:{community}", ledger)],
                            accounts[(member, ledger)], amount, "earn_checkin",
                            f"attendance:{att_id}"))  # fmt: skip
    rest = max(0, count - len(planned))
    shares = list(itertools.chain.from_iterable(
        [(code, ledger)] * round(share * 100) for code, ledger, share in MIX
    ))  # fmt: skip
    members = len(homes)
    for n in range(rest):
        code, ledger = shares[n % len(shares)]
        member = (n * 7919) % members + 1
        community = community_of[homes[member - 1]]
        mine = accounts[(member, ledger)]
        moment = YEAR_START + YEAR * (n + 0.5) / rest
        if code in ("earn_project", "award"):
            pair = (
                accounts[(f"issuance:{community}", ledger)],
                mine,
                60 if ledger == "HOURS" else 10,
            )
        elif code == "redeem":
            pair = (mine, accounts[(f"shop:{community}", "POINTS")], 10)
        elif code == "expire":
            pair = (mine, accounts[(f"expiry:{community}", "POINTS")], 5)
        else:
            other = accounts[((member % members) + 1, "HOURS")]
            pair = (mine, other, 30)
        planned.append((moment, ledger, *pair, code, f"bench:{n}"))
    planned.sort(key=lambda row: row[0])
    return planned[:count]


def build_ledger(load: Loader, planned: list[tuple]) -> None:
    """The transfers and their two entries each (versions counted per account)."""
    load.insert(
        "transfers",
        ("id", "ledger", "debit_account_id", "credit_account_id", "amount", "code",
         "reference_type", "reference_id", "idempotency_key", "body_hash", "created_at"),
        ((i, ledger, debit, credit, amount, code, key.split(":")[0], key.split(":")[1],
          f"{key}:{ledger}:{i}", HASH, load.stamp(moment))
         for i, (moment, ledger, debit, credit, amount, code, key) in enumerate(planned, 1)),
        len(planned), "transfers",
    )  # fmt: skip
    versions: dict[int, int] = {}

    def entries():
        entry_id = 0
        for i, (moment, _ledger, debit, credit, amount, _code, _key) in enumerate(planned, 1):
            for account, change in ((debit, -amount), (credit, amount)):
                versions[account] = versions.get(account, 0) + 1
                entry_id += 1
                yield (entry_id, i, account, change, 0, versions[account], HASH, HASH,
                       load.stamp(moment))  # fmt: skip

    load.insert(
        "entries",
        ("id", "transfer_id", "account_id", "amount", "balance_after", "version", "prev_hash",
         "hash", "created_at"),
        entries(), 2 * len(planned), "entries",
    )  # fmt: skip


def build(kind: str, url: str, args) -> None:
    now = datetime(2026, 12, 31, tzinfo=UTC)
    started = time.perf_counter()
    load = Loader(kind, url)
    try:
        tree = build_units(load, args.units, now)
        people_ = build_people(load, tree, args.members, now)
        attendance = build_attendance(load, tree, people_, args.checkins)
        build_ledger(load, transfer_rows(tree, people_, attendance, args.transfers))
    finally:
        load.close()
    print(f"{kind}: built in {time.perf_counter() - started:.0f} s", flush=True)


def fill_flows(kind: str, url: str) -> None:
    """What the report-flows job does every minute, here for the whole year at once."""
    from timebank.reports import operations as reports

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        started = time.perf_counter()
        taken = reports.rebuild_flows()
        db.session.commit()
        print(f"{kind}: report_flows filled from {taken:,} transfers in "
              f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        if kind == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE report_flows"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()


def time_rollup(url: str, runs: int) -> dict[str, list[float]]:
    """Milliseconds of the street's 2026Q2 roll-up, and of each of its steps."""
    from timebank.reports import periods
    from timebank.reports.operations import evidence, ledger_sums, rollups
    from timebank.units.models import Unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    steps = {
        "ledger flows, earners": ledger_sums.ledger_figures,
        "evidence": evidence.evidence,
    }
    timings: dict[str, list[float]] = {"whole roll-up": [], **{name: [] for name in steps}}
    cpu_ms = 0.0
    with app.app_context():
        street = db.session.get(Unit, 1)
        quarter = periods.quarter(2026, 2)
        result = rollups.unit_rollup(street, quarter)  # warm-up
        print(f"  street 1, 2026Q2: {result.hours.earned / 60:,.0f} h earned, "
              f"{result.points.redeemed:,} points redeemed, {result.volunteers:,} volunteers, "
              f"{result.totals['attendances']:,} attendances")  # fmt: skip
        backend = _backend_pid()
        for _run in range(runs):
            cpu = time.process_time() + _cpu_seconds(backend)
            start = time.perf_counter()
            rollups.unit_rollup(street, quarter)
            timings["whole roll-up"].append((time.perf_counter() - start) * 1000)
            cpu_ms += (time.process_time() + _cpu_seconds(backend) - cpu) * 1000
            db.session.rollback()
            for name, step in steps.items():
                start = time.perf_counter()
                step(street.id, quarter)
                timings[name].append((time.perf_counter() - start) * 1000)
                db.session.rollback()
        db.engine.dispose()
    timings["CPU (this process + its PostgreSQL backend)"] = [cpu_ms / runs]
    return timings


def _backend_pid() -> int | None:
    """The PostgreSQL server process serving this session (None on SQLite)."""
    if db.engine.dialect.name != "postgresql":
        return None
    return db.session.scalar(sa.text("SELECT pg_backend_pid()"))


def _cpu_seconds(pid: int | None) -> float:
    """CPU time a local process has used (user + system), from /proc: what a roll-up costs
    whatever else the machine runs at the time; 0 without a process or /proc."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="timebank-bench-reports-") as temporary:
        workdir = Path(args.workdir or temporary)
        for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
            if args.reuse:
                url = (
                    POSTGRES_URL
                    if kind == "postgresql"
                    else f"sqlite:///{workdir / 'reports.sqlite3'}"
                )
            else:
                url = fresh_database(kind, workdir, "reports", POSTGRES_URL)
                build(kind, url, args)
                fill_flows(kind, url)
            timings = time_rollup(url, args.runs)
            sizes = (
                f"{args.transfers:,} transfers, {args.checkins:,} check-ins, {args.units:,} units"
            )
            print(f"{kind}: a street's quarterly roll-up over {sizes} ({args.runs} runs):")
            for name, values in timings.items():
                print(f"  {name:<24} median {statistics.median(values):7.1f} ms"
                      f"   best {min(values):7.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
