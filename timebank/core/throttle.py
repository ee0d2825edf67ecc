"""Throttles: how often a phone, an address or a member may try something.

Counters live in Flask-Limiter's storage: memory by default (one process), Redis with
``TIMEBANK_RATELIMIT_STORAGE_URL=redis://...`` so every worker shares them. A throttle is
checked before the attempt and counted after it (for logins: only failures count), and
its refusal is a 429 problem+json with Retry-After.
"""

from __future__ import annotations

import math
import threading
import time
import weakref

from limits import parse_many
from limits.storage import MemoryStorage

from timebank.core import metrics
from timebank.core.errors import RateLimited


class ProcessMemoryStorage(MemoryStorage):
    """``memory://``: limits' memory storage, with its expired entries dropped once a
    second by one thread. The original starts a new thread for nearly every count, which
    cost a sixth of each check-in."""

    STORAGE_SCHEME = ["timebank-memory"]

    def __init__(self, uri: str | None = None, **options):
        super().__init__(uri, **options)
        threading.Thread(
            target=_expire_every_second, args=(weakref.ref(self),), daemon=True,
            name="throttle-expiry",
        ).start()  # fmt: skip

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (replaces the original)
        pass


def _expire_every_second(storage_ref: weakref.ref) -> None:
    while (storage := storage_ref()) is not None:
        storage._MemoryStorage__expire_events()
        del storage  # no strong reference while sleeping: the app may be dropped
        time.sleep(1)


class Throttle:
    """A named set of limits, e.g. ``Throttle("login.phone", "5 per 15 minutes; 20 per day")``:
    the second, longer window is the back-off after repeated bursts."""

    def __init__(self, name: str, spec: str):
        self.name = name
        self.limits = parse_many(spec)

    def _strategy(self):
        from timebank.extensions import limiter

        return limiter.limiter

    def check(self, key: str) -> None:
        """Raise RateLimited (with ``retry_after`` seconds) when ``key`` is over a limit."""
        strategy = self._strategy()
        over = [limit for limit in self.limits if not strategy.test(limit, self.name, key)]
        self._refuse(strategy, key, over)

    def take(self, key: str) -> None:
        """``check`` and ``count`` in one step, where an attempt is counted as it is made (a
        check-in, a code shown): each limit counts the attempt if it is under it (the
        moving window's test and count are one operation of the storage), and RateLimited
        when one was not. Half the storage's work of the two: with Redis, two round trips
        for two limits instead of four. An attempt refused by one limit is still counted
        by a limit that had room, which only makes a client that keeps trying wait longer."""
        strategy = self._strategy()
        over = [limit for limit in self.limits if not strategy.hit(limit, self.name, key)]
        self._refuse(strategy, key, over)

    def _refuse(self, strategy, key: str, refused: list) -> None:
        if not refused:
            return
        metrics.count("rate_limited", self.name)
        waits = [strategy.get_window_stats(limit, self.name, key).reset_time for limit in refused]
        seconds = max(1, math.ceil(max(waits) - time.time()))
        raise RateLimited(
            "Too many attempts; try again in %(minutes)s minutes.",
            params={"minutes": max(1, math.ceil(seconds / 60))},
            retry_after=seconds,
        )

    def count(self, key: str) -> None:
        """Count one attempt against ``key``."""
        strategy = self._strategy()
        for limit in self.limits:
            strategy.hit(limit, self.name, key)

    def reset(self, key: str) -> None:
        """Forget ``key``'s attempts (after a success)."""
        strategy = self._strategy()
        for limit in self.limits:
            strategy.clear(limit, self.name, key)


#: wrong passwords or codes for one phone: five in a quarter hour, then a day's back-off
LOGIN_PHONE = Throttle("login.phone", "5 per 15 minutes; 20 per day")
#: wrong passwords or codes from one address, whatever the phone
LOGIN_ADDRESS = Throttle("login.address", "30 per 15 minutes; 200 per day")
#: SMS codes asked for from one address (each phone also has five an hour)
CODES_ADDRESS = Throttle("codes.address", "20 per hour")
#: check-in submissions of one member
CHECKINS_MEMBER = Throttle("checkins.member", "20 per minute; 200 per hour")
#: redeem codes shown to one member: a phone reloads its code twice a minute and when a
#: shop acts, so this only stops a script
REDEEM_CODES_MEMBER = Throttle("redeem_codes.member", "20 per minute; 600 per hour")
#: wrong redeem codes tried by one member of a shop's staff: six digits are guessable
#: only by trying, so a counter gets ten wrong tries in ten minutes, fifty a day
REDEEM_GUESSES_STAFF = Throttle("redeem_guesses.staff", "10 per 10 minutes; 50 per day")
#: hour-log photos uploaded for one member: a day's service has a photo or two; a script
#: replacing one again and again is stopped before it fills the disk
PHOTOS_MEMBER = Throttle("photos.member", "6 per 10 minutes; 30 per day")
