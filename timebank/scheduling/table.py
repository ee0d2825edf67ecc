"""What a job of the job table is, and how its TIMEBANK_JOB_* schedule reads.

A schedule is ``every 30s`` / ``every 5m`` / ``every 1h`` (an interval), a crontab of five
fields in the deployment's time zone (``30 0 * * *``: half past midnight), or ``off``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from timebank.scheduling.errors import InvalidSchedule

PERIODS = ("day", "month")
CATCH_UPS = ("each", "latest")
_EVERY = re.compile(r"^every\s+(\d+)\s*([smh])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Job:
    """One entry of the job table.

    ``run`` names the function as ``"module:function"``: it takes the moment to run as of
    and returns what it did (``{"closed": 3}``); it calls operations and only flushes, the
    runner commits. A job with a ``period`` ("day" or "month") runs once per period: its
    schedule must be a crontab, and after downtime the runner does each missed period in
    order (``catch_up="each"``: expiry, statements) or only the newest (``"latest"``:
    verification, reminders that would be stale).
    """

    name: str
    run: str
    doc: str
    period: str | None = None
    catch_up: str = "each"

    def __post_init__(self):
        if self.period not in (None, *PERIODS) or self.catch_up not in CATCH_UPS:
            raise ValueError(f"job {self.name}: period {self.period!r}, catch_up {self.catch_up!r}")

    @property
    def setting(self) -> str:
        """Its schedule's setting, e.g. TIMEBANK_JOB_EXPIRE_POINTS."""
        return "TIMEBANK_JOB_" + self.name.upper().replace("-", "_")

    def function(self) -> Callable[[datetime], dict]:
        module, _, name = self.run.partition(":")
        return getattr(importlib.import_module(module), name)

    def schedule(self, config) -> str:
        """The schedule as configured: TIMEBANK_JOB_<NAME> (config.py holds the default)."""
        return config[self.setting]

    def trigger(self, config, zone: ZoneInfo) -> BaseTrigger | None:
        """APScheduler's trigger for the configured schedule; None when it is off.

        Raises InvalidSchedule for a schedule that does not read, or an interval given to
        a job with a period.
        """
        trigger = parse_schedule(self.schedule(config), zone)
        if self.period is not None and isinstance(trigger, IntervalTrigger):
            raise InvalidSchedule(
                "%(setting)s: a job done once a %(period)s needs a crontab, not an interval.",
                params={"setting": self.setting, "period": self.period},
            )
        return trigger

    def period_of(self, moment: datetime, zone: ZoneInfo) -> str:
        """The period a scheduled moment belongs to: its local day or month."""
        local = moment.astimezone(zone)
        return local.strftime("%Y-%m") if self.period == "month" else local.date().isoformat()


def parse_schedule(text: str, zone: ZoneInfo) -> BaseTrigger | None:
    """``every 5m``, a five-field crontab in ``zone``, or ``off`` (None)."""
    text = (text or "").strip().lower()
    if text in ("off", ""):
        return None
    if match := _EVERY.match(text):
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        if seconds <= 0:
            raise InvalidSchedule("An interval must be longer than zero.")
        return IntervalTrigger(seconds=seconds, timezone=zone)
    try:
        return CronTrigger.from_crontab(text, timezone=zone)
    except ValueError as error:
        raise InvalidSchedule(
            "%(schedule)s is neither 'every <n>s|m|h', a crontab nor off: %(error)s",
            params={"schedule": text, "error": str(error)},
        ) from None


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime, limit: int) -> list[datetime]:
    """The trigger's fire times in [start, end], oldest first, at most ``limit``."""
    times: list[datetime] = []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end and len(times) < limit:
        times.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return times
