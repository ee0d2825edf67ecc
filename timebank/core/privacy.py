"""Who sees a member's full name and phone, and the masked forms everyone else sees.

The rule, in one place: a member's own data, their guardian, and the organizers and
admins who may manage members of the member's home unit (``members.manage``) see the
full name and phone. Everyone else who meets the member in a list (merchant staff at the
counter, fellow volunteers on a project's roster, a shop owner's staff list) sees
``139****0001`` and ``张*``: enough to recognise, not enough to call or look up.

Core knows no people: a member is anything with ``id`` and ``home_unit_id``.
"""

from __future__ import annotations

from flask import has_request_context
from marshmallow import fields

from timebank.core import access
from timebank.core.access import Target


def mask_phone(phone: str | None) -> str:
    """``13900000001`` → ``139****0001``; a short number keeps only its last two digits."""
    phone = phone or ""
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 2:
        return "*" * (len(phone) - 2) + phone[-2:]
    return "*" * len(phone)


def mask_name(name: str | None) -> str:
    """``张三`` → ``张*``, ``王秀英`` → ``王**``: the first character, then one star a character."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def sees_personal_data(member) -> bool:
    """May the caller of this request see ``member``'s full name and phone?"""
    if member is None:
        return False
    actor = access.current_actor() if has_request_context() else None
    if actor is None:
        return False
    if actor.id == member.id:
        return True
    # access remembers the caller's grants and each unit's line for the request: a list
    # of members asks the database once per unit, not once per member
    return member.id in access.wards_of(actor) or access.may(
        actor, "members.manage", Target(unit=member.home_unit_id)
    )


def shown_name(member, known_by: int | None = None) -> str:
    """The member's name as the caller may see it: whole for those who see their data,
    for ``known_by`` (the member who named them, e.g. on a claim), and for organizers and
    admins, who act in public; masked for everyone else."""
    if member is None:
        return ""
    actor = access.current_actor() if has_request_context() else None
    if known_by is not None and actor is not None and actor.id == known_by:
        return member.name
    if sees_personal_data(member) or access.is_official(member):
        return member.name
    return mask_name(member.name)


def shown_phone(member) -> str:
    """The member's phone as the caller may see it."""
    if member is None:
        return ""
    return member.phone if sees_personal_data(member) else mask_phone(member.phone)


class MemberName(fields.Function):
    """A schema field: the name of the member at ``attribute`` (default ``member``), masked
    unless the caller may see it; ``known_by``: the attribute holding the id of a member
    who named them (and so sees the whole name)."""

    def __init__(self, attribute: str = "member", known_by: str | None = None, **kwargs):
        path = attribute.split(".")

        def name_of(obj):
            known = getattr(obj, known_by, None) if known_by else None
            for step in path:
                obj = getattr(obj, step, None)
            return None if obj is None else shown_name(obj, known)

        super().__init__(name_of, dump_only=True, **kwargs)


class MemberPhone(fields.Function):
    """A schema field: the phone of the member itself (or at ``attribute``), masked
    unless the caller may see it."""

    def __init__(self, attribute: str | None = None, **kwargs):
        def phone_of(obj):
            member = getattr(obj, attribute) if attribute else obj
            return shown_phone(member)

        super().__init__(phone_of, dump_only=True, **kwargs)


def register(app) -> None:
    app.add_template_filter(shown_name, "shown_name")
    app.add_template_filter(shown_phone, "shown_phone")
