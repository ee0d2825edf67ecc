"""Channel adapters for tests: one keeps every message, one always fails."""

from __future__ import annotations

SENT: list = []


class CaptureChannel:
    def __init__(self, app=None):
        self.app = app

    def send(self, message) -> None:
        SENT.append(message)


class BrokenChannel:
    def __init__(self, app=None):
        self.app = app

    def send(self, message) -> None:
        raise ConnectionError("the WeChat gateway is down")
