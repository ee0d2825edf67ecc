"""What a volunteer reads about their own attendance: plain words, not the organizer's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: the statuses of one's own attendance, as the volunteer reads them
MY_STATUS_NAMES = {
    "pending": _l("Waiting for the organizer's approval"),
    "review": _l("Held: the organizer checks it first"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}

#: why a check-in is held, said to the volunteer who made it
MY_REASON_NAMES = {
    "no_location": _l("your phone sent no location"),
    "outside_radius": _l("you scanned outside the activity's area"),
    "typed_code": _l("you typed the code instead of scanning it"),
    "late_upload": _l("your scan reached us later than it was made"),
}


def held_because(review_reason: str | None) -> tuple[str, ...]:
    """The volunteer's words for each reason a check-in is held."""
    codes = [code for code in (review_reason or "").split(",") if code]
    return tuple(str(MY_REASON_NAMES.get(code, code)) for code in codes)
