"""The price of a request: timebank's endpoints against plain Flask on the same database.

For each database (a SQLite file, then PostgreSQL), in one run:

1. set up: migrate, one community, an organizer, an open activity and BENCH_MEMBERS
   members with bearer tokens (progress bar);
2. the ceiling: plain Flask (bench/_plain_app.py) under the same gunicorn settings:
   ``GET /json`` (trivial JSON) and ``GET /read`` (one indexed read of ``members``);
3. timebank under gunicorn with production settings: ``GET /readyz``,
   ``GET /api/v1/me/balances`` (each connection its own member) and
   ``POST /api/v1/checkins`` (every request a different member scanning the kiosk's
   current code: a flash crowd).

Load comes from wrk (C, Debian's ``wrk`` package): 2 threads, 32 connections, 8 s per run,
best of two; Python client threads on the same two cores would measure themselves.
Each figure is printed as req/s, p50 and p99, and as a ratio to the plain one-read ceiling.

    .venv/bin/python bench/http.py                        # both databases
    .venv/bin/python bench/http.py --databases sqlite --seconds 4 --runs 1

Settings: --workers (4, gunicorn sync), --connections (32), --threads (2), --seconds (8),
--runs (2, best kept), --without HOOKS (timebank served without them, as
bench/instructions.py takes them away: ``--without read_phases`` prices what SQLite's
early-commit read phases earn under a flash crowd); TIMEBANK_BENCH_DATABASE_URL for
PostgreSQL (default postgresql+psycopg://postgres@127.0.0.1:5432/bench; its schema is
dropped and migrated).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py, as the issue asks: keep its folder off the import path, or
# it would shadow the standard library's http package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from tqdm import tqdm  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._postgres import reset_postgres  # noqa: E402

PG_URL = os.environ.get(
    "TIMEBANK_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
)
SECRET = "bench-" + secrets.token_urlsafe(24)
#: a fixed signing seed: production refuses to start without one (base64 of 32 bytes)
SIGNING_KEY = "YmVuY2gtb25seS1zaWduaW5nLWtleS0wMTIzNDU2Nzg="
TIMEBANK_PORT, PLAIN_PORT = 8771, 8772
CEILING = "plain one indexed read"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--members", type=int, default=30000, help="members with tokens")
    parser.add_argument(
        "--without", default="",
        help="serve timebank without these hooks (bench/instructions.py's HOOKS), "
        "e.g. read_phases: what a hook earns under load",
    )  # fmt: skip
    return parser.parse_args(argv)


def prepare(url: str, members: int) -> dict:
    """Migrate and create the community, the activity and the members with tokens."""
    os.environ.update(
        TIMEBANK_ENV="production",
        # several workers, each counting throttles alone: nothing here is throttled
        TIMEBANK_ALLOW_PROCESS_THROTTLES="1",
        TIMEBANK_ACCESS_LOG="off",  # as before these figures had an access log
        TIMEBANK_SECRET_KEY=SECRET,
        TIMEBANK_DATABASE_URL=url,
        TIMEBANK_SIGNING_KEY=SIGNING_KEY,
    )
    from flask_migrate import upgrade

    from timebank import create_app
    from timebank.activities import operations as activities
    from timebank.core.uow import unit_of_work
    from timebank.extensions import db
    from timebank.people import operations as people
    from timebank.units import operations as units

    app = create_app()
    with app.app_context():
        upgrade()
        with unit_of_work():
            unit = units.create_unit(name="压测街道", kind="street", parent_id=None)
            organizer = people.create_member(
                phone="19800000000", name="压测组织者", home_unit_id=unit.id,
                roles=[("organizer", unit.id)],
            )  # fmt: skip
            now = datetime.now(UTC)
            activity = activities.create_activity(
                actor=organizer, unit_id=unit.id, title="压测活动", category="cleanup",
                starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=3),
                requires_checkout=False,
            )  # fmt: skip
        tokens = []
        for start in tqdm(range(0, members, 1000), desc="members and tokens", unit="k"):
            with unit_of_work():
                for i in range(start, min(start + 1000, members)):
                    member = people.create_member(
                        phone=str(19_800_000_001 + i), name=f"志愿者{i}", home_unit_id=unit.id
                    )
                    tokens.append(people.issue_token(member)[0])
        db.engine.dispose()
    return {"app": app, "activity_id": activity.id, "tokens": tokens}


def start(command: list[str], env: dict, port: int, probe: str) -> subprocess.Popen:
    server = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2) as r:
                r.read()
            return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit(f"{command[0]} did not answer on port {port} within 30 s")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def gunicorn(app_spec: str, port: int, workers: int) -> list[str]:
    """The command for gunicorn with the project's settings (gunicorn.conf.py), the plain
    ceiling included: both are measured under the same server."""
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning",
        app_spec,
    ]  # fmt: skip


def lua_script(tokens: list[str], body: str | None, method: str) -> str:
    """A wrk script: each request takes the next member's token; wrk's threads start at
    different ends of the list, so no two requests share a member until it wraps."""
    quoted = ",".join(f'"{t}"' for t in tokens)
    payload = json.dumps(body) if body is not None else "nil"
    return f"""
local tokens = {{{quoted}}}
local body = {payload}
local threads = 0
function setup(thread)
  thread:set("first", threads * math.floor(#tokens / 2))
  threads = threads + 1
end
function init(args)
  counter = first or 0
end
function request()
  counter = counter + 1
  local headers = {{}}
  headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format("{method}", nil, headers, body)
end
"""


def wrk(url: str, args, script=None) -> dict:
    """Best of ``args.runs`` wrk runs: req/s, p50 and p99 latency, non-2xx count.

    ``script(run)`` writes the Lua script for run number ``run`` and returns its path.
    """
    best = None
    for run in range(args.runs):
        command = [
            "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
            "--latency", "--timeout", "10s",
        ]  # fmt: skip
        if script:
            command += ["-s", script(run)]
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        result = {
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
            "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
            "errors": int(errors.group(1)) if errors else 0,
        }
        if best is None or result["rps"] > best["rps"]:
            best = result
    return best


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group()), re.sub(r"[\d.]", "", text)
    return value * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def bench_database(url: str, args) -> list[tuple[str, dict]]:
    if url.startswith("postgresql"):
        reset_postgres(url)
    setup = prepare(url, args.members)
    env = {**os.environ, "BENCH_DATABASE_URL": url}
    results = []
    plain = start(
        gunicorn("bench._plain_app:create_app()", PLAIN_PORT, args.workers), env, PLAIN_PORT,
        "/json",
    )  # fmt: skip
    try:
        for label, path in (("trivial JSON", "/json"), (CEILING, "/read")):
            results.append((label, wrk(f"http://127.0.0.1:{PLAIN_PORT}{path}", args)))
    finally:
        stop(plain)
    app_spec = "timebank:create_app()"
    if args.without:
        app_spec = f"bench.instructions:app_without({args.without!r})"
    server = start(
        gunicorn(app_spec, TIMEBANK_PORT, args.workers), env, TIMEBANK_PORT,
        "/readyz?exclude=scheduler",
    )  # fmt: skip
    base = f"http://127.0.0.1:{TIMEBANK_PORT}"
    workdir = Path(tempfile.mkdtemp(prefix="timebank-wrk-"))
    try:
        results.append(("timebank GET /readyz", wrk(f"{base}/readyz?exclude=scheduler", args)))
        readers = setup["tokens"][: args.connections * 4]
        balances = workdir / "balances.lua"
        balances.write_text(lua_script(readers, None, "GET"))
        results.append(
            ("GET /api/v1/me/balances", wrk(f"{base}/api/v1/me/balances", args, lambda r: balances))
        )
        results.append(("POST /api/v1/checkins", _checkins(setup, base, workdir, args)))
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def _checkins(setup: dict, base: str, workdir: Path, args) -> dict:
    """Every run its own members (a member checks in once), and the kiosk's code now."""
    from timebank.activities import operations as activities

    share = len(setup["tokens"]) // args.runs

    def script(run: int) -> Path:
        with setup["app"].app_context():
            activity = activities.get_activity(setup["activity_id"])
            token = activities.current_code(activity)["token"]
        path = workdir / f"checkins-{run}.lua"
        members = setup["tokens"][run * share : (run + 1) * share]
        path.write_text(lua_script(members, json.dumps({"token": token}), "POST"))
        return path

    return wrk(f"{base}/api/v1/checkins", args, script)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")
    urls = {
        "sqlite": f"sqlite:///{tempfile.mkdtemp(prefix='timebank-bench-')}/bench.sqlite3",
        "postgresql": PG_URL,
    }
    report = []
    for name in args.databases.split(","):
        print(f"\n== {name}", flush=True)
        results = bench_database(urls[name], args)
        ceiling = dict(results)[CEILING]["rps"]
        for label, r in results:
            line = (
                f"{name:<10} {label:<36} {r['rps']:>8.0f} req/s  p50 {r['p50']:>7.1f} ms  "
                f"p99 {r['p99']:>7.1f} ms  {r['rps'] / ceiling:>5.0%} of one-read"
                + (f"  non-2xx {r['errors']}" if r["errors"] else "")
            )
            report.append(line)
            print(line, flush=True)
    print(
        f"\nsummary (gunicorn sync x{args.workers}, wrk -t{args.threads} -c{args.connections}"
        f" -d{args.seconds}s, best of {args.runs}"
        + (f"; timebank without {args.without}" if args.without else "")
        + "):"
    )
    print("\n".join(report))


if __name__ == "__main__":
    main(sys.argv[1:])
