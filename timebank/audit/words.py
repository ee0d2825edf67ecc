"""The audit trail in the reader's words: the fields and codes stored in an event's
before/after JSON, its target and its detail, and the CSV's column headers.

The trail stores codes (``{"status": "pending", "ledger": "POINTS"}``, ``statement:16``,
``organizer@2``) so that it reads the same in every language and to every program; the
page says them in words. A key or a code not named here is shown as stored."""

from __future__ import annotations

import json
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

#: before/after keys, in words
FIELD_NAMES = {
    "status": _l("status"),
    "code": _l("kind of transfer"),
    "ledger": _l("ledger"),
    "amount": _l("amount"),
    "minutes": _l("minutes"),
    "minutes_wanted": _l("minutes asked for"),
    "points": _l("points"),
    "merchant": _l("shop number"),
    "month": _l("month"),
    "transfer": _l("transfer number"),
    "period": _l("period"),
    "name": _l("name"),
    "kind": _l("kind"),
    "parent_id": _l("parent unit number"),
    "unit_id": _l("unit number"),
    "organization": _l("organization number"),
    "lat": _l("latitude"),
    "lng": _l("longitude"),
    "serial": _l("serial number"),
    "key_id": _l("key number"),
    "watermark": _l("entries covered"),
    "ok": _l("passed"),
    "problem": _l("problem"),
    "reason": _l("reason"),
}
#: keys whose value is a code with a name of its own (core/words.py and these)
CODE_KEYS = ("status", "code", "ledger", "kind", "role")
CODE_NAMES = {
    "approved": _l("approved"),
    "paid": _l("paid"),
    "open": _l("open"),
    "built": _l("built"),
}
#: a target's kind (``statement:16``), in words
TARGET_NAMES = {
    "unit": _l("unit"),
    "attendance": _l("attendance"),
    "certificate": _l("service certificate"),
    "hour_log": _l("hour log"),
    "merchant": _l("shop"),
    "pending_credit": _l("award waiting for a second person"),
    "statement": _l("statement"),
    "transparency_checkpoint": _l("transparency checkpoint"),
    "activity": _l("activity"),
    "member": _l("member"),
    "redemption": _l("redemption"),
    "offer": _l("offer"),
    "guardian": _l("guardian"),
    "branch": _l("party branch"),
    "reported": _l("reported in"),
}
#: the CSV's columns (audit/operations.py's CSV_COLUMNS), in words
COLUMN_NAMES = {
    "id": _l("Number"),
    "created_at": _l("When"),
    "actor_id": _l("Done by (member number)"),
    "actor_name": _l("Done by"),
    "on_behalf_of_id": _l("Acting for (member number)"),
    "on_behalf_of_name": _l("Acting for"),
    "subject_member_id": _l("About (member number)"),
    "subject_name": _l("About"),
    "action": _l("What"),
    "target": _l("Target"),
    "before": _l("Before"),
    "after": _l("After"),
    "detail": _l("Detail"),
    "ip": _l("Address"),
}
_TARGET = re.compile(r"^([a-z_]+)[: ](\d+)(: (.*))?$", re.S)
_ROLE = re.compile(r"^([a-z_]+)@(?:([a-z_]+):)?(\d+)$")
_PAIRS = re.compile(r"^[a-z_]+=[^;]*(; [a-z_]+=[^;]*)*$")


def colon() -> str:
    """The colon between a name and its value: full width in Chinese."""
    return _(": ")


def said_value(key: str, value) -> str:
    """One stored value in words: yes/no, nothing, a code's name, or the value."""
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if value is None or value == "None":
        return "—"
    if isinstance(value, list):
        return " – ".join(said_value(key, item) for item in value)
    if key in CODE_KEYS and isinstance(value, str):
        return str(CODE_NAMES[value]) if value in CODE_NAMES else _(value)
    return str(value)


def summary(state: str | None) -> str:
    """A before/after JSON state as ``name: value, ...`` in the reader's words (a text
    that is not JSON is shown as stored)."""
    if not state:
        return ""
    try:
        value = json.loads(state)
    except ValueError:
        return state
    if not isinstance(value, dict):
        return said_value("", value)
    pairs = (f"{FIELD_NAMES.get(k, k)}{colon()}{said_value(k, v)}" for k, v in value.items())
    return _("; ").join(pairs)


def target(text: str | None) -> str:
    """``statement:16`` as 结算单 #16."""
    if not text:
        return ""
    match = _TARGET.match(text)
    if match is None or match.group(1) not in TARGET_NAMES:
        return text
    said = f"{TARGET_NAMES[match.group(1)]} #{match.group(2)}"
    return f"{said}{colon()}{match.group(4)}" if match.group(4) else said


def detail(text: str | None) -> str:
    """An event's detail in words: a role and where (``organizer@2``), ``key=value``
    pairs, an activity or unit and a reason; any other text as stored (a name, a
    reason typed by a person)."""
    if not text:
        return ""
    role = _ROLE.match(text)
    if role:
        kind, number = role.group(2) or "unit", role.group(3)
        where = f"{TARGET_NAMES[kind]} #{number}"
        return _("%(role)s of %(target)s", role=_(role.group(1)), target=where)
    if _PAIRS.match(text):
        pairs = (pair.split("=", 1) for pair in text.split("; "))
        return _("; ").join(
            f"{TARGET_NAMES.get(key, FIELD_NAMES.get(key, key))}{colon()}{said_value(key, value)}"
            for key, value in pairs
        )
    if text.startswith("guardian="):
        return target(text.replace("=", ":", 1))
    return target(text)


def target_choices() -> list[tuple[str, str]]:
    """(code, name) of the kinds of target an event may have, for the search form."""
    kinds = ("unit", "attendance", "certificate", "hour_log", "merchant", "pending_credit",
             "statement", "transparency_checkpoint")  # fmt: skip
    return [(kind, str(TARGET_NAMES[kind])) for kind in kinds]


def csv_header(columns) -> list[str]:
    """The CSV's header row in the reader's words."""
    return [str(COLUMN_NAMES.get(column, column)) for column in columns]
