"""Configuration read from TIMEBANK_* environment variables, with safe defaults.

Every setting the service reads is listed in ``SETTINGS`` so the README and the
startup check stay in step with the code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "timebank.sqlite3"
DEV_SECRET_KEY = "dev-only-insecure-secret-key"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("TIMEBANK_ENV", "production", "production, development or testing"),
    Setting(
        "TIMEBANK_DATABASE_URL",
        f"sqlite:///{DEFAULT_SQLITE_PATH}",
        "SQLAlchemy URL; PostgreSQL: postgresql+psycopg://user@host:5432/db",
    ),
    Setting(
        "TIMEBANK_SECRET_KEY", "", "signs sessions, CSRF and QR tokens; required in production"
    ),
    Setting("TIMEBANK_DEFAULT_LOCALE", "zh_CN", "zh_CN or en"),
    Setting("TIMEBANK_TIMEZONE", "Asia/Shanghai", "the deployment's local time zone"),
    Setting(
        "TIMEBANK_BASE_URL",
        "",
        "public URL in QR codes, join links and SMS; empty: the address each request came to",
    ),
    Setting(
        "TIMEBANK_PROXY_FIX",
        "0",
        "how many proxies (nginx, a load balancer) stand in front: trust their X-Forwarded-*",
    ),
    Setting("TIMEBANK_TOKEN_TTL_HOURS", "720", "lifetime of API bearer tokens"),
    Setting(
        "TIMEBANK_SMS_ADAPTER", "log", "log (writes codes to the log) or module:Class of a gateway"
    ),
    Setting("TIMEBANK_OTP_TTL_MINUTES", "10", "lifetime of a phone verification code"),
    Setting("TIMEBANK_POINTS_EXPIRY_DAYS", "0", "days a POINTS lot stays valid; 0 never expires"),
    Setting(
        "TIMEBANK_HOURS_CAP_MINUTES",
        "0",
        "donated HOURS above this balance go to the community pool; 0 means no cap",
    ),
    Setting(
        "TIMEBANK_RATELIMIT_STORAGE_URL",
        "memory://",
        "where throttles count attempts: memory:// (one process) or redis://host:6379/0 (shared)",
    ),
    Setting("TIMEBANK_SQLITE_BUSY_TIMEOUT_MS", "10000", "how long SQLite waits for the write lock"),
    Setting("TIMEBANK_HOUR_ROUNDING_MINUTES", "15", "service time is rounded down to this unit"),
    Setting(
        "TIMEBANK_ACTIVITY_CATEGORIES",
        "patrol,mediation,free_clinic,free_haircut,errands,elderly_meals,counselling,"
        "after_school,cleanup,party_day,party_lesson,other",
        "comma-separated activity category codes offered to organizers",
    ),
    Setting(
        "TIMEBANK_PHOTO_DIR",
        "",
        "folder of hour-log photos; empty: <project>/instance/photos (never served from elsewhere)",
    ),
    Setting("TIMEBANK_PHOTO_MAX_BYTES", "3145728", "largest hour-log photo accepted, in bytes"),
    Setting(
        "TIMEBANK_WISH_POINTS_PER_HOUR", "10", "points per hour of approved service on a small wish"
    ),
    # the scheduler (`timebank scheduler`) and its job table (timebank/jobs.py): each job's
    # schedule is TIMEBANK_JOB_<NAME>, "every 5m" (s, m, h), a crontab in local time, or off
    Setting("TIMEBANK_SCHEDULER_LEASE_SECONDS", "60", "a dead leader's jobs move on after this"),
    Setting("TIMEBANK_SCHEDULER_RENEW_SECONDS", "15", "how often the leader renews its lease"),
    Setting("TIMEBANK_SCHEDULER_MISFIRE_GRACE_SECONDS", "300", "a run this late still runs"),
    Setting("TIMEBANK_JOB_CLOSE_CHECKOUTS", "every 5m", "close check-outs at the window end"),
    Setting("TIMEBANK_JOB_RELEASE_HOLDS", "every 1m", "release holds past their timeout"),
    Setting("TIMEBANK_JOB_EXPIRE_POINTS", "30 0 * * *", "expire points, once a day"),
    Setting("TIMEBANK_JOB_VERIFY_LEDGER", "0 3 * * *", "verify the ledger and checkpoint it"),
    Setting("TIMEBANK_JOB_MERCHANT_STATEMENTS", "0 2 1 * *", "merchants' statements, monthly"),
    Setting("TIMEBANK_JOB_REMIND_ACTIVITIES", "every 5m", "the day and hour before; cancelled"),
    Setting("TIMEBANK_JOB_REMIND_PARTY", "0 9 * * *", "party members not served this quarter"),
    Setting("TIMEBANK_JOB_REMIND_APPROVALS", "0 9 * * *", "organizers with approvals waiting"),
    Setting(
        "TIMEBANK_PARTY_REMINDER_DAYS",
        "30",
        "party members who have not served are reminded in the quarter's last this many days",
    ),
    Setting("TIMEBANK_APPROVAL_REMINDER_DAYS", "2", "organizers hear of approvals this old"),
    Setting(
        "TIMEBANK_NOTIFY_CHANNELS",
        "log",
        "comma-separated: log, sms (the SMS adapter), or module:Class of a WeChat gateway",
    ),
    Setting(
        "TIMEBANK_POINT_VALUE_FEN",
        "10",
        "what one redeemed point is worth to a merchant, in fen (分): the rate of settlement",
    ),
    Setting(
        "TIMEBANK_REDEMPTION_HOLD_SECONDS",
        "120",
        "an unconfirmed redemption's hold lapses after this and releases the points",
    ),
    Setting("TIMEBANK_REFUND_DAYS", "7", "days after a redemption its merchant may refund it"),
    Setting(
        "TIMEBANK_SIGNING_KEY",
        "",
        "Ed25519 seed (base64) signing certificates and checkpoints; required in production",
    ),
    Setting(
        "TIMEBANK_SIGNING_NAME",
        "",
        "the name the key signs under; empty: the host of TIMEBANK_BASE_URL, else timebank",
    ),
    Setting(
        "TIMEBANK_PARTY_QUARTER_ACTIVITIES",
        "1",
        "party activities a party member attends each quarter (the dual report's duty)",
    ),
    Setting(
        "TIMEBANK_PARTY_QUARTER_MINUTES",
        "120",
        "minutes of approved service a party member gives each quarter (activities, projects)",
    ),
    Setting("TIMEBANK_JOB_REPORT_FLOWS", "every 1m", "copy new transfers for the roll-ups"),
    Setting("TIMEBANK_JOB_APPEND_LOG", "every 1m", "append final entries to the transparency log"),
    Setting("TIMEBANK_JOB_SIGN_CHECKPOINTS", "5 * * * *", "sign the transparency logs that grew"),
    # production and scale (gunicorn.conf.py reads the serving ones; docs/scaling.md)
    Setting("TIMEBANK_WORKERS", "", "gunicorn workers; empty: 2 x cores + 1"),
    Setting("TIMEBANK_BIND", "127.0.0.1:8000", "where gunicorn listens (make prod)"),
    Setting("TIMEBANK_TIMEOUT_SECONDS", "30", "gunicorn kills a worker silent this long"),
    Setting("TIMEBANK_MAX_REQUESTS", "2000", "a worker is replaced after about this many"),
    Setting("TIMEBANK_ACCESS_LOG", "-", "gunicorn's JSON access log: - (stdout), a file, or off"),
    Setting("TIMEBANK_LOG_FORMAT", "json", "json (one JSON object a line) or text"),
    Setting("TIMEBANK_METRICS", "0", "1: Prometheus metrics at /metrics (multiprocess)"),
    Setting("TIMEBANK_DB_POOL_SIZE", "2", "connections each process keeps (PostgreSQL)"),
    Setting("TIMEBANK_DB_MAX_OVERFLOW", "3", "connections a process may open beyond its pool"),
    Setting("TIMEBANK_DB_LOCK_TIMEOUT_MS", "5000", "PostgreSQL lock_timeout: then 503 busy"),
    Setting("TIMEBANK_PGBOUNCER", "0", "1: behind PgBouncer in transaction mode"),
    Setting(
        "TIMEBANK_ALLOW_PROCESS_THROTTLES",
        "0",
        "1: production may run several workers with memory:// throttles (each counts alone)",
    ),
)


def _env(name: str) -> str:
    default = next(s.default for s in SETTINGS if s.name == name)
    return os.environ.get(name, default)


class ConfigError(RuntimeError):
    """The environment does not describe a safe, runnable configuration."""


def _throttle_storage(url: str) -> str:
    """memory:// is the process's own storage without a thread per count (core/throttle.py)."""
    return "timebank-memory://" if url.startswith("memory://") else url


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config dict from the environment, then apply overrides.

    Raises ConfigError when a production deployment has no real secret key.
    """
    env = _env("TIMEBANK_ENV")
    if env not in ("production", "development", "testing"):
        raise ConfigError(f"TIMEBANK_ENV must be production, development or testing, not {env!r}")
    secret = _env("TIMEBANK_SECRET_KEY")
    if env != "production" and not secret:
        secret = DEV_SECRET_KEY
    config = {
        "TIMEBANK_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": _env("TIMEBANK_DATABASE_URL"),
        "BABEL_DEFAULT_LOCALE": _env("TIMEBANK_DEFAULT_LOCALE"),
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEBANK_TIMEZONE"),
        "TIMEBANK_TIMEZONE": _env("TIMEBANK_TIMEZONE"),
        "TIMEBANK_BASE_URL": _env("TIMEBANK_BASE_URL").rstrip("/"),
        "TIMEBANK_PROXY_FIX": int(_env("TIMEBANK_PROXY_FIX")),
        "TIMEBANK_TOKEN_TTL_HOURS": int(_env("TIMEBANK_TOKEN_TTL_HOURS")),
        "TIMEBANK_SMS_ADAPTER": _env("TIMEBANK_SMS_ADAPTER"),
        "TIMEBANK_OTP_TTL_MINUTES": int(_env("TIMEBANK_OTP_TTL_MINUTES")),
        "TIMEBANK_SQLITE_BUSY_TIMEOUT_MS": int(_env("TIMEBANK_SQLITE_BUSY_TIMEOUT_MS")),
        "TIMEBANK_POINTS_EXPIRY_DAYS": int(_env("TIMEBANK_POINTS_EXPIRY_DAYS")),
        "TIMEBANK_HOURS_CAP_MINUTES": int(_env("TIMEBANK_HOURS_CAP_MINUTES")),
        "TIMEBANK_HOUR_ROUNDING_MINUTES": int(_env("TIMEBANK_HOUR_ROUNDING_MINUTES")),
        "TIMEBANK_PHOTO_DIR": _env("TIMEBANK_PHOTO_DIR")
        or str(PROJECT_ROOT / "instance" / "photos"),
        "TIMEBANK_PHOTO_MAX_BYTES": int(_env("TIMEBANK_PHOTO_MAX_BYTES")),
        "TIMEBANK_WISH_POINTS_PER_HOUR": int(_env("TIMEBANK_WISH_POINTS_PER_HOUR")),
        "TIMEBANK_SCHEDULER_LEASE_SECONDS": float(_env("TIMEBANK_SCHEDULER_LEASE_SECONDS")),
        "TIMEBANK_SCHEDULER_RENEW_SECONDS": float(_env("TIMEBANK_SCHEDULER_RENEW_SECONDS")),
        "TIMEBANK_SCHEDULER_MISFIRE_GRACE_SECONDS": int(
            _env("TIMEBANK_SCHEDULER_MISFIRE_GRACE_SECONDS")
        ),
        **{s.name: _env(s.name).strip() for s in SETTINGS if s.name.startswith("TIMEBANK_JOB_")},
        "TIMEBANK_PARTY_REMINDER_DAYS": int(_env("TIMEBANK_PARTY_REMINDER_DAYS")),
        "TIMEBANK_APPROVAL_REMINDER_DAYS": int(_env("TIMEBANK_APPROVAL_REMINDER_DAYS")),
        "TIMEBANK_NOTIFY_CHANNELS": _env("TIMEBANK_NOTIFY_CHANNELS"),
        "TIMEBANK_POINT_VALUE_FEN": int(_env("TIMEBANK_POINT_VALUE_FEN")),
        "TIMEBANK_REDEMPTION_HOLD_SECONDS": int(_env("TIMEBANK_REDEMPTION_HOLD_SECONDS")),
        "TIMEBANK_REFUND_DAYS": int(_env("TIMEBANK_REFUND_DAYS")),
        "TIMEBANK_SIGNING_KEY": _env("TIMEBANK_SIGNING_KEY").strip(),
        "TIMEBANK_SIGNING_NAME": _env("TIMEBANK_SIGNING_NAME").strip(),
        "TIMEBANK_LOG_FORMAT": _env("TIMEBANK_LOG_FORMAT").strip().lower(),
        "TIMEBANK_METRICS": _env("TIMEBANK_METRICS").strip() == "1",
        "TIMEBANK_DB_POOL_SIZE": int(_env("TIMEBANK_DB_POOL_SIZE")),
        "TIMEBANK_DB_MAX_OVERFLOW": int(_env("TIMEBANK_DB_MAX_OVERFLOW")),
        "TIMEBANK_DB_LOCK_TIMEOUT_MS": int(_env("TIMEBANK_DB_LOCK_TIMEOUT_MS")),
        "TIMEBANK_PGBOUNCER": _env("TIMEBANK_PGBOUNCER").strip() == "1",
        "TIMEBANK_ACTIVITY_CATEGORIES": tuple(
            c.strip() for c in _env("TIMEBANK_ACTIVITY_CATEGORIES").split(",") if c.strip()
        ),
        **_extensions_config(env),
        "TIMEBANK_PARTY_QUARTER_ACTIVITIES": int(_env("TIMEBANK_PARTY_QUARTER_ACTIVITIES")),
        "TIMEBANK_PARTY_QUARTER_MINUTES": int(_env("TIMEBANK_PARTY_QUARTER_MINUTES")),
    }
    if overrides:
        config.update(overrides)
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(config))
    check_config(config)
    return config


def _extensions_config(env: str) -> dict:
    """What Flask and its extensions read: OpenAPI, CSRF, throttles, cookies, body size."""
    return {
        # flask-smorest / OpenAPI
        "API_TITLE": "timebank",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui-dist-5.35.0/",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": _throttle_storage(_env("TIMEBANK_RATELIMIT_STORAGE_URL")),
        "RATELIMIT_STRATEGY": "moving-window",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # the session cookie travels over HTTPS only, unless on one's own machine
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    }


def engine_options(config: dict) -> dict:
    """SQLAlchemy's engine options for the configured database.

    A server may have dropped a pooled connection (a restart, a failover): each is tested
    before use; a SQLite file has no server, and the test would only cost each request.
    On PostgreSQL each process keeps TIMEBANK_DB_POOL_SIZE connections and opens at most
    TIMEBANK_DB_MAX_OVERFLOW more (docs/scaling.md: workers x (pool + overflow) must fit
    ``max_connections``), waits 5 s for one, and a lock it cannot have within
    TIMEBANK_DB_LOCK_TIMEOUT_MS fails the request with 503 instead of queueing it.
    Behind PgBouncer in transaction mode psycopg prepares nothing (PgBouncer 1.18 cannot
    route prepared statements) and the lock timeout is PgBouncer's ``connect_query``.
    """
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return {"pool_pre_ping": False}
    connect_args: dict = {"connect_timeout": 5}
    if config.get("TIMEBANK_PGBOUNCER"):
        connect_args["prepare_threshold"] = None
    elif config.get("TIMEBANK_DB_LOCK_TIMEOUT_MS"):
        connect_args["options"] = f"-c lock_timeout={int(config['TIMEBANK_DB_LOCK_TIMEOUT_MS'])}"
    return {
        "pool_pre_ping": True,
        "pool_size": config.get("TIMEBANK_DB_POOL_SIZE", 2),
        "max_overflow": config.get("TIMEBANK_DB_MAX_OVERFLOW", 3),
        "pool_timeout": 5,
        "connect_args": connect_args,
    }


def serving_problem(*, env: str, workers: int, throttle_storage: str, allowed: bool) -> str | None:
    """Why production must not start this way, or None: several workers counting throttles
    each in its own memory let a hostile client through several times the limit."""
    if env != "production" or workers <= 1 or allowed:
        return None
    if not throttle_storage.startswith("memory://"):
        return None
    return (
        f"{workers} workers would each count login tries, SMS codes and redeem guesses in their "
        "own memory (TIMEBANK_RATELIMIT_STORAGE_URL=memory://), letting a client through "
        f"{workers} times the limits. Set TIMEBANK_RATELIMIT_STORAGE_URL=redis://host:6379/0, "
        "or run one worker, or set TIMEBANK_ALLOW_PROCESS_THROTTLES=1 to accept it."
    )


def check_config(config: dict) -> None:
    """Refuse to run a production deployment with a default or empty secret key, or
    without a well-formed signing key."""
    from timebank.core.signing import SigningKeyError, load_signing_key

    if config["TIMEBANK_ENV"] == "production" and config["SECRET_KEY"] in ("", DEV_SECRET_KEY):
        raise ConfigError(
            "TIMEBANK_SECRET_KEY is not set. Production refuses to start with a default or empty "
            "secret key. Set one, for example:\n"
            "  export TIMEBANK_SECRET_KEY=\"$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')\"\n"
            "or run with TIMEBANK_ENV=development on your own machine."
        )
    if config["TIMEBANK_ENV"] == "production" or config.get("TIMEBANK_SIGNING_KEY"):
        try:
            load_signing_key(config)
        except SigningKeyError as error:
            raise ConfigError(str(error)) from None
