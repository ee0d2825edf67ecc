"""Throttles shared through Redis (issue 12, hole 5): with TIMEBANK_RATELIMIT_STORAGE_URL
pointing at one Redis, wrong passwords tried on one worker count on every other.

Needs the Redis server on 127.0.0.1:6379 (here and in CI). Without it the test is skipped
with the reason, unless TIMEBANK_REQUIRE_E2E=1 (as in CI): then it fails.
"""

from __future__ import annotations

import os

import pytest

from timebank import create_app
from timebank.extensions import db

REDIS_URL = os.environ.get("TIMEBANK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRED = os.environ.get("TIMEBANK_REQUIRE_E2E") == "1"


@pytest.fixture
def redis_db():
    """Database 15 of the test Redis, empty at the start and at the end."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.exceptions.RedisError as error:
        reason = f"Redis at {REDIS_URL} is not reachable ({error}): start redis-server"
        if REQUIRED:
            pytest.fail(reason + " (TIMEBANK_REQUIRE_E2E=1 makes this test required)")
        pytest.skip(reason)
    yield client
    client.flushdb()
    client.close()


def _worker(database_url: str):
    """One more web worker: its own app on the same database, configured from the
    environment as gunicorn's would be."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
        }
    )


def test_wrong_passwords_on_one_worker_count_on_another_through_redis(
    app, database_url, district, make_member, redis_db, monkeypatch
):
    member = make_member(district["a"])
    db.session.commit()
    wrong = {"phone": member.phone, "password": "not-the-password"}
    monkeypatch.setenv("TIMEBANK_RATELIMIT_STORAGE_URL", REDIS_URL)
    worker_a = _worker(database_url)
    assert worker_a.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    with worker_a.test_client() as client_a:
        answers = [client_a.post("/api/v1/auth/token", json=wrong).status_code for _ in range(5)]
    assert answers == [401] * 5
    assert redis_db.dbsize() > 0, "the attempts were not counted in Redis"
    # a second worker starts (its limiter connects afresh): it sees A's five failures
    worker_b = _worker(database_url)
    with worker_b.test_client() as client_b:
        refused = client_b.post(
            "/api/v1/auth/token", json={"phone": member.phone, "password": "still-wrong"}
        )
    assert refused.status_code == 429, refused.get_json()
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 60
    # the control: a worker counting in its own memory has seen none of them
    monkeypatch.setenv("TIMEBANK_RATELIMIT_STORAGE_URL", "memory://")
    worker_c = _worker(database_url)
    with worker_c.test_client() as client_c:
        alone = client_c.post("/api/v1/auth/token", json=wrong)
    assert alone.status_code == 401
