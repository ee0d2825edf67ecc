"""What organizers read about an approval, the same on pages and in the API."""

from __future__ import annotations

from flask_babel import gettext as _


def zero_minutes_note(attendance) -> str:
    """What an organizer reads about an attendance approved with no minutes."""
    return _(
        "%(name)s: approved with 0 minutes (they stayed less than the rounding unit); "
        "only a bonus, if any, was credited.",
        name=attendance.member.name,
    )
