"""Steps of a made-up past, run in the order they happened.

The demo writes months of history through the real operations, several modules at once
(activities approved, shops' redemptions and refunds, statements settled). A member's
statement lists their ledger entries newest first by entry id, so the postings of every
module must be written oldest first, interleaved: each module schedules its steps here
with the moment they happen, and the caller runs them all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Timeline:
    """Callables scheduled at moments; ``run`` calls them in time order (ties in the
    order they were scheduled)."""

    steps: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)

    def at(self, moment: datetime, step: Callable[..., object], *args, **kwargs) -> None:
        """Schedule ``step(*args, **kwargs)`` at ``moment``."""
        self.steps.append((moment, len(self.steps), lambda: step(*args, **kwargs)))

    def run(self, progress: Callable[[int], object] | None = None) -> int:
        """Run every step scheduled so far, oldest first, once; returns how many ran.
        ``progress`` is told after each step (a progress bar's ``update``)."""
        steps, self.steps = sorted(self.steps, key=lambda s: (s[0], s[1])), []
        for _moment, _order, step in steps:
            step()
            if progress is not None:
                progress(1)
        return len(steps)
