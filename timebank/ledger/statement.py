"""A statement in words: what earned or spent each line, said as a person would say it
("Served at “四点半课堂”", "Hours given to 王秀英"), never a code and a number.

The ledger knows no activities, projects or people: their names come from
``core.names``, registered by the modules that own them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from timebank.core.names import names_of
from timebank.ledger.operations import StatementLine


@dataclass(frozen=True)
class ShownLine:
    """One statement line as a page shows it."""

    entry_id: int
    transfer_id: int
    ledger: str
    amount: int
    balance_after: int
    text: str
    created_at: datetime
    code: str


def _ids(lines: list[StatementLine], reference_type: str) -> list[int]:
    return [
        int(line.reference_id)
        for line in lines
        if line.reference_type == reference_type and (line.reference_id or "").isdigit()
    ]


def _owner(counterparty: str) -> tuple[str, int | None, str]:
    """("member", 5, "") for member:5; ("unit", 3, "pool") for unit:3:pool."""
    kind, _sep, rest = counterparty.partition(":")
    number, _sep, sub = rest.partition(":")
    return kind, int(number) if number.isdigit() else None, sub


def describe(lines: list[StatementLine]) -> list[ShownLine]:
    """The lines with their words, in the reader's language (a few queries in all)."""
    activities = names_of("attendance", _ids(lines, "attendance"))
    projects = names_of("hour_log", _ids(lines, "hour_log"))
    shops = names_of("redemption_shop", _ids(lines, "redemption"))
    offers = names_of("redemption_offer", _ids(lines, "redemption"))
    owners = [_owner(line.counterparty) for line in lines]
    members = names_of("member", [number for kind, number, _ in owners if kind == "member"])
    units = names_of("unit", [number for kind, number, _ in owners if kind == "unit"])
    shown = []
    for line, (kind, number, sub) in zip(lines, owners, strict=True):
        reference = int(line.reference_id) if (line.reference_id or "").isdigit() else None
        if kind == "member":
            other = members.get(number) or _("another member")
        elif kind == "unit":
            other = units.get(number) or _("the community")
        else:
            other = _("a shop")
        if line.reference_type == "redemption" and reference in shops:
            other = shops[reference]
        titles = (activities.get(reference), projects.get(reference), offers.get(reference))
        text = _sentence(line, other, sub, *titles)
        shown.append(
            ShownLine(
                entry_id=line.entry_id,
                transfer_id=line.transfer_id,
                ledger=line.ledger,
                amount=line.amount,
                balance_after=line.balance_after,
                text=text,
                created_at=line.created_at,
                code=line.code,
            )
        )
    return shown


def _sentence(
    line: StatementLine,
    other: str,
    sub: str,
    activity: str | None,
    project: str | None,
    offer: str | None,
) -> str:
    memo = (line.memo or "").strip()
    code, received = line.code, line.amount > 0
    if code == "earn_checkin":
        return _("Served at “%(title)s”", title=activity or _("an activity"))
    if code == "earn_project":
        return _("Served in “%(title)s”", title=project or _("a service project"))
    if code == "earn_service":
        return _("Verified service")
    if code == "award":
        return _("Community award: %(why)s", why=memo or _("no reason given"))
    if code == "correct" and offer is not None and received:  # a shop's refund
        return _("Refund from %(shop)s for “%(offer)s”", shop=other, offer=offer)
    if code == "correct":
        if received:
            return _("Correction in your favour: %(why)s", why=memo or _("no reason given"))
        return _("Correction of an earlier line: %(why)s", why=memo or _("no reason given"))
    if code == "donate":
        if received:
            text = _("Hours received from %(name)s", name=other)
        elif sub == "pool":
            text = _("Hours given to the pool of %(unit)s", unit=other)
        else:
            text = _("Hours given to %(name)s", name=other)
        # the donor's note, read by both sides
        return _("%(what)s (note: %(note)s)", what=text, note=memo) if memo else text
    if code == "redeem":
        if offer is None:  # a redemption nobody can name any more
            return _("Spent at a shop") if not received else _("Refund from a shop")
        if received:
            return _("Refund from %(shop)s for “%(offer)s”", shop=other, offer=offer)
        return _("Redeemed “%(offer)s” at %(shop)s", shop=other, offer=offer)
    if code == "expire":
        return _("Points expired (the oldest first)")
    if code == "settle":
        return _("Settlement with a shop")
    return _(code)
