"""Flash crowd of QR check-ins over HTTP, against the same server's one-read ceiling.

Starts gunicorn on 127.0.0.1, then drives it with BENCH_CLIENTS concurrent clients
(keep-alive connections, one thread each):

1. ceiling: ``GET /api/v1/ping-db``: bearer-token lookup plus one indexed read, small JSON;
2. check-ins: ``POST /api/v1/checkins`` with the kiosk's current code, each by a
   different member (bearer-token lookup, HMAC check, activity read, two inserts, commit).

Prints requests per second, p50 and p99 latency of each, and the check-in/ceiling ratio.
Bounded: BENCH_REQUESTS per phase and BENCH_MAX_SECONDS per phase.

    .venv/bin/python bench/checkin.py                      # SQLite file under /tmp
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/checkin.py                  # PostgreSQL (a database of its own)

Settings (environment): BENCH_DATABASE_URL, BENCH_CLIENTS (32), BENCH_REQUESTS (2000),
BENCH_MAX_SECONDS (60), BENCH_WORKERS (2 * CPUs), BENCH_THREADS (4 per worker),
BENCH_PORT (8765).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
MAX_SECONDS = float(os.environ.get("BENCH_MAX_SECONDS", "60"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1))))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or (
    f"sqlite:///{tempfile.mkdtemp(prefix='timebank-bench-')}/bench.sqlite3"
)
SECRET = "bench-" + secrets.token_urlsafe(24)
SERVER_ENV = {
    **os.environ,
    "TIMEBANK_ENV": "production",
    "TIMEBANK_SECRET_KEY": SECRET,
    "TIMEBANK_DATABASE_URL": DATABASE_URL,
}


def prepare() -> dict:
    """Migrate, then create a unit, an organizer, an open activity and REQUESTS members
    with bearer tokens (no passwords: hashing thousands would dominate the set-up)."""
    os.environ.update(
        TIMEBANK_ENV="production", TIMEBANK_SECRET_KEY=SECRET, TIMEBANK_DATABASE_URL=DATABASE_URL
    )
    from flask_migrate import upgrade

    from timebank import create_app
    from timebank.activities import operations as activities
    from timebank.extensions import db
    from timebank.people import operations as people
    from timebank.units import operations as units

    app = create_app()
    with app.app_context():
        upgrade()
        suffix = secrets.token_hex(3)
        unit = units.create_unit(name=f"压测社区-{suffix}", kind="community", parent_id=None)
        base_phone = 19_900_000_000 + secrets.randbelow(90_000_000)
        organizer = people.create_member(
            phone=str(base_phone), name="压测组织者", home_unit_id=unit.id,
            roles=[("organizer", unit.id)],
        )  # fmt: skip
        now = datetime.now(UTC)
        activity = activities.create_activity(
            actor=organizer, unit_id=unit.id, title="压测活动", category="cleanup",
            starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=2),
            requires_checkout=False,
        )  # fmt: skip
        tokens = []
        for i in tqdm(range(REQUESTS + CLIENTS), desc="members and tokens", unit="member"):
            member = people.create_member(
                phone=str(base_phone + 1 + i), name=f"志愿者{i}", home_unit_id=unit.id
            )
            tokens.append(people.issue_token(member)[0])
            if i % 500 == 0:
                db.session.commit()
        db.session.commit()
        return {"app": app, "activity_id": activity.id, "tokens": tokens}


def start_server() -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--bind", f"127.0.0.1:{PORT}", "--workers", str(WORKERS),
        "--worker-class", "gthread", "--threads", str(THREADS),
        "--log-level", "warning", "--chdir", str(ROOT), "timebank:create_app()",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=SERVER_ENV, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/api/v1/activity-categories")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start within 30 s")


def run_phase(name: str, make_request, count: int) -> dict:
    """``count`` requests from CLIENTS threads; returns throughput and latency figures."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    next_index = iter(range(count))
    started = time.perf_counter()
    stop_at = started + MAX_SECONDS
    progress = tqdm(total=count, desc=name, unit="req")

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while time.perf_counter() < stop_at:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            method, path, body, headers = make_request(index)
            begin = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - begin
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
            progress.update(1)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    progress.close()
    latencies.sort()
    return {
        "phase": name,
        "requests": len(latencies),
        "seconds": round(wall, 2),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
        "statuses": statuses,
    }


def main() -> None:
    print(f"database: {DATABASE_URL.split('@')[-1]}  clients: {CLIENTS}  requests/phase: "
          f"{REQUESTS}  gunicorn: {WORKERS} workers x {THREADS} threads")  # fmt: skip
    setup = prepare()
    app, activity_id, tokens = setup["app"], setup["activity_id"], setup["tokens"]
    from timebank.activities import operations as activities

    server = start_server()
    try:
        ceiling_tokens = tokens[REQUESTS:]

        def ping(index):
            auth = {"Authorization": f"Bearer {ceiling_tokens[index % CLIENTS]}"}
            return "GET", "/api/v1/ping-db", None, auth

        def checkin(index):
            with app.app_context():
                code = activities.kiosk_token(
                    activity_id, activities.step_of(datetime.now(UTC))
                )  # the kiosk's current code, as a phone would have scanned it
            body = json.dumps({"token": code})
            headers = {
                "Authorization": f"Bearer {tokens[index]}",
                "Content-Type": "application/json",
            }
            return "POST", "/api/v1/checkins", body, headers

        run_phase("warm-up", ping, min(200, REQUESTS))
        ceiling = run_phase("ceiling GET /api/v1/ping-db", ping, REQUESTS)
        checkins = run_phase("check-ins POST /api/v1/checkins", checkin, REQUESTS)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    with app.app_context():
        recorded = activities.attendance_counts(activity_id)["checked_in"]
    print()
    for result in (ceiling, checkins):
        print(
            f"{result['phase']:<34} {result['requests']:>6} req in {result['seconds']:>6} s"
            f"  {result['rps']:>8} req/s  p50 {result['p50_ms']:>6} ms"
            f"  p99 {result['p99_ms']:>6} ms"
            f"  statuses {result['statuses']}"
        )
    ratio = checkins["rps"] / ceiling["rps"] if ceiling["rps"] else 0
    print(f"check-in throughput / ceiling: {ratio:.0%}  (aim: at least 50%, p99 under 100 ms)")
    print(
        f"attendance rows recorded: {recorded} (201 responses: {checkins['statuses'].get(201, 0)})"
    )


if __name__ == "__main__":
    main()
