"""Backups and restores of the whole database (``timebank backup`` / ``timebank restore``).

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent
  snapshot page by page while the service keeps running (WAL: readers and the writer go
  on); a restore copies it back the same way into a file that has no tables yet.
- PostgreSQL: a wrapper of ``pg_dump --format=custom`` (one consistent snapshot, taken
  without stopping anyone) and ``pg_restore --single-transaction --exit-on-error`` into an
  empty database. Data is loaded before the append-only triggers are created, so the
  ledger and the audit log come back exactly as they were. The password travels in
  PGPASSWORD, never on the command line. pg_dump must be at least the server's version.

A restore refuses a database that already has tables: it never mixes two ledgers.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why."""


def backup_database(url: str, path: Path) -> str:
    """Write a backup of the database at ``url`` to ``path``; returns what was done."""
    path = Path(path)
    if url.startswith("sqlite"):
        source = _sqlite_file(url)
        if not source.exists():
            raise BackupError(f"{source} does not exist")
        path.unlink(missing_ok=True)
        with _sqlite(source) as origin, _sqlite(path) as copy:
            origin.backup(copy)
        return f"SQLite {source} -> {path} (online backup API)"
    command, env = _pg_command("pg_dump", url)
    command += ["--format=custom", "--no-owner", "--no-privileges", f"--file={path}"]
    _run(command, env)
    return f"PostgreSQL {sa.make_url(url).database} -> {path} (pg_dump --format=custom)"


def restore_database(url: str, path: Path) -> str:
    """Restore the backup at ``path`` into the empty database at ``url``.

    Raises BackupError when the backup is missing or the database has tables already.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a backup file")
    tables = _tables(url)
    if tables:
        raise BackupError(
            f"the database has {len(tables)} tables already ({', '.join(sorted(tables)[:3])}, "
            "...): restore only into an empty database"
        )
    if url.startswith("sqlite"):
        target = _sqlite_file(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _sqlite(path) as origin, _sqlite(target) as copy:
            origin.backup(copy)
        return f"{path} -> SQLite {target}"
    command, env = _pg_command("pg_restore", url)
    command += ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                str(path)]  # fmt: skip
    _run(command, env)
    return f"{path} -> PostgreSQL {sa.make_url(url).database}"


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> Path:
    return Path(sa.make_url(url).database)


class _sqlite:
    def __init__(self, path: Path):
        self.connection = sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()


def pg_tool(name: str) -> str:
    """Path of pg_dump or pg_restore: on PATH, else the newest of Debian's."""
    found = shutil.which(name) or max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), default=None)
    if found is None:
        raise BackupError(f"{name} is missing: apt-get install postgresql-client")
    return found


def _pg_command(tool: str, url: str) -> tuple[list[str], dict]:
    parsed = sa.make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    target = parsed.set(drivername="postgresql", password=None)
    return [pg_tool(tool), f"--dbname={target.render_as_string(hide_password=False)}"], env


def _run(command: list[str], env: dict) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")
