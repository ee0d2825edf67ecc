"""An SMS adapter for tests: keeps every message, so a test can read the code it sent."""

from __future__ import annotations

import re

SENT: list[tuple[str, str]] = []


class CaptureSms:
    def __init__(self, app=None):
        self.app = app

    def send(self, phone: str, message: str) -> None:
        SENT.append((phone, message))


def last_code(phone: str) -> str:
    """The six-digit code of the newest message to ``phone``."""
    message = next(m for p, m in reversed(SENT) if p == phone)
    return re.search(r"\b(\d{6})\b", message).group(1)
