"""What a person hears of a decision about their membership: approved or turned down, or
added by an organizer (the invitation says how to log in). Each is written once (its key),
in the member's language, to their inbox and through their channels after the commit."""

from __future__ import annotations

from timebank.core.urls import public_url
from timebank.inbox import operations as inbox
from timebank.people.models import Member


def _unit_name(member: Member) -> str:
    """The community (or the nearest unit above a building) the member belongs to."""
    unit = member.home_unit
    while unit.kind in ("building", "grid") and unit.parent is not None:
        unit = unit.parent
    return unit.name


def notify_membership_decided(member: Member, *, approved: bool, reason: str = "") -> None:
    """The applicant hears that the registration was approved, or turned down and why."""
    params = {"name": member.name, "unit": _unit_name(member)}
    if approved:
        inbox.notify(
            member, "membership_approved", key=f"member-approved:{member.id}",
            params=params, link="/",
        )  # fmt: skip
    else:
        inbox.notify(
            member, "membership_rejected", key=f"member-rejected:{member.id}",
            params={**params, "reason": reason},
        )  # fmt: skip


def notify_invited(member: Member) -> None:
    """A member an organizer added (by hand or from a roster) hears how to log in: by a
    code texted to their phone, then a password of their own."""
    inbox.notify(
        member, "member_invited", key=f"member-invited:{member.id}",
        params={"name": member.name, "unit": _unit_name(member),
                "url": public_url("/login/code")},
        link="/login/code",
    )  # fmt: skip
