"""The SMS adapter interface. The default writes messages to the log.

A real gateway plugs in by configuration: ``TIMEBANK_SMS_ADAPTER=package.module:ClassName``,
a class with ``__init__(self, app)`` and ``send(self, phone, message)``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Protocol

logger = logging.getLogger("timebank.sms")


class SmsAdapter(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class LogSmsAdapter:
    """Writes each message to the ``timebank.sms`` log instead of sending it."""

    def __init__(self, app=None):
        self.app = app

    def send(self, phone: str, message: str) -> None:
        logger.warning("SMS to %s: %s", phone, message)


def load_sms_adapter(app) -> SmsAdapter:
    """Instantiate the adapter named by TIMEBANK_SMS_ADAPTER."""
    spec = app.config.get("TIMEBANK_SMS_ADAPTER", "log")
    if spec == "log":
        return LogSmsAdapter(app)
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise RuntimeError(f"TIMEBANK_SMS_ADAPTER must be 'log' or 'module:Class', not {spec!r}")
    return getattr(importlib.import_module(module_name), class_name)(app)
