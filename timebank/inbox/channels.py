"""Channel adapters: how a notification leaves the site (SMS, WeChat), besides the inbox.

``TIMEBANK_NOTIFY_CHANNELS`` lists them, comma-separated: ``log`` (the default: writes each
notification to the ``timebank.notify`` log), ``sms`` (through the SMS adapter,
TIMEBANK_SMS_ADAPTER), or ``package.module:ClassName`` of a gateway (e.g. WeChat template
messages): a class with ``__init__(self, app)`` and ``send(self, message)``.

Delivery follows the commit that wrote the notification, once; a channel that fails is
logged and does not undo anything (the inbox row is the record).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from timebank.core.sms import load_sms_adapter

logger = logging.getLogger("timebank.notify")
_CACHE = "timebank_notify_channels"


@dataclass(frozen=True)
class OutgoingMessage:
    """What a channel sends: already in the recipient's language."""

    member_id: int
    phone: str
    kind: str
    title: str
    body: str
    #: an absolute URL on this site, or None
    url: str | None


class Channel(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class LogChannel:
    """Writes each notification to the ``timebank.notify`` log instead of sending it."""

    def __init__(self, app: Flask | None = None):
        self.app = app

    def send(self, message: OutgoingMessage) -> None:
        logger.info(
            "notify member %s (%s) [%s]: %s / %s %s",
            message.member_id,
            message.phone,
            message.kind,
            message.title,
            message.body,
            message.url or "",
        )


class SmsChannel:
    """Sends the headline and message as a text through the configured SMS adapter."""

    def __init__(self, app: Flask):
        self.sms = load_sms_adapter(app)

    def send(self, message: OutgoingMessage) -> None:
        self.sms.send(message.phone, f"{message.title}: {message.body}")


def load_channels(app: Flask) -> list[Channel]:
    """The channels TIMEBANK_NOTIFY_CHANNELS names, made once per app."""
    if _CACHE in app.extensions:
        return app.extensions[_CACHE]
    channels: list[Channel] = []
    for spec in str(app.config.get("TIMEBANK_NOTIFY_CHANNELS", "log")).split(","):
        spec = spec.strip()
        if spec == "log":
            channels.append(LogChannel(app))
        elif spec == "sms":
            channels.append(SmsChannel(app))
        elif spec:
            module_name, _, class_name = spec.partition(":")
            if not class_name:
                raise RuntimeError(
                    f"TIMEBANK_NOTIFY_CHANNELS: {spec!r} is not log, sms or module:Class"
                )
            channels.append(getattr(importlib.import_module(module_name), class_name)(app))
    app.extensions[_CACHE] = channels
    return channels


def deliver(message: OutgoingMessage, *, by_sms: bool = False) -> None:
    """Send through every channel; a failing channel is logged, the others still send.
    ``by_sms``: also text it when no channel does (an invitation goes to someone who has
    never logged in: their phone is the only way to reach them)."""
    app = current_app._get_current_object()
    channels = list(load_channels(app))
    if by_sms and not any(isinstance(channel, SmsChannel) for channel in channels):
        channels.append(SmsChannel(app))
    for channel in channels:
        try:
            channel.send(message)
        except Exception:
            logger.exception("channel %s could not send notification", type(channel).__name__)
