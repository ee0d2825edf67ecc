"""Structured logs (structlog): one JSON object a line, each with the request id.

``configure_logging("json")`` routes every logger of the process (the app's, the
scheduler's, SQLAlchemy's, gunicorn's through ``GunicornLogger``) through one structlog
formatter on stderr: ``{"timestamp", "level", "logger", "event", "request_id", ...}``.
``"text"`` prints the same fields for people. A line's request id is read when the line is
written, so requests pay nothing for it unless they log.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from gunicorn.glogging import Logger as _GunicornBaseLogger

from timebank.core.request_id import HEADER, current_request_id

#: marks the handler this module installed, so configuring twice replaces it
_OURS = "_timebank_handler"


def _add_request_id(logger, method_name, event_dict):
    request_id = current_request_id()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def formatter(fmt: str) -> logging.Formatter:
    """structlog's formatter for stdlib records, JSON or text."""
    import structlog

    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def _shared_processors() -> list:
    import structlog

    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(fmt: str = "json", level: int = logging.INFO) -> None:
    """Send every log line of the process through structlog (JSON or text) on stderr."""
    import structlog

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def get_logger(name: str):
    """A structlog logger: ``log.info("checkin.recorded", member_id=7)``."""
    import structlog

    return structlog.get_logger(name)


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger with its error log in the app's format and an access log of one
    JSON object a line, carrying the request id the app answered with."""

    def setup(self, cfg):
        super().setup(cfg)
        from timebank.config import _env

        fmt = _env("TIMEBANK_LOG_FORMAT").strip().lower()
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(formatter(fmt) if handler in self.error_log.handlers else _Raw())
        self._json = fmt == "json"

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = dict(resp.headers) if isinstance(resp.headers, list) else {}
        record = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
            "logger": "gunicorn.access",
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(str(resp.status).split(None, 1)[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": headers.get(HEADER),
        }
        if self._json:
            line = json.dumps(record, ensure_ascii=False)
        else:
            line = " ".join(f"{key}={value}" for key, value in record.items())
        self.access_log.info(line)


class _Raw(logging.Formatter):
    def format(self, record):
        return record.getMessage()
