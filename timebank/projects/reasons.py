"""Why a need or a project changed, as the code writes it: stored as a code with its
parameters (``@merged_in {"need": 4, "title": "路灯不亮"}``) and said in the reader's
language when shown, with the names of members masked as the page masks them.

A reason typed by a person is stored and shown as typed. Rows written before reasons were
coded hold English sentences ("filed for 王秀英 by 李建华"); they are read as the same codes,
so the history of an old need reads like a new one's."""

from __future__ import annotations

import json
import re

from flask_babel import gettext as _

from timebank.core.errors import N_
from timebank.core.privacy import shown_name
from timebank.extensions import db

PREFIX = "@"
CODED = re.compile(r"^@([a-z_]+) (\{.*\})$", re.S)
SAYINGS = {
    "filed_for": N_("filed for %(resident)s by %(by)s"),
    "taken": N_("taken by the volunteer"),
    "all_places_taken": N_("all places taken"),
    "place_freed": N_("a place was freed"),
    "duplicate_of": N_("a duplicate of #%(need)s %(title)s"),
    "merged_in": N_("#%(need)s %(title)s was merged in"),
    "resolved_with": N_("resolved with #%(need)s"),
    "project_verified": N_("%(title)s was verified"),
    "project_cancelled": N_("%(title)s was cancelled"),
    "wish_fulfilled": N_("the small wish was fulfilled"),
}
#: the English sentences stored before reasons were coded, read as their codes
LEGACY = (
    (re.compile(r"^filed for (?P<resident>.+) by (?P<by>.+)$"), "filed_for"),
    (re.compile(r"^taken$"), "taken"),
    (re.compile(r"^all places taken$"), "all_places_taken"),
    (re.compile(r"^a place was freed$"), "place_freed"),
    (re.compile(r"^duplicate of #(?P<need>\d+) (?P<title>.*)$", re.S), "duplicate_of"),
    (re.compile(r"^#(?P<need>\d+) (?P<title>.*) merged in$", re.S), "merged_in"),
    (re.compile(r"^#(?P<need>\d+) is resolved$"), "resolved_with"),
    (re.compile(r"^(?P<title>.*): verified$", re.S), "project_verified"),
    (re.compile(r"^(?P<title>.*): cancelled$", re.S), "project_cancelled"),
    (re.compile(r"^the small wish was fulfilled$"), "wish_fulfilled"),
)
#: parameters that hold a member's id: shown as the reader may see that member's name
MEMBER_PARAMS = ("resident", "by")


def coded(code: str, **params) -> str:
    """The reason ``code`` with ``params`` as stored (a member is passed as its id)."""
    assert code in SAYINGS, code
    return f"{PREFIX}{code} {json.dumps(params, ensure_ascii=False, sort_keys=True)}"


def decode(reason: str | None) -> tuple[str, dict] | None:
    """(code, params) of a coded or legacy reason; None for a reason a person typed."""
    if not reason:
        return None
    match = CODED.match(reason)
    if match and match.group(1) in SAYINGS:
        try:
            return match.group(1), json.loads(match.group(2))
        except ValueError:
            return None
    for pattern, code in LEGACY:
        found = pattern.match(reason)
        if found:
            return code, {**found.groupdict(), "legacy": True}
    return None


def said(reason: str | None, *, resident=None, actor=None) -> str:
    """``reason`` in the reader's language. Members named in it are shown as the page
    shows them (masked for those who may not see them); a legacy sentence names them by
    name only, so ``resident`` and ``actor`` (the need's resident, the event's actor)
    stand in for them."""
    decoded = decode(reason)
    if decoded is None:
        return reason or ""
    code, params = decoded
    legacy = params.pop("legacy", False)
    for key in MEMBER_PARAMS:
        if key not in params:
            continue
        member = (resident if key == "resident" else actor) if legacy else _member(params[key])
        params[key] = shown_name(member) if member is not None else _("a member")
    return _(SAYINGS[code], **params) if params else _(SAYINGS[code])


def _member(member_id):
    from timebank.people.models import Member

    return db.session.get(Member, member_id) if isinstance(member_id, int) else None


def event_reason(event) -> str:
    """A need's or a project's event's reason, said to the reader (a template filter)."""
    resident = None
    need_id = getattr(event, "need_id", None)
    if need_id is not None:
        from timebank.projects.models import Need

        need = db.session.get(Need, need_id)
        resident = need.resident if need is not None else None
    return said(event.reason, resident=resident, actor=event.actor)
