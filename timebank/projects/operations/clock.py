"""The deployment's local calendar: hour logs name local days, schedules are local."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def local_date(moment: datetime) -> date:
    """The local calendar day of ``moment``."""
    return moment.astimezone(local_zone()).date()


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in the deployment's time zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)
