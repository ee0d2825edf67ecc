"""The benchmarks' PostgreSQL database: created when missing, its schema wiped."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import make_url


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
