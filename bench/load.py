"""Mixed load on a small production deployment, with or without injected faults.

What runs, all on 127.0.0.1 (nothing else is ever a target) and bounded in time:

- a PostgreSQL cluster made for the run (``initdb`` into a temporary folder, port 5439,
  ``pg_stat_statements`` loaded), so stopping it never touches the shared server on 5432;
- Redis (the shared one on 6379, database 13, flushed): throttles shared by every worker;
- two app instances: gunicorn on ports 8781 and 8782 (``--workers`` each, gunicorn.conf.py,
  production settings, JSON access log to a file), and two ``timebank scheduler``
  processes: the leader and a standby (a 10 s lease);
- wrk (C, Lua scripts), one process per operation, each thread on one instance:
  volunteers check in at a kiosk (``POST /api/v1/checkins``) and view balances
  (``GET /api/v1/me/balances``); counters redeem (``POST /api/v1/redemptions``, then
  ``/confirm`` for the hold it got); organizers approve attendance in batches of 25
  (``GET .../attendance?status=pending``, then ``POST .../attendance/approve``); someone
  reads a report: the street's quarterly roll-up (``GET /api/v1/reports/units/<street>
  ?period=quarter``, read by the street office's organizer) as the load's transfers grow.

Clients retry a 503 with the same request (its idempotency key: the server echoes the
request id each request sends, so the script knows which one to send again), after a
quarter second. ``--faults`` injects, at 25%, 45% and 65% of the run: ``kill -9`` of
instance A (restarted at once), ``kill -9`` of the scheduler's leader (the standby takes
over), PostgreSQL stopped for 10 s (``pg_ctl stop -m fast``, then started again).

Printed per operation: req/s, p50/p95/p99 (wrk's latency of every request), statuses and
errors (5xx, and sockets: connect, read, write, timeout), the CPU of the instances, the
schedulers, PostgreSQL, Redis and wrk; then the checks: ``timebank ledger verify``, every
approved attendance and hour log credited exactly once, every confirmed redemption debited
exactly once, no hold lost; the slowest statements (pg_stat_statements).

    .venv/bin/python bench/load.py                       # 5 minutes, no faults
    .venv/bin/python bench/load.py --faults              # 5 minutes, with the faults
    .venv/bin/python bench/load.py --seconds 60          # a shorter look
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ (this folder) holds http.py, which would shadow the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from tqdm import tqdm  # noqa: E402

from bench._load_lua import SCRIPTS  # noqa: E402
from bench._processes import CpuMeter, PostgresCluster, pg_bin  # noqa: E402
from bench._shops import open_shop  # noqa: E402

SECRET = "load-" + secrets.token_urlsafe(24)
SIGNING_KEY = "YmVuY2gtb25seS1zaWduaW5nLWtleS0wMTIzNDU2Nzg="
PORTS = (8781, 8782)
PG_PORT = 5439
REDIS_URL = "redis://127.0.0.1:6379/13"
#: operation -> (wrk connections, first request's path)
OPERATIONS = {
    "checkin": 6,
    "balances": 6,
    "redeem": 4,
    "approve": 2,
    "report": 2,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=300, help="the load's length (5 min)")
    parser.add_argument("--faults", action="store_true", help="kill and stop things meanwhile")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per instance")
    parser.add_argument("--members", type=int, default=4000, help="volunteers with tokens")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's folder")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="SECONDS",
        help="py-spy: sample one worker of instance B this long mid-run; print its hottest code",
    )  # fmt: skip
    return parser.parse_args(argv)


def environment(url: str) -> dict:
    return {
        **os.environ,
        "TIMEBANK_ENV": "production",
        "TIMEBANK_SECRET_KEY": SECRET,
        "TIMEBANK_SIGNING_KEY": SIGNING_KEY,
        "TIMEBANK_DATABASE_URL": url,
        "TIMEBANK_RATELIMIT_STORAGE_URL": REDIS_URL,
        "TIMEBANK_REDEMPTION_HOLD_SECONDS": "30",
        "TIMEBANK_SCHEDULER_LEASE_SECONDS": "10",
        "TIMEBANK_SCHEDULER_RENEW_SECONDS": "3",
        "TIMEBANK_JOB_RELEASE_HOLDS": "every 10s",
        "TIMEBANK_METRICS": "1",
    }


# ---------------------------------------------------------------- set-up


def prepare(url: str, args, seconds: int) -> dict:
    """Migrate; a community with running and ended activities, pending attendance at the
    ended ones, shops with an offer and staff, volunteers with points and tokens; the
    kiosk and redeem codes for every 30-second step of the run."""
    os.environ.update(environment(url))
    from flask_migrate import upgrade

    from timebank import create_app
    from timebank.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        state = _people_and_places(args)
        state |= _pending_attendance(state)
        state |= _codes(state, seconds)
        db.engine.dispose()
    return state


def _people_and_places(args) -> dict:
    from timebank.activities import operations as activities
    from timebank.core.uow import unit_of_work
    from timebank.ledger import operations as ledger
    from timebank.people import operations as people
    from timebank.units import operations as units

    now = datetime.now(UTC)
    with unit_of_work():
        street = units.create_unit(name="压测街道", kind="street", parent_id=None)
        unit = units.create_unit(name="压测社区", kind="community", parent_id=street.id)
        organizer = people.create_member(
            phone="19600000000", name="压测网格长", home_unit_id=unit.id,
            roles=[("organizer", unit.id)],
        )  # fmt: skip

        def activity(title, starts, hours):
            return activities.create_activity(
                actor=organizer, unit_id=unit.id, title=title, category="cleanup",
                starts_at=starts, ends_at=starts + timedelta(hours=hours),
                requires_checkout=False,
            ).id  # fmt: skip

        running = [activity(f"楼道清理{n}", now - timedelta(minutes=10), 6) for n in range(15)]
        ended = [activity(f"垃圾分类督导{n}", now - timedelta(hours=5), 2) for n in range(8)]
        shops = []
        for n in range(4):
            shop, owner, offer = open_shop(unit, organizer, n, 19_600_000_001 + n, now)
            shops.append((shop.id, offer.id, people.issue_token(owner)[0]))
        organizer_token = people.issue_token(organizer)[0]
        street_office = people.create_member(
            phone="19600000009", name="压测街道干部", home_unit_id=street.id,
            roles=[("organizer", street.id)],
        )  # fmt: skip
        street_token = people.issue_token(street_office)[0]
    members, tokens = [], []
    for start in tqdm(range(0, args.members, 500), desc="volunteers", unit="500"):
        with unit_of_work():
            for i in range(start, min(start + 500, args.members)):
                member = people.create_member(
                    phone=str(19_800_000_000 + i), name=f"志愿者{i}", home_unit_id=unit.id
                )
                ledger.credit_from_evidence(
                    member_id=member.id, member_unit_id=unit.id, unit_id=unit.id,
                    minutes=0, points=20, code="earn_service", reference_type="bench",
                    reference_id=str(i), idempotency_key=f"bench:{i}", actor_id=None,
                )  # fmt: skip
                members.append(member.id)
                tokens.append(people.issue_token(member)[0])
    return {
        "organizer": organizer_token, "running": running, "ended": ended, "shops": shops,
        "members": members, "tokens": tokens, "street": street.id,
        "street_organizer": street_token,
    }  # fmt: skip


def _pending_attendance(state: dict) -> dict:
    """600 members checked in by hand at each ended activity: the organizers' queue."""
    from timebank.activities import operations as activities
    from timebank.core.uow import unit_of_work
    from timebank.people import operations as people

    with unit_of_work():
        organizer = people.find_member_by_phone("19600000000")
    for activity_id in tqdm(state["ended"], desc="attendance to approve", unit="activity"):
        with unit_of_work():
            activity = activities.get_activity(activity_id)
            for member_id in state["members"][:600]:
                member = people.get_member(member_id)
                activities.manual_check_in(
                    activity, member, actor=organizer, now=activity.starts_at + timedelta(minutes=5)
                )
    return {}


def _codes(state: dict, seconds: int) -> dict:
    """Kiosk codes of the running activities and redeem codes of the redeeming members,
    for every 30-second step from now to past the run's end."""
    from timebank.activities.operations.checkin_codes import kiosk_token
    from timebank.core import codes
    from timebank.merchants.operations import REDEEM

    first = codes.step_of(datetime.now(UTC))
    steps = range(first, first + seconds // 30 + 6)
    kiosk = {step: [kiosk_token(a, step) for a in state["running"]] for step in steps}
    redeemers = state["members"][-2400:]
    redeem = {
        step: [codes.make_token(REDEEM, m, step) for m in redeemers]
        for step in tqdm(steps, desc="redeem codes", unit="step")
    }
    return {"kiosk": kiosk, "redeem": redeem}


# ---------------------------------------------------------------- processes


def start_instance(port: int, env: dict, workers: int, logs: Path) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
        "timebank:create_app()",
    ]  # fmt: skip
    env = {**env, "TIMEBANK_BIND": f"127.0.0.1:{port}", "TIMEBANK_WORKERS": str(workers),
           "TIMEBANK_ACCESS_LOG": str(logs / f"access-{port}.log")}  # fmt: skip
    with (logs / f"gunicorn-{port}.log").open("a") as log:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log,
                                start_new_session=True)  # fmt: skip


def start_scheduler(env: dict, logs: Path, name: str) -> subprocess.Popen:
    command = [str(ROOT / ".venv" / "bin" / "timebank"), "scheduler"]
    with (logs / f"scheduler-{name}.log").open("a") as log:
        return subprocess.Popen(command, env={**env, "TIMEBANK_METRICS": "0"}, cwd=ROOT,
                                stdout=log, stderr=log, start_new_session=True)  # fmt: skip


def wait_ready(port: int, seconds: float = 90) -> float:
    """Seconds until ``/readyz`` answers 200 (the scheduler's leader included)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the instance on port {port} was not ready within {seconds:.0f} s")


def kill_group(process: subprocess.Popen, sig=signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=30)


# ---------------------------------------------------------------- load


def write_scripts(state: dict, workdir: Path) -> dict[str, Path]:
    """The Lua script of each operation, its data filled in (bench/_load_lua.py)."""
    lua = lambda values: "{" + ",".join(values) + "}"  # noqa: E731
    quoted = lambda items: lua(f'"{i}"' for i in items)  # noqa: E731
    steps = sorted(state["kiosk"])
    data = {
        "PORTS": lua(str(p) for p in PORTS),
        "TOKENS": quoted(state["tokens"]),
        "KIOSK": lua(f"[{s}]={quoted(state['kiosk'][s])}" for s in steps),
        "REDEEM": lua(f"[{s}]={quoted(state['redeem'][s])}" for s in steps),
        "SHOPS": lua(f'{{{shop},{offer},"{token}"}}' for shop, offer, token in state["shops"]),
        "ENDED": lua(str(a) for a in state["ended"]),
        "ORGANIZER": f'"{state["organizer"]}"',
        "STREET": str(state["street"]),
        "STREET_ORGANIZER": f'"{state["street_organizer"]}"',
        "RUN": f'"{secrets.token_hex(3)}"',
    }
    paths = {}
    for name, template in SCRIPTS.items():
        text = template
        for key, value in data.items():
            text = text.replace(f"@{key}@", value)
        paths[name] = workdir / f"{name}.lua"
        paths[name].write_text(text)
    return paths


def start_wrk(name: str, script: Path, seconds: int) -> subprocess.Popen:
    connections = OPERATIONS[name]
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
        f"http://127.0.0.1:{PORTS[0]}",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_wrk(process: subprocess.Popen) -> dict:
    output = process.communicate()[0]
    found = re.search(r"^RESULT (.*)$", output, re.M)
    if not found:
        raise SystemExit(f"wrk printed no result:\n{output[-2000:]}")
    return json.loads(found.group(1))


# ---------------------------------------------------------------- faults


class Faults:
    """Kill instance A, kill the scheduler's leader, stop PostgreSQL for 10 s."""

    def __init__(self, seconds: int, deployment: dict, cluster: PostgresCluster, log: list):
        self.seconds, self.deployment, self.cluster, self.log = seconds, deployment, cluster, log
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _at(self, fraction: float, started: float) -> None:
        time.sleep(max(0.0, started + self.seconds * fraction - time.monotonic()))

    def note(self, started: float, text: str) -> None:
        self.log.append(f"t={time.monotonic() - started:6.1f}s  {text}")

    def _run(self) -> None:
        started, d = time.monotonic(), self.deployment
        self._at(0.25, started)
        kill_group(d["instances"][0])
        self.note(started, f"kill -9 instance A (port {PORTS[0]}): master and workers")
        d["instances"][0] = start_instance(PORTS[0], d["env"], d["workers"], d["logs"])
        took = wait_ready(PORTS[0])
        self.note(started, f"instance A restarted, ready again after {took:.1f} s")
        self._at(0.45, started)
        leader = leader_process(d)
        kill_group(leader)
        self.note(started, f"kill -9 the scheduler's leader (pid {leader.pid})")
        took = wait_new_leader(d, leader)
        self.note(started, f"the standby holds the lease {took:.1f} s later")
        d["schedulers"].append(start_scheduler(d["env"], d["logs"], "restarted"))
        self._at(0.65, started)
        self.cluster.stop()
        self.note(started, "PostgreSQL stopped (pg_ctl stop -m fast)")
        time.sleep(10)
        self.cluster.start()
        self.note(started, "PostgreSQL started again after 10 s")


def current_holder(env: dict) -> str | None:
    import psycopg

    url = env["TIMEBANK_DATABASE_URL"].replace("+psycopg", "")
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT holder FROM leases WHERE name = 'scheduler' AND expires_at > now() "
                "AT TIME ZONE 'UTC'"
            ).fetchone()
            return row[0] if row else None
    except psycopg.Error:
        return None


def leader_process(deployment: dict) -> subprocess.Popen:
    holder = current_holder(deployment["env"]) or ""
    pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else None
    for process in deployment["schedulers"]:
        if process.pid == pid and process.poll() is None:
            return process
    return deployment["schedulers"][0]


def wait_new_leader(deployment: dict, dead: subprocess.Popen, seconds: float = 40) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        holder = current_holder(deployment["env"])
        if holder and f":{dead.pid}:" not in holder:
            return time.monotonic() - started
        time.sleep(0.2)
    return float("nan")


def _frame(raw: str) -> str:
    """``f (/a/timebank/ledger/posting.py:12)`` -> ``f (timebank/ledger/posting.py)``"""
    function, _, where = raw.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{function} ({'/'.join(path.split('/')[-3:])})"


class Profile:
    """py-spy samples one worker of instance B from a third of the run on."""

    def __init__(self, deployment: dict, args, workdir: Path):
        self.out = workdir / "profile.txt"
        master = deployment["instances"][1].pid
        workers = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        pid = workers.stdout.split()[0]
        py_spy = str(ROOT / ".venv" / "bin" / "py-spy")
        command = [py_spy, "record", "--pid", pid, "--duration", str(args.profile), "--format",
                   "raw", "--rate", "200", "--nonblocking", "--output", str(self.out)]  # fmt: skip
        self.timer = threading.Timer(args.seconds / 3, subprocess.run, [command],
                                     {"capture_output": True})  # fmt: skip
        self.timer.start()

    def report(self, top: int = 15) -> list[str]:
        """The functions a worker was in (own time, then with callees), by share of samples."""
        self.timer.join()
        own: dict[str, int] = {}
        inclusive: dict[str, int] = {}
        total = 0
        for line in self.out.read_text().splitlines() if self.out.exists() else []:
            stack, _, count = line.rpartition(" ")
            frames = [_frame(f) for f in stack.split(";") if f]
            if not frames:
                continue
            n = int(count)
            total += n
            own[frames[-1]] = own.get(frames[-1], 0) + n
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + n
        if not total:
            return ["no samples (py-spy needs ptrace: run as root)"]
        lines = [f"{total} samples; own time:"]
        for frame, n in sorted(own.items(), key=lambda x: -x[1])[:top]:
            lines.append(f"  {100 * n / total:5.1f}%  {frame}")
        lines.append("with what they call (timebank's own code):")
        ours = [(f, n) for f, n in inclusive.items() if "timebank" in f or ".py" not in f]
        for frame, n in sorted(ours, key=lambda x: -x[1])[:top]:
            lines.append(f"  {100 * n / total:5.1f}%  {frame}")
        return lines


# ---------------------------------------------------------------- checks


CHECKS = {
    "approved attendance without exactly one credit per ledger it earned": """
        SELECT count(*) FROM attendances a
        WHERE a.status = 'approved' AND (
          (a.minutes > 0) <> EXISTS (SELECT 1 FROM transfers t WHERE
             t.idempotency_key = 'attendance:' || a.id || ':HOURS')
          OR (a.points > 0) <> EXISTS (SELECT 1 FROM transfers t WHERE
             t.idempotency_key = 'attendance:' || a.id || ':POINTS'))""",
    "credits of attendance that is not approved": """
        SELECT count(*) FROM transfers t JOIN attendances a
          ON t.reference_type = 'attendance' AND t.reference_id = a.id::text
        WHERE a.status <> 'approved'""",
    "credits per attendance and ledger above one": """
        SELECT count(*) FROM (SELECT reference_id, ledger FROM transfers
          WHERE reference_type = 'attendance' GROUP BY 1, 2 HAVING count(*) > 1) x""",
    "approved hour logs without exactly one credit per ledger": """
        SELECT count(*) FROM hour_logs h WHERE h.status = 'approved' AND NOT EXISTS (
          SELECT 1 FROM transfers t WHERE t.idempotency_key LIKE 'hourlog:' || h.id || ':%')""",
    "confirmed redemptions not debited exactly once": """
        SELECT count(*) FROM redemptions r WHERE r.status IN ('confirmed', 'refunded') AND
          (SELECT count(*) FROM transfers t
           WHERE t.code = 'redeem' AND t.id = r.transfer_id) <> 1""",
    "redeem transfers not of a confirmed redemption": """
        SELECT (SELECT count(*) FROM transfers WHERE code = 'redeem') - (SELECT count(*) FROM
          redemptions WHERE status IN ('confirmed', 'refunded'))""",
    "held redemptions whose hold is not pending (or the reverse)": """
        SELECT count(*) FROM redemptions r JOIN holds h ON h.id = r.hold_id
        WHERE (r.status = 'held') <> (h.status = 'pending')""",
}
TOTALS = {
    "approved attendance": "SELECT count(*) FROM attendances WHERE status = 'approved'",
    "check-ins at the kiosks": "SELECT count(*) FROM checkins WHERE method <> 'manual'",
    "confirmed redemptions": "SELECT count(*) FROM redemptions WHERE status = 'confirmed'",
    "expired redemptions (holds lapsed)": (
        "SELECT count(*) FROM redemptions WHERE status = 'expired'"
    ),
    "still held": "SELECT count(*) FROM redemptions WHERE status = 'held'",
}


def check_books(env: dict) -> list[str]:
    import psycopg

    lines = []
    verify = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "timebank"), "ledger", "verify"],
        env={**env, "TIMEBANK_LOG_FORMAT": "text"}, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    lines.append(f"ledger verify: exit {verify.returncode}: {verify.stdout.strip()[:300]}")
    if verify.returncode:
        lines.append(verify.stderr.strip()[-500:])
    with psycopg.connect(env["TIMEBANK_DATABASE_URL"].replace("+psycopg", "")) as conn:
        for label, sql in TOTALS.items():
            lines.append(f"{label}: {conn.execute(sql).fetchone()[0]}")
        failed = 0
        for label, sql in CHECKS.items():
            wrong = conn.execute(sql).fetchone()[0]
            failed += bool(wrong)
            lines.append(f"{'OK  ' if not wrong else 'FAIL'} {label}: {wrong}")
    lines.append("checks: all passed" if not failed and verify.returncode == 0 else "CHECKS FAILED")
    return lines


def slowest_statements(env: dict, limit: int = 8) -> list[str]:
    import psycopg

    with psycopg.connect(env["TIMEBANK_DATABASE_URL"].replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT calls, total_exec_time, mean_exec_time, left(regexp_replace(query, "
            "'\\s+', ' ', 'g'), 90) FROM pg_stat_statements ORDER BY total_exec_time DESC "
            "LIMIT %s",
            (limit,),
        ).fetchall()
    return [f"{c:>8} calls {t / 1000:>7.1f} s total {m:>6.2f} ms mean  {q}" for c, t, m, q in rows]


# ---------------------------------------------------------------- main


def run(args) -> None:
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install -y {tool}")
    workdir = Path(tempfile.mkdtemp(prefix="timebank-load-"))
    logs = workdir / "logs"
    logs.mkdir()
    cluster = PostgresCluster(workdir / "pg", PG_PORT)
    cluster.create()
    deployment: dict = {}
    try:
        url = cluster.url("load")
        env = environment(url)
        _flush_redis()
        print(
            f"== set-up: PostgreSQL {pg_bin('postgres')} on {PG_PORT}, data {workdir}", flush=True
        )
        state = prepare(url, args, args.seconds + 240)
        instances = [start_instance(port, env, args.workers, logs) for port in PORTS]
        deployment = {"env": env, "logs": logs, "workers": args.workers, "schedulers": [],
                      "instances": instances}  # fmt: skip
        deployment["schedulers"] += [start_scheduler(env, logs, n) for n in ("one", "two")]
        for port in PORTS:
            wait_ready(port)
        scripts = write_scripts(state, workdir)
        meter = CpuMeter(deployment, cluster)
        meter.start()
        fault_log: list[str] = []
        print(f"== load: {args.seconds} s{', with faults' if args.faults else ''}", flush=True)
        wrks = {name: start_wrk(name, scripts[name], args.seconds) for name in OPERATIONS}
        meter.add_wrk(list(wrks.values()))
        if args.faults:
            Faults(args.seconds, deployment, cluster, fault_log).start()
        profile = Profile(deployment, args, workdir) if args.profile else None
        results = {name: read_wrk(process) for name, process in wrks.items()}
        cpu = meter.stop()
        time.sleep(2)  # requests still in flight finish
        report(args, results, cpu, fault_log)
        print("\n== checks after the load")
        for line in check_books(env):
            print(line)
        print("\n== where PostgreSQL spent its time (pg_stat_statements, top by total time)")
        for line in slowest_statements(env):
            print(line)
        if profile is not None:
            print(f"\n== where one worker of instance B spent {args.profile} s (py-spy)")
            for line in profile.report():
                print(line)
    finally:
        for process in deployment.get("instances", []) + deployment.get("schedulers", []):
            kill_group(process, signal.SIGTERM)
        cluster.destroy(keep=args.keep)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def report(args, results: dict, cpu: dict, fault_log: list[str]) -> None:
    print(f"\n== results ({args.seconds} s, 2 instances x {args.workers} gunicorn workers, "
          f"{'with faults' if args.faults else 'no faults'})")  # fmt: skip
    print(f"{'operation':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'requests':>9}  statuses / errors")  # fmt: skip
    total = 0.0
    for name, r in results.items():
        total += r["rps"]
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(r["statuses"].items()))
        sockets = {k: v for k, v in r["errors"].items() if v}
        print(f"{name:<10} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
              f"{r['requests']:>9}  {statuses}  retried 503: {r['retried']}"
              + (f"  sockets: {sockets}" if sockets else ""))  # fmt: skip
    print(f"{'all':<10} {total:>8.1f} req/s")
    print("CPU (% of one core; the machine has 2 cores = 200%): " + ", ".join(
        f"{name} {share:.0f}%" for name, share in cpu.items()))  # fmt: skip
    for line in fault_log:
        print("fault: " + line)


def main(argv: list[str]) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
