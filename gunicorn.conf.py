"""gunicorn's settings for timebank. gunicorn reads this file from the directory it starts
in (the README's commands start in the project's root), or from ``--config``.

Everything comes from TIMEBANK_* variables (README, "Running in production"):
TIMEBANK_WORKERS (default 2 x cores + 1), TIMEBANK_BIND, TIMEBANK_TIMEOUT_SECONDS,
TIMEBANK_MAX_REQUESTS (a worker is replaced after about that many requests, with 10%
jitter so workers do not restart together), TIMEBANK_ACCESS_LOG (JSON lines with the
request id), TIMEBANK_METRICS (Prometheus in multiprocess mode). Production refuses to
start several workers that would each count throttles in their own memory.
"""

import gc
import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timebank.config import _env, serving_problem  # noqa: E402

workers = int(_env("TIMEBANK_WORKERS") or 2 * multiprocessing.cpu_count() + 1)
bind = _env("TIMEBANK_BIND")
worker_class = "sync"
timeout = int(_env("TIMEBANK_TIMEOUT_SECONDS"))
graceful_timeout = timeout
keepalive = 5
max_requests = int(_env("TIMEBANK_MAX_REQUESTS"))
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
logger_class = "timebank.core.logs.GunicornLogger"
accesslog = None if _env("TIMEBANK_ACCESS_LOG") in ("off", "") else _env("TIMEBANK_ACCESS_LOG")
errorlog = "-"
# gunicorn's control socket sits at one path per user: two instances on one machine would
# fight over it, and nothing here uses it
control_socket_disable = True

METRICS = _env("TIMEBANK_METRICS").strip() == "1"
if METRICS:
    # before any worker imports prometheus_client: each writes its values here; one
    # folder per gunicorn (two instances on one machine must not share one)
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(Path(tempfile.gettempdir()) / f"timebank-metrics-{os.getpid()}"),
    )


def on_starting(server) -> None:
    """Refuse what production must not run; wipe the metrics of an earlier start."""
    problem = serving_problem(
        env=_env("TIMEBANK_ENV"),
        workers=server.cfg.workers,
        throttle_storage=_env("TIMEBANK_RATELIMIT_STORAGE_URL"),
        allowed=_env("TIMEBANK_ALLOW_PROCESS_THROTTLES").strip() == "1",
    )
    if problem:
        server.log.error("refusing to start: %s", problem)
        sys.exit(3)
    if METRICS:
        folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)


def post_worker_init(worker) -> None:
    """Hide what the app built while loading from the garbage collector.

    Loading builds about 200,000 long-lived objects (modules, mappers, schemas,
    translations). Python's collector walks them again at every full collection, which
    costs a worker 5-13% of the instructions of a request in steady traffic (counted
    with callgrind: a check-in 5%, GET /readyz 13%) and a long pause when it runs.
    Frozen, they are never walked again: they live as long as the worker anyway.
    Garbage made while loading is collected first.
    """
    gc.collect()
    gc.freeze()


def child_exit(server, worker) -> None:
    """A worker ended (max_requests, a timeout, a crash): its live gauges go with it."""
    if METRICS:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
