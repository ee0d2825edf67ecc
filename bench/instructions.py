"""The price of a request in CPU instructions: the same figure on every run and machine.

bench/http.py's req/s move by tens of percent from one run to the next on a shared
machine, and its ratios depend on what the machine's sockets and kernel cost. This script
counts instructions instead, with valgrind's callgrind (Debian's ``valgrind`` package).
For each kind of request, in a process of its own under callgrind:

1. build the app as a gunicorn worker does (production settings, then gunicorn.conf.py's
   ``post_worker_init``) on a SQLite file set up as bench/http.py and bench/redeem.py do;
2. send --warmup requests straight to the WSGI app (no sockets, no test client);
3. switch counting on (``callgrind_control -i on``) and send --requests more.

Kinds: the plain Flask one-read (bench/_plain_app.py, the ceiling of bench/http.py),
``GET /readyz``, ``GET /api/v1/me/balances``, a first ``POST /api/v1/checkins`` (each a
different member), a redemption at the counter (``POST /api/v1/redemptions`` then
``/confirm``, each a different member) and a page: the volunteer's home (``GET /``, logged
in with the session cookie a browser keeps after its first page, a member with points).
Codes are made before counting starts. Each is printed as instructions per request, as a
multiple of the plain one-read and of ``/readyz``, and with the SQL statements SQLite ran
per request (every one, the ledger's raw SQL too; BEGIN, COMMIT and PRAGMA apart), counted
in the last warm-up requests so the counting itself is not counted. SQLite only: its
engine runs inside the process, so its work is counted; a PostgreSQL server's work would
not be.

``--without`` takes per-request hooks away (see HOOKS), so the tax of each one is the
difference from a run with it: ``--without csrf`` against none.

    .venv/bin/python bench/instructions.py
    .venv/bin/python bench/instructions.py --requests 100 --kinds readyz,balances
    .venv/bin/python bench/instructions.py --kinds readyz,home --without session
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

from tqdm import tqdm

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ (this folder) holds http.py, which would shadow the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

KINDS = ("plain", "readyz", "balances", "checkin", "redemption", "home")
LABELS = {
    "plain": "plain one indexed read",
    "readyz": "GET /readyz",
    "balances": "GET /api/v1/me/balances",
    "checkin": "POST /api/v1/checkins (first scan)",
    "redemption": "redemption (hold + confirm)",
    "home": "GET / (volunteer's home, logged in)",
}
#: hooks --without can take away: each request then runs as if the app had not got it
HOOKS = (
    "request_id", "csrf", "check_request", "api_auth", "fresh_request_state",
    "remember_cookie", "security_headers", "session", "context_processors", "locale",
    "read_phases",
)  # fmt: skip
#: the statements counted per request: the last ones of the warm-up
TRACED = 20
STEPS_AHEAD = 120  # codes made in advance: an hour of 30-second steps under valgrind


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--requests", type=int, default=300, help="counted, per kind")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--metrics", action="store_true", help="TIMEBANK_METRICS=1 (multiprocess files)"
    )
    parser.add_argument("--without", default="", help="hooks to take away: " + ",".join(HOOKS))
    parser.add_argument(
        "--tax", action="store_true", help="each hook's price: a run without each in turn"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    parser.add_argument("--signal", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _load(name: str):
    """A sibling bench script as a module (bench/http.py's name shadows the stdlib's)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- set-up (parent)


def prepare(workdir: Path, members: int) -> dict:
    """Two SQLite files: bench/http.py's (activity, members with tokens) and
    bench/redeem.py's (a shop, its offer and staff, members with points); the codes."""
    redeem = _load("redeem")
    http = redeem.http  # one secret for both files: the codes are signed with it
    state = {
        "secret": http.SECRET,
        "signing_key": http.SIGNING_KEY,
        "http_url": f"sqlite:///{workdir}/http.sqlite3",
    }
    made = http.prepare(state["http_url"], members)
    state |= {"tokens": made["tokens"], "activity_id": made["activity_id"]}
    state["redeem_url"] = f"sqlite:///{workdir}/redeem.sqlite3"
    shop = redeem.prepare(state["redeem_url"], Namespace(shops=1, counters=1, members=members))
    state |= {"staff": shop["staff"][0], "offer_id": shop["offers"][0]}
    state |= _codes(made["app"], made["activity_id"], shop["members"])
    return state


def _codes(app, activity_id: int, member_ids: list[int]) -> dict:
    """The kiosk's code and each member's redeem code for the steps to come, by step."""
    from timebank.activities.operations.checkin_codes import kiosk_token
    from timebank.core import codes
    from timebank.core.clock import utcnow
    from timebank.merchants.operations import REDEEM

    with app.app_context():
        first = codes.step_of(utcnow())
        steps = range(first, first + STEPS_AHEAD)
        kiosk = {step: kiosk_token(activity_id, step) for step in steps}
        redeem = {
            step: [[m, codes.make_token(REDEEM, m, step)] for m in member_ids]
            for step in tqdm(steps, desc="redeem codes", unit="step")
        }
    return {"kiosk": kiosk, "redeem": redeem}


# ---------------------------------------------------------------- counting (parent)


def count(kind: str, state_file: Path, args, workdir: Path) -> tuple[int, float]:
    """Instructions and SQL statements per request of ``kind``: its process runs under
    callgrind, counting only from the first request after the warm-up to the last."""
    ready, out = workdir / f"{kind}.ready", workdir / f"{kind}.callgrind"
    for left in (ready, ready.with_suffix(".go"), ready.with_suffix(".statements"), out):
        left.unlink(missing_ok=True)  # a kind's earlier run (--tax)
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
        sys.executable, str(Path(__file__).resolve()), "--child", kind,
        "--state", str(state_file), "--signal", str(ready),
        "--requests", str(args.requests), "--warmup", str(args.warmup),
        "--without", args.without,
    ]  # fmt: skip
    log = workdir / f"{kind}.log"  # valgrind's and the app's messages, for a failure
    with log.open("w") as stderr:
        child = subprocess.Popen(command, cwd=ROOT, stderr=stderr)
    deadline = time.monotonic() + 900
    while not ready.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise SystemExit(f"{kind}: the process ended before its warm-up did:\n" + _tail(log))
        time.sleep(0.2)
    subprocess.run(["callgrind_control", "-i", "on", ready.read_text()], check=True,
                   capture_output=True)  # fmt: skip
    ready.with_suffix(".go").touch()
    if child.wait() != 0:
        raise SystemExit(f"{kind}: failed:\n" + _tail(log))
    total = re.search(r"^(?:summary|totals):\s*(\d+)", out.read_text(), re.M)
    statements = float(ready.with_suffix(".statements").read_text())
    return int(total.group(1)) // args.requests, statements


def _tail(log: Path) -> str:
    return "\n".join(log.read_text().splitlines()[-15:])


# ---------------------------------------------------------------- requests (child)


def _environ(method: str, path: str, token: str | None, body: dict | None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }  # fmt: skip
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body is not None:
        environ |= {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data))}
    return environ


def _send(
    app, method: str, path: str, token: str | None = None, body: dict | None = None, cookie=None
):
    status = []
    environ = _environ(method, path, token, body)
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    if status[0][:1] != "2":
        raise SystemExit(f"{method} {path}: {status[0]} {answer[:300]!r}")
    return answer


def _now(made_ahead: dict):
    """What was made in advance for the 30-second step now."""
    from timebank.core import codes
    from timebank.core.clock import utcnow

    step = str(codes.step_of(utcnow()))
    if step not in made_ahead:
        raise SystemExit(
            f"the codes made in advance ran out ({STEPS_AHEAD} steps): fewer --requests"
        )
    return made_ahead[step]


def _requests(kind: str, state: dict):
    """The app and a function sending the next request of ``kind`` (each call another
    member where a member can do it only once)."""
    tokens, sent = state["tokens"], iter(range(10**9))
    url = state["redeem_url"] if kind in ("redemption", "home") else state["http_url"]
    os.environ.update(TIMEBANK_ENV="production", TIMEBANK_SECRET_KEY=state["secret"],
                      TIMEBANK_SIGNING_KEY=state["signing_key"],
                      TIMEBANK_DATABASE_URL=url, BENCH_DATABASE_URL=url)  # fmt: skip
    if state.get("metrics"):
        os.environ.update(TIMEBANK_METRICS="1", PROMETHEUS_MULTIPROC_DIR=state["metrics"])
    if kind == "plain":
        from bench._plain_app import create_app

        app = create_app()
        return app, lambda: _send(app, "GET", "/read")
    from timebank import create_app

    app = create_app()
    if kind == "readyz":
        # no scheduler runs here: the readiness of the database and the schema
        return app, lambda: _send(app, "GET", "/readyz?exclude=scheduler")
    if kind == "home":
        cookie = _kept_cookie(app, _session_cookie(app, _now(state["redeem"])[-1][0]))
        return app, lambda: _send(app, "GET", "/", cookie=cookie)
    if kind == "balances":
        return app, lambda: _send(
            app, "GET", "/api/v1/me/balances", tokens[next(sent) % min(128, len(tokens))]
        )

    def checkin():
        body = {"token": _now(state["kiosk"])}
        _send(app, "POST", "/api/v1/checkins", tokens[next(sent)], body)

    def redemption():
        n = next(sent)
        member_id, code = _now(state["redeem"])[n]
        body = {"code": code, "offer_id": state["offer_id"], "idempotency_key": f"i{n}"}
        held = json.loads(_send(app, "POST", "/api/v1/redemptions", state["staff"], body))
        _send(app, "POST", f"/api/v1/redemptions/{held['id']}/confirm", state["staff"])

    return app, {"checkin": checkin, "redemption": redemption}[kind]


def _session_cookie(app, member_id: int) -> str:
    """The page session of a member who logged in (as Flask-Login writes it)."""
    from timebank.extensions import db
    from timebank.people.models import Member

    with app.app_context():
        member = db.session.get(Member, member_id)
        data = {"_user_id": member.get_id(), "_fresh": True}
        db.session.remove()
    signed = app.session_interface.get_signing_serializer(app).dumps(data)
    return f"{app.config['SESSION_COOKIE_NAME']}={signed}"


def _kept_cookie(app, cookie: str) -> str:
    """The session cookie a browser holds after its first page: that page writes the CSRF
    secret and the session's identifier into it (a cookie signed again, on every request of
    a client that never kept it)."""
    name = app.config["SESSION_COOKIE_NAME"]
    headers = []
    environ = _environ("GET", "/", None, None) | {"HTTP_COOKIE": cookie}
    b"".join(app(environ, lambda status, sent, exc_info=None: headers.extend(sent)))
    for header, value in headers:
        if header.lower() == "set-cookie" and value.startswith(f"{name}="):
            return value.split(";", 1)[0]
    return cookie


def app_without(hooks: str):
    """timebank's app without the named HOOKS (comma-separated), for gunicorn:
    ``bench/http.py --without`` serves it to price a hook under load."""
    from timebank import create_app

    app = create_app()
    _take_away(app, [hook for hook in hooks.split(",") if hook])
    return app


def _take_away(app, hooks: list[str]) -> None:
    """Run ``app`` without the named HOOKS (for their tax: the difference)."""
    from flask.sessions import SecureCookieSession, SessionInterface

    names = {
        "csrf": "csrf_protect", "check_request": "check_request", "api_auth": "_api_auth",
        "fresh_request_state": "_fresh_request_state",
        "remember_cookie": "_update_remember_cookie", "security_headers": "_security_headers",
    }  # fmt: skip
    unwanted = {names[hook] for hook in hooks if hook in names}
    for funcs in (app.before_request_funcs, app.after_request_funcs):
        for key, hooked in funcs.items():
            funcs[key] = [f for f in hooked if f.__name__ not in unwanted]
    if "request_id" in hooks:
        app.wsgi_app = app.wsgi_app.wsgi_app

    class NoSessions(SessionInterface):
        def open_session(self, app, request):
            return SecureCookieSession()

        def save_session(self, app, session, response):
            pass

    if "session" in hooks:
        app.session_interface = NoSessions()
    if "context_processors" in hooks:
        app.template_context_processors[None] = app.template_context_processors[None][:1]
    if "locale" in hooks:
        app.extensions["babel"].locale_selector = lambda: "zh_CN"
    if "read_phases" in hooks:  # reads join the request's transaction, as on PostgreSQL
        import contextlib

        from timebank.core import uow

        for module in list(sys.modules.values()):
            for name in ("reads_before_writes", "read_phase"):
                if getattr(module, name, None) is getattr(uow, name):
                    setattr(module, name, lambda session=None: contextlib.nullcontext())


def _traced(send, requests: int) -> float:
    """Send ``requests`` and return the SQL statements SQLite ran per request (BEGIN,
    COMMIT, ROLLBACK and PRAGMA apart; a trigger firing is not a statement)."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    ran = []

    def trace(statement: str) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if ran and ran[-1] == statement:
            return  # a trigger firing: sqlite3 reports its statement's text again
        if verb and not statement.lstrip().startswith("--") and verb not in (
            "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE",
        ):  # fmt: skip
            ran.append(statement)

    def checkout(dbapi_connection, record, proxy):
        dbapi_connection.set_trace_callback(trace)

    def checkin(dbapi_connection, record):
        dbapi_connection.set_trace_callback(None)

    event.listen(Pool, "checkout", checkout)
    event.listen(Pool, "checkin", checkin)
    try:
        for _ in range(requests):
            send()
    finally:
        event.remove(Pool, "checkout", checkout)
        event.remove(Pool, "checkin", checkin)
    return len(ran) / requests


def child(args) -> None:
    state = json.loads(Path(args.state).read_text())
    app, send = _requests(args.child, state)
    _take_away(app, [hook for hook in args.without.split(",") if hook])
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"](None)
    traced = min(TRACED, args.warmup)
    for _ in range(args.warmup - traced):
        send()
    statements = _traced(send, traced) if traced else 0.0
    signal = Path(args.signal)
    signal.with_suffix(".statements").write_text(str(statements))
    signal.write_text(str(os.getpid()))
    while not signal.with_suffix(".go").exists():
        time.sleep(0.05)
    for _ in range(args.requests):
        send()


# ---------------------------------------------------------------- report


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.child:
        return child(args)
    kinds = [k for k in args.kinds.split(",") if k]
    if unknown := set(kinds) - set(KINDS):
        raise SystemExit(f"unknown kinds: {', '.join(sorted(unknown))}")
    if unknown := {h for h in args.without.split(",") if h} - set(HOOKS):
        raise SystemExit(f"unknown hooks: {', '.join(sorted(unknown))}")
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: sudo apt-get install -y valgrind")
    workdir = Path(tempfile.mkdtemp(prefix="timebank-instructions-"))
    try:
        state_file = workdir / "state.json"
        state = prepare(workdir, args.warmup + args.requests + 10)
        if args.metrics:
            (workdir / "metrics").mkdir()
            state["metrics"] = str(workdir / "metrics")
        state_file.write_text(json.dumps(state))
        if args.tax:
            return tax(kinds, state_file, args, workdir)
        figures = {}
        for kind in tqdm(kinds, desc="kinds under callgrind", unit="kind"):
            figures[kind] = count(kind, state_file, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\ninstructions per request (callgrind; {args.requests} counted after {args.warmup}"
        " warm-up; SQLite, production settings, gc frozen as in gunicorn"
        + (", metrics on" if args.metrics else "")
        + (f", without {args.without}" if args.without else "")
        + "):"
    )
    for kind, (figure, statements) in figures.items():
        line = f"{LABELS[kind]:<38} {figure / 1e6:>7.2f} M  {statements:>5.1f} SQL"
        for base in ("plain", "readyz"):
            if base in figures and kind not in (base, "plain"):
                line += f"  {figure / figures[base][0]:>5.1f}x {LABELS[base]}"
        print(line)


#: what a request cannot do without a hook: no figure then
NEEDED = {("session", "home"), ("api_auth", "balances"), ("api_auth", "home")} | {
    ("read_phases", kind) for kind in KINDS
}


def tax(kinds: list[str], state_file: Path, args, workdir: Path) -> None:
    """Each hook's price per request: the instructions a run saves without it (reading
    kinds only: a write would find the rows the run before it wrote)."""
    kinds = [k for k in kinds if k in ("readyz", "balances", "home")]
    runs = [("", k) for k in kinds] + [(h, k) for h in HOOKS for k in kinds if (h, k) not in NEEDED]
    figures = {}
    for hook, kind in tqdm(runs, desc="hooks under callgrind", unit="run"):
        figures[hook, kind] = count(kind, state_file, Namespace(**{**vars(args), "without": hook}),
                                    workdir)[0]  # fmt: skip
    print(f"\nthe price of each hook, instructions per request ({args.requests} counted after "
          f"{args.warmup} warm-up; the run without it, less the run with it):")  # fmt: skip
    print(f"{'hook':<22}" + "".join(f"{k:>14}" for k in kinds))
    print(f"{'(all, the request)':<22}" + "".join(f"{figures['', k]:>14,}" for k in kinds))
    for hook in HOOKS:
        cells = [figures["", k] - figures[hook, k] if (hook, k) in figures else None for k in kinds]
        print(
            f"{hook:<22}" + "".join(f"{c:>14,}" if c is not None else f"{'-':>14}" for c in cells)
        )


if __name__ == "__main__":
    main(sys.argv[1:])
