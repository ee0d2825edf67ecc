"""The one "now" of the app, its jobs and its tests.

Every reader asks ``utcnow()`` at the moment it needs the time, so the source set here is
seen by every module at once, in every thread (the browser tests' live server included).
Only tests set it (``tests/conftest.py``'s ``clock`` fixture); the app never does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    """The server clock, timezone-aware UTC, to the microsecond."""
    if _source is not None:
        return _source()
    return datetime.now(UTC)


def set_source(source: Callable[[], datetime] | None) -> None:
    """Read the time from ``source`` from now on; ``None`` goes back to the system clock."""
    global _source
    _source = source
