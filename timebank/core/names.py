"""Names of things another module owns, for pages that may not import that module.

The ledger shows members' names and activities' titles on its pages, but imports no
people or activities: the module that owns a kind registers a function that names many
at once (``register_names("member", ...)``), and a page asks ``names_of("member", ids)``.
An id nobody knows is left out of the answer; the page says so in its own words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

#: kind -> a function from ids to {id: name}, one query for all of them
_namers: dict[str, Callable[[list[int]], dict[int, str]]] = {}


def register_names(kind: str, name_many: Callable[[list[int]], dict[int, str]]) -> None:
    """Let any page ask ``names_of(kind, ids)``."""
    _namers[kind] = name_many


def names_of(kind: str, ids: Iterable[int | None]) -> dict[int, str]:
    """``{id: name}`` for the ids of ``kind`` that exist (None and unknown kinds: none)."""
    wanted = sorted({i for i in ids if i is not None})
    name_many = _namers.get(kind)
    if not wanted or name_many is None:
        return {}
    return name_many(wanted)


#: kind -> a function from one value to what it finds (e.g. a phone number to a member id)
_lookups: dict[str, Callable] = {}


def register_lookup(kind: str, find: Callable) -> None:
    """Let any page ask ``lookup(kind, value)``."""
    _lookups[kind] = find


def lookup(kind: str, value):
    """What the owner of ``kind`` finds for ``value`` (None when nothing is found)."""
    return _lookups[kind](value)
