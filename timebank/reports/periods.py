"""Report periods: a month, a quarter, a year, or two dates, with bounds at local midnight.

A period is a half-open interval [start, end) of UTC moments whose ends are midnights in
the deployment's time zone (TIMEBANK_TIMEZONE): "2026Q1" in Asia/Shanghai starts at
2025-12-31 16:00 UTC and ends at 2026-03-31 16:00 UTC. Dates given by people are
inclusive (``to=2026-03-31`` covers that whole local day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from timebank.core.clock import utcnow
from timebank.reports.errors import InvalidPeriod, PeriodBackwards, PeriodTooLong

KINDS = ("month", "quarter", "year", "custom")
#: the longest custom period a report covers
MAX_YEARS = 10
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEBANK_TIMEZONE"])


def local_midnight(day: date) -> datetime:
    """Midnight at the start of ``day`` in the deployment's time zone, as UTC."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def local_date(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


@dataclass(frozen=True)
class Period:
    """What a report covers: local dates ``first``..``last`` (inclusive)."""

    kind: str
    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first moment covered (UTC)."""
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first moment no longer covered (UTC)."""
        return local_midnight(self.last + timedelta(days=1))

    @property
    def key(self) -> str:
        """How the period is named in URLs: 2026-05, 2026Q2, 2026, or 2026-01-01..2026-03-31."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.first.year}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def query(self) -> dict[str, str]:
        """The URL arguments that name this period again."""
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind, "at": self.key}

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches, in order."""
        found, day = [], self.first.replace(day=1)
        while day <= self.last:
            found.append(day)
            day = _next_month(day)
        return found

    def month_bounds(self) -> list[datetime]:
        """The UTC starts of the months after the first, clipped to the period: the
        boundaries between the period's months (a month's bucket is how many it passed)."""
        return [local_midnight(m) for m in self.months()[1:]]


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    return Period("month", first, _next_month(first) - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    first = date(year, 3 * (number - 1) + 1, 1)
    last = _next_month(date(year, 3 * number, 1)) - timedelta(days=1)
    return Period("quarter", first, last)


def year(number: int) -> Period:
    return Period("year", date(number, 1, 1), date(number, 12, 31))


def current(kind: str = "quarter", now: datetime | None = None) -> Period:
    """The month, quarter or year ``now`` falls in, in local time."""
    today = local_date(now or utcnow())
    if kind == "month":
        return month(today.year, today.month)
    if kind == "year":
        return year(today.year)
    return quarter(today.year, (today.month - 1) // 3 + 1)


def quarter_of(moment: datetime) -> Period:
    return current("quarter", moment)


def custom(first: date, last: date) -> Period:
    """Two local dates, inclusive. Raises PeriodBackwards, PeriodTooLong."""
    if last < first:
        raise PeriodBackwards(
            "The period ends before it starts.", errors={"to": ["Before the start."]}
        )
    try:
        limit = first.replace(year=first.year + MAX_YEARS)
    except ValueError:  # 29 February
        limit = date(first.year + MAX_YEARS, 3, 1)
    if last >= limit:
        raise PeriodTooLong("A report covers at most ten years.", errors={"to": ["Too far."]})
    return Period("custom", first, last)


def _date(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidPeriod(
            "%(field)s is not a date (YYYY-MM-DD).",
            params={"field": field},
            errors={field: ["Not a date."]},
        ) from None


def parse(
    kind: str | None = None,
    at: str | None = None,
    first: str | None = None,
    last: str | None = None,
    *,
    now: datetime | None = None,
) -> Period:
    """The period named by a request's ``period``, ``at``, ``from`` and ``to``.

    ``period``: month (``at=2026-05``), quarter (``at=2026Q2``), year (``at=2026``), or
    custom (``from`` and ``to``, local dates, inclusive); without ``at`` the current one.
    No ``period`` at all: custom when ``from`` is given, else the current quarter.
    Raises InvalidPeriod, PeriodBackwards, PeriodTooLong (422)."""
    kind = (kind or ("custom" if first else "quarter")).strip().lower()
    if kind not in KINDS:
        raise InvalidPeriod(
            "That period is not known: give a month, a quarter, a year or two dates.",
            errors={"period": [f"One of {', '.join(KINDS)}."]},
        )
    if kind == "custom":
        return custom(_date(first, "from"), _date(last, "to"))
    if not at:
        return current(kind, now)
    text = at.strip()
    pattern = {"month": _MONTH, "quarter": _QUARTER, "year": _YEAR}[kind]
    found = pattern.match(text)
    if found is None or not 1900 <= int(found.group(1)) <= 9998:
        raise InvalidPeriod(
            "That period is not known: give a month, a quarter, a year or two dates.",
            errors={"at": [f"Not a {kind}."]},
        )
    numbers = [int(g) for g in found.groups()]
    if kind == "month":
        if not 1 <= numbers[1] <= 12:
            raise InvalidPeriod(
                "That period is not known: give a month, a quarter, a year or two dates.",
                errors={"at": ["Not a month."]},
            )
        return month(*numbers)
    return quarter(*numbers) if kind == "quarter" else year(numbers[0])


def bucket_of(moment: datetime, bounds: list[datetime]) -> int:
    """Which month of a period ``moment`` falls in, given ``Period.month_bounds()``."""
    index = 0
    for bound in bounds:
        if moment < bound:
            break
        index += 1
    return index
