"""bench/load.py's machinery: a PostgreSQL cluster of its own, and CPU per process group."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def pg_bin(name: str) -> str:
    """A server binary of Debian's newest PostgreSQL (initdb, pg_ctl, postgres)."""
    found = max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), default=None)
    if found is None:
        raise SystemExit(f"{name} is missing: apt-get install postgresql")
    return found


class PostgresCluster:
    """A throwaway cluster (``initdb`` into ``folder``) on ``port``, never the shared one:
    the load test stops and starts it. As root, it runs as the ``postgres`` user."""

    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.data = folder / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.as_postgres, *command], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{Path(command[0]).name} failed: {done.stderr.strip()[-1500:]}")

    def create(self) -> None:
        self.folder.mkdir(parents=True)
        if self.as_postgres:  # the postgres user must reach its folder
            self.folder.parent.chmod(0o755)
            shutil.chown(self.folder, "postgres")
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8")  # fmt: skip
        settings = {
            "port": self.port, "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.folder}'", "max_connections": 100,
            "shared_buffers": "'256MB'", "shared_preload_libraries": "'pg_stat_statements'",
            "pg_stat_statements.track": "'top'",
        }  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        self.start()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc",
             "CREATE DATABASE load", "-c", "SELECT 1"], check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "load",
             "-qc", "CREATE EXTENSION pg_stat_statements"], check=True, capture_output=True,
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def destroy(self, keep: bool = False) -> None:
        if self.postmaster_pid() is not None:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop()
        if not keep:
            shutil.rmtree(self.folder, ignore_errors=True)


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICKS


class CpuMeter:
    """CPU seconds of each group (instances, schedulers, PostgreSQL, Redis, wrk), sampled
    every second: a root's own time with its reaped children's, plus its live children.
    A group killed meanwhile keeps what it had used."""

    def __init__(self, deployment: dict, cluster: PostgresCluster):
        self.deployment, self.cluster = deployment, cluster
        self.used: dict[tuple[str, int], float] = {}
        self.first: dict[tuple[str, int], float] = {}
        self.wrk: list = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def add_wrk(self, processes: list) -> None:
        self.wrk = processes

    def roots(self) -> dict[str, list[int]]:
        d = self.deployment
        redis = [int(p) for p in subprocess.run(["pgrep", "-x", "redis-server"],
                 capture_output=True, text=True).stdout.split()]  # fmt: skip
        return {
            "instances": [p.pid for p in d["instances"]],
            "schedulers": [p.pid for p in d["schedulers"]],
            "postgresql": [pid] if (pid := self.cluster.postmaster_pid()) else [],
            "redis": redis,
            "wrk": [p.pid for p in self.wrk],
        }

    def sample(self) -> None:
        children: dict[int, list[int]] = {}
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (stat := _stat(int(entry))) is not None:
                stats[int(entry)] = stat
                children.setdefault(stat[0], []).append(int(entry))
        for group, roots in self.roots().items():
            for root in roots:
                if root not in stats:
                    continue
                total = stats[root][1] + sum(
                    stats[c][1] for c in self._descendants(root, children) if c in stats
                )
                key = (group, root)
                self.first.setdefault(key, total)
                self.used[key] = max(self.used.get(key, 0.0), total)

    @staticmethod
    def _descendants(root: int, children: dict[int, list[int]]) -> list[int]:
        found, todo = [], list(children.get(root, ()))
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, ()))
        return found

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def start(self) -> None:
        self.started = time.monotonic()
        self.sample()
        self.thread.start()

    def stop(self) -> dict[str, float]:
        self.sample()
        self._stop.set()
        wall = time.monotonic() - self.started
        shares: dict[str, float] = {}
        for (group, root), total in self.used.items():
            shares[group] = shares.get(group, 0.0) + (total - self.first[(group, root)])
        return {group: 100 * seconds / wall for group, seconds in shares.items()}
