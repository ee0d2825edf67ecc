"""Redemption at the counter under load: 16 counters, each redemption a hold and a confirm
over HTTP against gunicorn, compared with the same server's ``/readyz`` in the same run.

For each database (a SQLite file, then PostgreSQL):

1. set up: migrate; a community, ``--shops`` approved shops with a 1-point offer each, and
   a staff member with a bearer token per counter (16 counters: one per shop, or with
   ``--shops 1`` all at one shop, its worst case); ``--members`` members with points;
2. timebank under gunicorn with production settings: ``GET /readyz`` with wrk, 16 threads
   of one connection each (the counters' shape);
3. the counters: wrk again, each thread one counter with one connection: it sends
   ``POST /api/v1/redemptions`` with the next member's redeem code, then
   ``POST /api/v1/redemptions/<id>/confirm`` for the redemption it got back (a Lua
   ``response()`` chains the two), and measures each redemption from the hold's request
   to the confirm's answer (LuaJIT's ffi reads the monotonic clock). Codes are made just
   before each run, one member per redemption (a code redeems once);
4. afterwards: ``timebank ledger verify`` passes, and the points of confirmed
   redemptions add up to the merchants' balances.

Printed: redemptions/s with p50 and p99 of a whole redemption (hold + confirm), the HTTP
requests/s, and both as a ratio to ``/readyz``. The machine may be shared: the ratio is the
figure to compare.

    .venv/bin/python bench/redeem.py                        # both databases
    .venv/bin/python bench/redeem.py --databases sqlite --seconds 4 --runs 1 --port 8811

Settings: --workers (4, gunicorn sync), --counters (16), --shops (16), --seconds (8),
--runs (2, best kept), --members (6000), --port (8773); TIMEBANK_BENCH_DATABASE_URL for PostgreSQL
(default postgresql+psycopg://postgres@127.0.0.1:5432/bench; its schema is dropped).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ (this folder) holds http.py, which would shadow the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))


def _bench_http():
    """bench/http.py's helpers (gunicorn, wrk, PostgreSQL reset); its name shadows the
    standard library's http, so it is loaded from its path."""
    spec = importlib.util.spec_from_file_location("bench_http", HERE / "http.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


http = _bench_http()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--counters", type=int, default=16)
    parser.add_argument("--shops", type=int, default=16, help="the counters' shops (1: all at one)")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--members", type=int, default=6000, help="members with points")
    parser.add_argument("--port", type=int, default=8773)
    return parser.parse_args(argv)


def prepare(url: str, args) -> dict:
    """Migrate; the shop, its offer, its staff (tokens) and the members with points."""
    os.environ.update(
        TIMEBANK_ENV="production",
        # several workers, each counting throttles alone: nothing here is throttled
        TIMEBANK_ALLOW_PROCESS_THROTTLES="1",
        TIMEBANK_ACCESS_LOG="off",  # as before these figures had an access log
        TIMEBANK_SECRET_KEY=http.SECRET,
        TIMEBANK_DATABASE_URL=url,
        TIMEBANK_SIGNING_KEY=http.SIGNING_KEY,
    )
    from flask_migrate import upgrade

    from bench._shops import open_shop
    from timebank import create_app
    from timebank.core.uow import unit_of_work
    from timebank.extensions import db
    from timebank.ledger import operations as ledger
    from timebank.merchants import operations as merchants
    from timebank.people import operations as people
    from timebank.units import operations as units

    app = create_app()
    with app.app_context():
        upgrade()
        with unit_of_work():
            street = units.create_unit(name="压测街道", kind="street", parent_id=None)
            unit = units.create_unit(name="压测社区", kind="community", parent_id=street.id)
            organizer = people.create_member(
                phone="19700000000", name="压测网格长", home_unit_id=unit.id,
                roles=[("organizer", unit.id)],
            )  # fmt: skip
            now = datetime.now(UTC)
            offers = []
            for n in range(args.shops):
                shop, owner, offer = open_shop(unit, organizer, n, 19_700_000_001 + n, now)
                offers.append((shop, owner, offer))
            staff_tokens, offer_ids = [], []
            for n in range(args.counters):
                shop, owner, offer = offers[n % args.shops]
                clerk = owner
                if n >= args.shops:  # a second counter of a shop: another staff member
                    clerk = people.create_member(
                        phone=str(19_700_100_000 + n), name=f"店员{n}", home_unit_id=unit.id
                    )
                    merchants.invite_staff(shop, phone=clerk.phone, actor=owner)
                staff_tokens.append(people.issue_token(clerk)[0])
                offer_ids.append(offer.id)
        member_ids = []
        for start in tqdm(range(0, args.members, 500), desc="members with points", unit="500"):
            with unit_of_work():
                for i in range(start, min(start + 500, args.members)):
                    member = people.create_member(
                        phone=str(19_800_000_000 + i), name=f"志愿者{i}", home_unit_id=unit.id
                    )
                    ledger.credit_from_evidence(
                        member_id=member.id, member_unit_id=unit.id, unit_id=unit.id,
                        minutes=0, points=3, code="earn_service", reference_type="bench",
                        reference_id=str(i), idempotency_key=f"bench:{i}", actor_id=None,
                    )  # fmt: skip
                    member_ids.append(member.id)
        db.engine.dispose()
    return {"app": app, "offers": offer_ids, "staff": staff_tokens, "members": member_ids}


LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local codes = {%(codes)s}
local staff = {%(staff)s}
local offers = {%(offers)s}
local run = "%(run)s"
local threads = {}
function setup(thread)
  thread:set("counter", #threads)
  table.insert(threads, thread)
end
function init(args)
  index = counter + 1
  stride = #staff
  headers = {}
  headers["Authorization"] = "Bearer " .. staff[counter + 1]
  headers["Content-Type"] = "application/json"
  offer_id = offers[counter + 1]
  pending, started, sent = nil, 0, 0
  latencies, failed, used_up = {}, 0, 0
end
function request()
  if pending then
    return wrk.format("POST", "/api/v1/redemptions/" .. pending .. "/confirm", headers, "")
  end
  local code = codes[index]
  if code == nil then
    used_up = 1
    index = counter + 1
    code = codes[index]
  end
  index = index + stride
  sent = sent + 1
  started = now_ms()
  local body = '{"code": "' .. code .. '", "offer_id": ' .. offer_id ..
    ', "idempotency_key": "' .. run .. "-" .. counter .. "-" .. sent .. '"}'
  return wrk.format("POST", "/api/v1/redemptions", headers, body)
end
function response(status, headers, body)
  if pending then
    pending = nil
    if status == 200 then
      table.insert(latencies, now_ms() - started)
    else
      failed = failed + 1
    end
  elseif status == 201 then
    pending = string.match(body, '"id":%%s*(%%d+)')
  else
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local all, errors, wrapped = {}, 0, 0
  for _, thread in ipairs(threads) do
    for _, value in ipairs(thread:get("latencies")) do table.insert(all, value) end
    errors = errors + thread:get("failed")
    wrapped = wrapped + thread:get("used_up")
  end
  table.sort(all)
  local function pct(p)
    if #all == 0 then return 0 end
    return all[math.max(1, math.ceil(#all * p))]
  end
  io.write(string.format('REDEEM {"redemptions": %%d, "seconds": %%f, "p50": %%f, "p99": %%f, '
    .. '"errors": %%d, "wrapped": %%d}\n',
    #all, summary.duration / 1e6, pct(0.5), pct(0.99), errors, wrapped))
end
"""


def lua_script(setup: dict, codes: list[str], run: str) -> str:
    return LUA % {
        "codes": ",".join(f'"{c}"' for c in codes),
        "staff": ",".join(f'"{t}"' for t in setup["staff"]),
        "offers": ",".join(str(o) for o in setup["offers"]),
        "run": run,
    }


def wrk(url: str, args, script: Path | None = None) -> str:
    command = [
        "wrk", f"-t{args.counters}", f"-c{args.counters}", f"-d{args.seconds}s", "--latency",
        "--timeout", "10s",
    ]  # fmt: skip
    if script:
        command += ["-s", str(script)]
    return subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout


def readyz(base: str, args) -> dict:
    best = None
    for _run in range(args.runs):
        output = wrk(f"{base}/readyz?exclude=scheduler", args)
        result = {
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": http._ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
            "p99": http._ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        }
        if best is None or result["rps"] > best["rps"]:
            best = result
    return best


def counters(setup: dict, base: str, workdir: Path, args) -> dict:
    """Best of ``args.runs`` runs of the counters; each run its own members' codes."""
    from timebank.merchants import operations as merchants

    share = len(setup["members"]) // args.runs
    best = None
    for run in range(args.runs):
        members = setup["members"][run * share : (run + 1) * share]
        with setup["app"].app_context():
            now = datetime.now(UTC)
            codes = [merchants.current_redeem_code(m, now=now).token for m in members]
        script = workdir / f"redeem-{run}.lua"
        script.write_text(lua_script(setup, codes, f"r{run}"))
        output = wrk(f"{base}/api/v1/redemptions", args, script)
        result = json.loads(re.search(r"^REDEEM (.*)$", output, re.M).group(1))
        result["requests_rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        result["rps"] = result["redemptions"] / result["seconds"]
        if best is None or result["rps"] > best["rps"]:
            best = result
    return best


def check_books(setup: dict) -> dict:
    """``timebank ledger verify``, and confirmed redemptions' points = the merchants'
    balances."""
    import sqlalchemy as sa

    from timebank.extensions import db
    from timebank.ledger.models import Account
    from timebank.merchants.models import Redemption

    verify = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "timebank"), "ledger", "verify"],
        env=dict(os.environ), cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    with setup["app"].app_context():
        confirmed = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Redemption.points), 0)).where(
                Redemption.status == "confirmed"
            )
        )
        balances = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Account.balance), 0)).where(
                Account.kind == "merchant"
            )
        )
        held = db.session.scalar(sa.select(sa.func.count()).where(Redemption.status == "held"))
        db.session.rollback()
        db.engine.dispose()
    return {
        "verify": verify.returncode == 0,
        "problem": (verify.stdout + verify.stderr).strip().splitlines()[-1:],
        "verify_line": verify.stdout.strip(),
        "confirmed_points": int(confirmed),
        "merchant_balances": int(balances),
        "left_held": held,
    }


def bench_database(url: str, args) -> dict:
    if url.startswith("postgresql"):
        http.reset_postgres(url)
    setup = prepare(url, args)
    env = dict(os.environ)
    server = http.start(
        http.gunicorn("timebank:create_app()", args.port, args.workers),
        env,
        args.port,
        "/readyz?exclude=scheduler",
    )
    base = f"http://127.0.0.1:{args.port}"
    workdir = Path(tempfile.mkdtemp(prefix="timebank-redeem-"))
    try:
        ready = readyz(base, args)
        redeem = counters(setup, base, workdir, args)
    finally:
        http.stop(server)
        shutil.rmtree(workdir, ignore_errors=True)
    return {"readyz": ready, "redeem": redeem, "books": check_books(setup)}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")
    urls = {
        "sqlite": f"sqlite:///{tempfile.mkdtemp(prefix='timebank-bench-')}/bench.sqlite3",
        "postgresql": http.PG_URL,
    }
    lines, ok = [], True
    for name in args.databases.split(","):
        print(f"\n== {name}", flush=True)
        result = bench_database(urls[name], args)
        ready, redeem, books = result["readyz"], result["redeem"], result["books"]
        balanced = books["confirmed_points"] == books["merchant_balances"]
        ok = ok and books["verify"] and balanced and not redeem["errors"]
        lines += [
            f"{name:<10} GET /readyz                {ready['rps']:>8.0f} req/s  "
            f"p50 {ready['p50']:>6.1f} ms  p99 {ready['p99']:>6.1f} ms",
            f"{name:<10} redemption (hold+confirm)  {redeem['rps']:>8.0f} /s     "
            f"p50 {redeem['p50']:>6.1f} ms  p99 {redeem['p99']:>6.1f} ms  "
            f"{redeem['rps'] / ready['rps']:>5.0%} of /readyz",
            f"{name:<10} their HTTP requests        {redeem['requests_rps']:>8.0f} req/s"
            f"{'':33}{redeem['requests_rps'] / ready['rps']:>5.0%} of /readyz"
            + (f"  errors {redeem['errors']}" if redeem["errors"] else "")
            + ("  (codes wrapped: add --members)" if redeem["wrapped"] else ""),
            f"{name:<10} books: `timebank ledger verify` "
            f"{books['verify_line'] if books['verify'] else books['problem']}; "
            f"confirmed redemptions {books['confirmed_points']} points = merchants' balances "
            f"{books['merchant_balances']}: {'yes' if balanced else 'NO'}; "
            f"{books['left_held']} holds left pending by the run's end",
        ]
        print("\n".join(lines[-4:]), flush=True)
    print(
        f"\nsummary (gunicorn sync x{args.workers}, {args.counters} counters at {args.shops} "
        f"shops: wrk -t{args.counters} -c{args.counters} -d{args.seconds}s, best of "
        f"{args.runs}; on a shared machine compare the ratios):"
    )
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
