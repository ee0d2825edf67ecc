"""Production and scale (issue 25): health, the request id, structured logs, metrics, the
refusal of per-process throttles under several workers, and 503 (never 500) when the
database is down or a lock cannot be had in time."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES, TEST_CONFIG
from timebank import create_app
from timebank.config import engine_options, serving_problem
from timebank.core.audit import AuditEvent
from timebank.core.clock import utcnow
from timebank.core.logs import configure_logging, formatter
from timebank.core.request_id import bound_request_id
from timebank.extensions import db
from timebank.jobs import JOBS
from timebank.ledger import operations as ledger
from timebank.scheduling import operations as scheduling


def _earn(member, unit, minutes: int, n: int = 1) -> None:
    ledger.credit_from_evidence(
        member_id=member.id, member_unit_id=member.home_unit_id, unit_id=unit.id,
        minutes=minutes, points=0, code="earn_checkin", reference_type="attendance",
        reference_id=str(n), idempotency_key=f"attendance:{n}", actor_id=None,
    )  # fmt: skip
    db.session.commit()


def _donation(recipient, key: str = "gift-1") -> dict:
    return {"kind": "donate", "amount": 30, "recipient_id": recipient.id, "idempotency_key": key}


# ---------------------------------------------------------------- health


def test_livez_answers_without_asking_the_database(tmp_path):
    # a folder is no database file: every query fails, the process still lives
    broken = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}", **TEST_CONFIG})
    client = broken.test_client()
    live = client.get("/livez")
    assert live.status_code == 200 and live.json == {"live": True}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json == {
        "ready": False, "database": False, "migrations_at_head": False, "scheduler": False,
    }  # fmt: skip


@pytest.mark.concurrent  # /readyz reads on a connection of its own
def test_readyz_wants_a_scheduler_leader_seen_recently(app, client, clock):
    assert client.get("/readyz").json["scheduler"] is False
    assert client.get("/readyz").status_code == 503
    assert client.get("/readyz?exclude=scheduler").status_code == 200
    scheduling.claim_lease(scheduling.LEADER, "scheduler@a", now=utcnow(), seconds=60)
    db.session.commit()
    assert client.get("/readyz").json == {
        "ready": True, "database": True, "migrations_at_head": True, "scheduler": True,
    }  # fmt: skip
    clock.advance(timedelta(seconds=125))  # two leases without a renewal: the leader is gone
    assert client.get("/readyz").json["scheduler"] is False


# ---------------------------------------------------------------- the request id


def test_every_answer_carries_a_request_id_and_keeps_a_well_formed_one(client):
    made = client.get("/livez").headers["X-Request-Id"]
    assert len(made) == 16
    assert client.get("/livez").headers["X-Request-Id"] != made
    kept = client.get("/livez", headers={"X-Request-Id": "lb-7f3a.retry-2"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a.retry-2"
    hostile = client.get("/livez", headers={"X-Request-Id": 'x" <script>' + "a" * 80})
    assert len(hostile.headers["X-Request-Id"]) == 16


def test_audit_rows_and_job_runs_keep_the_request_id(app, client, district, make_member, token_for):
    admin = make_member(district["street"], roles=("admin",))
    answer = client.post(
        "/api/v1/ledger/verify", headers={**token_for(admin), "X-Request-Id": "req-audit-1"}
    )
    assert answer.status_code == 200, answer.json
    row = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "ledger.verify"))
    assert row.request_id == "req-audit-1"
    job = scheduling.find_job(JOBS, "verify-ledger")
    (run,) = scheduling.run_job(job, now=utcnow(), trigger="manual", runner="test")
    assert run.request_id.startswith("job-")
    audited = db.session.scalars(
        sa.select(AuditEvent.request_id).where(AuditEvent.action == "ledger.verify")
    ).all()
    assert run.request_id in audited


def test_log_lines_are_json_with_the_request_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("timebank.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with bound_request_id("job-abc"):
            logger.info("closed %s check-outs", 3)
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["event"] == "closed 3 check-outs" and first["request_id"] == "job-abc"
    assert first["level"] == "info" and first["logger"] == "timebank.test_logs"
    assert "timestamp" in first and "request_id" not in second


def test_configuring_logs_twice_keeps_one_handler():
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging("json")
        configure_logging("text")
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)


# ---------------------------------------------------------------- serving


def test_production_refuses_several_workers_with_per_process_throttles():
    refuse = {"env": "production", "workers": 5, "throttle_storage": "memory://"}
    assert "TIMEBANK_RATELIMIT_STORAGE_URL" in serving_problem(**refuse, allowed=False)
    assert serving_problem(**refuse, allowed=True) is None
    assert serving_problem(**{**refuse, "workers": 1}, allowed=False) is None
    assert serving_problem(**{**refuse, "env": "development"}, allowed=False) is None
    redis = {**refuse, "throttle_storage": "redis://127.0.0.1:6379/0"}
    assert serving_problem(**redis, allowed=False) is None


def test_gunicorn_refuses_to_start_that_way(project_root, tmp_path):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin", "TIMEBANK_ENV": "production",
        "TIMEBANK_SECRET_KEY": "a-real-secret-for-this-test-only-123",
        "TIMEBANK_SIGNING_KEY": "YmVuY2gtb25seS1zaWduaW5nLWtleS0wMTIzNDU2Nzg=",
        "TIMEBANK_DATABASE_URL": f"sqlite:///{tmp_path}/refused.sqlite3",
        "TIMEBANK_WORKERS": "3", "TIMEBANK_BIND": "127.0.0.1:0",
    }  # fmt: skip
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        "timebank:create_app()",
    ]
    done = subprocess.run(gunicorn, cwd=project_root, env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 3, done.stderr[-2000:]
    assert "refusing to start: 3 workers" in done.stderr


def test_the_pool_fits_and_pgbouncer_prepares_nothing():
    url = "postgresql+psycopg://timebank@db:5432/timebank"
    base = {"SQLALCHEMY_DATABASE_URI": url, "TIMEBANK_DB_POOL_SIZE": 2,
            "TIMEBANK_DB_MAX_OVERFLOW": 3, "TIMEBANK_DB_LOCK_TIMEOUT_MS": 5000}  # fmt: skip
    direct = engine_options(base)
    assert direct["pool_size"] == 2 and direct["max_overflow"] == 3
    assert direct["connect_args"]["options"] == "-c lock_timeout=5000"
    assert "prepare_threshold" not in direct["connect_args"]
    bouncer = engine_options({**base, "TIMEBANK_PGBOUNCER": True})
    assert bouncer["connect_args"]["prepare_threshold"] is None
    # PgBouncer 1.18 refuses the startup option: its connect_query sets lock_timeout
    assert "options" not in bouncer["connect_args"]
    assert engine_options({"SQLALCHEMY_DATABASE_URI": "sqlite:///x"}) == {"pool_pre_ping": False}


# ---------------------------------------------------------------- 503, never 500


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://postgres@127.0.0.1:9/nowhere", "sqlite:///{tmp}"],
    ids=["postgresql-refused", "sqlite-unopenable"],
)
def test_an_unreachable_database_answers_503_with_retry_after(url, tmp_path):
    down = create_app({"SQLALCHEMY_DATABASE_URI": url.format(tmp=tmp_path), **TEST_CONFIG})
    client = down.test_client()
    answer = client.get("/api/v1/me/balances", headers={"Authorization": "Bearer abc"})
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert answer.json["code"] == "database_unavailable"
    assert int(answer.headers["Retry-After"]) >= 1
    page = client.post("/login", data={"phone": "13900000001", "password": "whatever-1"})
    assert page.status_code == 503 and "Retry-After" in page.headers


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's busy timeout")
def test_a_sqlite_busy_timeout_answers_503_busy(app, client, district, make_member, token_for):
    alice = make_member(district["building_a"])
    bob = make_member(district["building_b"])
    _earn(alice, district["a"], minutes=120)
    headers = token_for(alice)
    app.config["TIMEBANK_SQLITE_BUSY_TIMEOUT_MS"] = 50
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        answer = client.post("/api/v1/transfers", json=_donation(bob), headers=headers)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert answer.status_code == 503, answer.json
    assert answer.json["code"] == "busy" and answer.headers["Retry-After"] == "1"
    assert ledger.balances(bob.id)["HOURS"]["balance"] == 0  # nothing was written
    retried = client.post("/api/v1/transfers", json=_donation(bob), headers=headers)
    assert retried.status_code == 201, retried.json  # the same key, once the lock is free
    assert ledger.balances(bob.id)["HOURS"]["balance"] == 30


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's lock_timeout")
@pytest.mark.concurrent
def test_a_postgresql_lock_timeout_answers_503_busy(app, database_url, district, make_member):
    alice = make_member(district["building_a"])
    bob = make_member(district["building_b"])
    _earn(alice, district["a"], minutes=120)
    from timebank.people import operations as people

    token, _ = people.issue_token(alice)
    db.session.commit()
    account_id = ledger.member_account(alice.id, "HOURS", unit_id=alice.home_unit_id).id
    short = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "TIMEBANK_DB_LOCK_TIMEOUT_MS": 200, **TEST_CONFIG}
    )
    holder = sa.create_engine(database_url)
    locked, release = threading.Event(), threading.Event()

    def hold_the_account():
        with holder.begin() as conn:
            conn.execute(sa.text("SELECT id FROM accounts WHERE id = :id FOR UPDATE"),
                         {"id": account_id})  # fmt: skip
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=hold_the_account)
    thread.start()
    try:
        assert locked.wait(10)
        with short.app_context():
            answer = short.test_client().post(
                "/api/v1/transfers", json=_donation(bob),
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
            assert answer.status_code == 503, answer.json
            assert answer.json["code"] == "busy" and answer.headers["Retry-After"] == "1"
            db.engine.dispose()
    finally:
        release.set()
        thread.join()
        holder.dispose()
    assert ledger.balances(bob.id)["HOURS"]["balance"] == 0


# ---------------------------------------------------------------- metrics


def _sample(name: str, **labels) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_requests_transfers_checkins_jobs_and_refusals(
    database_url, activity_scene, make_member, token_for
):
    from timebank.activities import operations as activities

    volunteer, activity = activity_scene["volunteer"], activity_scene["activity"]
    _earn(volunteer, activity_scene["a"], minutes=120)
    friend = make_member(activity_scene["building_b"])
    headers = token_for(volunteer)
    kiosk = activities.current_code(activity)["token"]
    assert (
        create_app(TEST_CONFIG | {"SQLALCHEMY_DATABASE_URI": database_url})
        .test_client()
        .get("/metrics")
        .status_code
        == 404
    )  # off by default
    counted = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "TIMEBANK_METRICS": True, **TEST_CONFIG}
    )
    before = {
        "donate": _sample("timebank_transfers_total", code="donate"),
        "in": _sample("timebank_checkins_total", scan="in"),
        "job": _sample("timebank_job_runs_total", job="verify-ledger", outcome="ok"),
        "limited": _sample("timebank_rate_limited_total", throttle="login.phone"),
        "requests": _sample("timebank_http_requests_total",
                            endpoint="ledger_api.Transfers", method="POST", status="201"),
    }  # fmt: skip
    with counted.app_context():
        client = counted.test_client()
        assert (
            client.post("/api/v1/transfers", json=_donation(friend), headers=headers).status_code
            == 201
        )
        assert (
            client.post("/api/v1/checkins", json={"token": kiosk}, headers=headers).status_code
            == 201
        )
        wrong = {"phone": friend.phone, "password": "not-the-password"}
        statuses = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(7)]
        assert statuses[-1] == 429
        scheduling.run_job(scheduling.find_job(JOBS, "verify-ledger"), now=utcnow(),
                           trigger="manual", runner="test")  # fmt: skip
        exposed = client.get("/metrics")
        db.engine.dispose()
    assert exposed.status_code == 200
    assert "timebank_http_request_duration_seconds_bucket" in exposed.get_data(as_text=True)
    assert _sample("timebank_transfers_total", code="donate") == before["donate"] + 1
    assert _sample("timebank_checkins_total", scan="in") == before["in"] + 1
    assert (
        _sample("timebank_job_runs_total", job="verify-ledger", outcome="ok") == before["job"] + 1
    )
    assert _sample("timebank_rate_limited_total", throttle="login.phone") >= before["limited"] + 1
    assert _sample("timebank_http_requests_total", endpoint="ledger_api.Transfers", method="POST",
                   status="201") == before["requests"] + 1  # fmt: skip
