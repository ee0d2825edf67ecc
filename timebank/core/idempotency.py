"""Clients' idempotency keys, each in its caller's own namespace (as Stripe scopes keys to
an account): one member's first use of a key is never another member's replay or conflict.

The stored key is ``<source>:<caller id>:<client key>``, e.g. ``api:42:gift-1``, beside the
keys the service makes itself (``attendance:7``, ``hold:3``, ...), which never start with a
source and a number. Stored keys stay within 100 characters, so an operation may still
append a suffix (``:HOURS``, ``:pool``) inside the 120 the columns hold.
"""

from __future__ import annotations

import hashlib

#: the longest stored key; a longer client key is stored by its SHA-256
MAX_SCOPED_KEY = 100


def scoped_key(source: str, caller_id: int, key: str | None) -> str:
    """The client's ``key`` in the namespace of ``caller_id`` (a member's id), as stored.

    A blank key stays blank (``""``), so the operation still refuses it as missing.
    """
    key = (key or "").strip()
    if not key:
        return ""
    scoped = f"{source}:{caller_id}:{key}"
    if len(scoped) <= MAX_SCOPED_KEY:
        return scoped
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{source}:{caller_id}:sha256:{digest}"
