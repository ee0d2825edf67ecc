"""The benchmarks' databases: PostgreSQL's created when missing, its schema wiped; either
one migrated from nothing."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "TIMEBANK_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
)


def reset_postgres(url: str) -> None:
    """Create the database of ``url`` if it does not exist, then drop and re-create its
    ``public`` schema (the benchmark migrates it from nothing)."""
    target = make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def fresh_database(kind: str, workdir: Path, name: str, postgres_url: str = POSTGRES_URL) -> str:
    """An empty, migrated database (``sqlite``: ``<workdir>/<name>.sqlite3``;
    ``postgresql``: ``postgres_url``, wiped); returns its SQLAlchemy URL."""
    from flask_migrate import upgrade

    from timebank import create_app
    from timebank.extensions import db

    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'{name}.sqlite3'}"
    else:
        url = postgres_url
        reset_postgres(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url
