"""The request id: one short string per request, job run or command, carried into the
logs (every line), the access log, audit rows and job runs, and back to the client.

A request keeps a well-formed ``X-Request-Id`` sent by the proxy or client (so a client
retrying with its idempotency key can follow its tries), else gets a new one; the answer
carries it in ``X-Request-Id``. The WSGI middleware costs a context variable and a header.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: the id of what runs now: a request's, a job run's (job-...), a command's (cli-...)
REQUEST_ID: ContextVar[str | None] = ContextVar("timebank_request_id", default=None)
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,64}")
HEADER = "X-Request-Id"


class _Ids:
    """Ids unique across processes without a system call each: a random prefix per
    process (new in a forked child) and a counter."""

    def __init__(self):
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix = secrets.token_hex(4)
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):08x}"


_IDS = _Ids()


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def new_request_id(prefix: str = "") -> str:
    return prefix + secrets.token_hex(8)


@contextmanager
def bound_request_id(value: str | None = None, *, prefix: str = "") -> Iterator[str]:
    """Run the block under ``value`` (or a new id): a job run, a command."""
    value = value or new_request_id(prefix)
    token = REQUEST_ID.set(value)
    try:
        yield value
    finally:
        REQUEST_ID.reset(token)


class RequestIdMiddleware:
    """Sets the request id for the request and answers it in ``X-Request-Id``; with
    ``observe`` (metrics on) it also reports each request's endpoint, status and time."""

    def __init__(self, wsgi_app, observe=None):
        self.wsgi_app = wsgi_app
        self.observe = observe

    def __call__(self, environ, start_response):
        sent = environ.get("HTTP_X_REQUEST_ID")
        request_id = sent if sent and _WELL_FORMED.fullmatch(sent) else _IDS.next()
        token = REQUEST_ID.set(request_id)
        observe = self.observe
        if observe is not None:
            started = observe.start()

        def start(status, headers, exc_info=None):
            headers.append((HEADER, request_id))
            if observe is not None:
                observe.finish(environ, status, started)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        finally:
            REQUEST_ID.reset(token)
