"""Errors of the inbox: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import NotFound


class NotificationNotFound(NotFound):
    code = "notification_not_found"
