"""How pages say amounts: hours as hours and minutes, points as points, with a sign when
asked. Registered as Jinja filters (``{{ 90|duration }}`` → "1 h 30 min", 1小时30分钟)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext


def duration(minutes: int | None, signed: bool = False) -> str:
    """``minutes`` in words: 1 h 30 min, 45 min, 2 h; 0 min for none."""
    minutes = minutes or 0
    sign = ("+" if minutes > 0 else "−" if minutes < 0 else "") if signed else "-"[: minutes < 0]
    hours, rest = divmod(abs(minutes), 60)
    if hours and rest:
        text = _("%(hours)s h %(minutes)s min", hours=hours, minutes=rest)
    elif hours:
        text = _("%(hours)s h", hours=hours)
    else:
        text = _("%(minutes)s min", minutes=rest)
    return f"{sign}{text}"


def points(amount: int | None, signed: bool = False) -> str:
    """``amount`` points in words: 7 points, 1 point (积分)."""
    amount = amount or 0
    sign = ("+" if amount > 0 else "−" if amount < 0 else "") if signed else "-"[: amount < 0]
    return sign + ngettext("%(num)s point", "%(num)s points", abs(amount))


def amount(value: int | None, ledger: str, signed: bool = False) -> str:
    """An amount of ``ledger``: HOURS as a duration, POINTS as points."""
    return duration(value, signed) if ledger == "HOURS" else points(value, signed)


def register(app) -> None:
    app.add_template_filter(duration, "duration")
    app.add_template_filter(points, "points")
    app.add_template_filter(amount, "amount")
