"""Who is calling: bearer tokens for /api, Flask-Login sessions for pages.

A guardian acting for a member sends ``X-On-Behalf-Of: <member id>``; then
``acting_member()`` is the member and ``calling_member()`` the guardian, and both
are recorded on what they do.
"""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from timebank.core.errors import AuthenticationRequired
from timebank.core.schemas import MAX_ID
from timebank.extensions import db, login_manager
from timebank.people import operations as people
from timebank.people.errors import InvalidOnBehalfOf, TokenInvalid
from timebank.people.models import Member


@login_manager.user_loader
def load_user(member_id: str) -> Member | None:
    try:
        return db.session.get(Member, int(member_id))
    except (TypeError, ValueError):
        return None


def authenticate_api_request() -> None:
    """before_request for /api/: resolve the bearer token, if any, into g.api_member."""
    g.api_member = None
    g.api_token = None
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("Use 'Authorization: Bearer <token>'.")
    g.api_member, g.api_token = people.member_for_token(token.strip())


def calling_member() -> Member:
    """The authenticated caller; AuthenticationRequired if there is none."""
    member = g.get("api_member") if request.path.startswith("/api/") else None
    if member is None and not request.path.startswith("/api/") and current_user.is_authenticated:
        member = current_user._get_current_object()
    if member is None:
        raise AuthenticationRequired("Log in first: send a bearer token.")
    return member


def acting_member() -> tuple[Member, Member | None]:
    """(member acted for, guardian or None). Honors X-On-Behalf-Of for guardians."""
    caller = calling_member()
    raw = request.headers.get("X-On-Behalf-Of")
    if not raw:
        return caller, None
    # isascii: "²".isdigit() is True, but int("²") raises
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise InvalidOnBehalfOf("X-On-Behalf-Of must be a member id.")
    return people.guardian_may_act_for(caller, int(raw)), caller
