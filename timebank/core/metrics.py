"""Prometheus metrics (prometheus_client), off unless TIMEBANK_METRICS=1.

Under gunicorn each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR, which
gunicorn.conf.py sets and wipes before any worker starts (and marks a dead worker's files
in ``child_exit``); ``GET /metrics`` adds up every worker's. Without that directory (one
process: ``timebank run``, the scheduler) the process's own registry is served.

What is counted: requests by endpoint, method and status, and their latency by endpoint;
transfers by code, check-ins and check-outs, redemptions by outcome, job runs by job and
outcome (``failed`` is a failure), throttle refusals by throttle. Domain counts are taken
once the transaction that made them commits (a rolled-back transfer is not counted).
Off, each hook is one test of a module global.
"""

from __future__ import annotations

import os
import time

#: the metrics, once ``enable()`` made them; None while metrics are off
_METRICS: dict | None = None
#: latency buckets (seconds): the aim is p99 under 250 ms
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)


def enabled() -> bool:
    return _METRICS is not None


def enable() -> None:
    """Make the metrics (once per process)."""
    global _METRICS
    if _METRICS is not None:
        return
    from prometheus_client import Counter, Histogram

    _METRICS = {
        "requests": Counter(
            "timebank_http_requests_total", "HTTP requests answered",
            ["endpoint", "method", "status"],
        ),
        "latency": Histogram(
            "timebank_http_request_duration_seconds", "Time to answer a request",
            ["endpoint"], buckets=BUCKETS,
        ),
        "transfers": Counter("timebank_transfers_total", "Ledger transfers posted", ["code"]),
        "checkins": Counter("timebank_checkins_total", "Check-in scans recorded", ["scan"]),
        "redemptions": Counter(
            "timebank_redemptions_total", "Redemptions held, confirmed, voided", ["outcome"]
        ),
        "job_runs": Counter("timebank_job_runs_total", "Job runs by outcome", ["job", "outcome"]),
        "rate_limited": Counter(
            "timebank_rate_limited_total", "Attempts refused by a throttle", ["throttle"]
        ),
    }  # fmt: skip


def count(name: str, *labels: str) -> None:
    """Count one event now (job runs, throttle refusals)."""
    if _METRICS is not None:
        _METRICS[name].labels(*labels).inc()


def count_after_commit(name: str, *labels: str) -> None:
    """Count one event when the current transaction commits (nothing on rollback)."""
    if _METRICS is None:
        return
    from timebank.core.uow import after_commit
    from timebank.extensions import db

    after_commit(db.session(), lambda: _METRICS[name].labels(*labels).inc())


class RequestObserver:
    """What RequestIdMiddleware calls per request while metrics are on."""

    start = staticmethod(time.perf_counter)

    def __init__(self):
        #: labelled children by (endpoint, method, status): ``labels()`` checks and locks
        self._children: dict[tuple, tuple] = {}

    def finish(self, environ: dict, status: str, started: float) -> None:
        key = (
            environ.get("timebank.endpoint") or "unmatched",
            environ["REQUEST_METHOD"],
            status[:3],
        )
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                _METRICS["requests"].labels(*key),
                _METRICS["latency"].labels(key[0]),
            )
        children[0].inc()
        children[1].observe(time.perf_counter() - started)


def init_app(app) -> None:
    """Metrics on: make them, observe requests, serve ``/metrics``."""
    from flask import request

    enable()

    @app.after_request
    def _endpoint(response):
        # the endpoint's name (bounded), never the path (unbounded: ids)
        request.environ["timebank.endpoint"] = request.endpoint or "unmatched"
        return response


def exposition() -> tuple[bytes, str]:
    """Every worker's metrics in Prometheus' text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
