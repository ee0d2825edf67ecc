"""The permission registry: every action, the roles that may do it, and over what.

Every API operation and every page declares one action with ``@requires(...)``; a test
walks ``app.url_map`` and fails for an endpoint without one. The check runs in the
decorator, the same for the API and for pages, so both answer the same question the
same way:

1. no caller for an action that needs one: 401 (pages redirect to the login page);
2. the target named by the URL does not exist: 404;
3. the caller's roles do not cover the target: 403 ``forbidden``. An object out of the
   caller's scope is 403, not 404: organizers account for what exists in their street,
   and ids are not secrets worth hiding at the price of confusing answers.

Scopes: ``PUBLIC`` (no login), ``MEMBER`` (any active member), ``WARD`` (a member, or a
guardian acting for them), ``UNIT`` (a role granted on the unit or an ancestor of it),
``MERCHANT`` (a role granted on that one merchant), ``GLOBAL`` (a role anywhere: admins).

Core knows no domain: the people module plugs in the queries (who holds which role
where, who guards whom, who is calling) through ``install(backend)``.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol

from flask import g, has_request_context, request

from timebank.core.errors import AuthenticationRequired, Forbidden
from timebank.core.uow import reads_before_writes


class Scope(enum.StrEnum):
    PUBLIC = "public"
    MEMBER = "member"
    WARD = "ward"
    UNIT = "unit"
    MERCHANT = "merchant"
    GLOBAL = "global"


@dataclass(frozen=True)
class Action:
    """One thing a person may do. ``roles`` must cover the target (UNIT, MERCHANT) or
    exist anywhere (GLOBAL). ``self_ok``: also allowed on oneself (and one's wards for
    ``ward_ok``), whatever the roles; ``home_line``: also allowed on the units above
    one's home (one's street, community and grid)."""

    name: str
    scope: Scope
    roles: frozenset[str] = frozenset()
    self_ok: bool = False
    ward_ok: bool = False
    home_line: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Target:
    """What an action is done to: a unit subtree, a merchant, a member (or several)."""

    unit: int | None = None
    merchant: int | None = None
    member: int | None = None


ORGANIZERS = frozenset({"organizer", "admin"})
ADMINS = frozenset({"admin"})

ACTIONS: dict[str, Action] = {}


def _declare(name: str, scope: Scope, roles=frozenset(), doc: str = "", **flags) -> None:
    ACTIONS[name] = Action(name=name, scope=scope, roles=frozenset(roles), doc=doc, **flags)


# ---------------------------------------------------------------- the registry
P, M, W, U, S, G = Scope.PUBLIC, Scope.MEMBER, Scope.WARD, Scope.UNIT, Scope.MERCHANT, Scope.GLOBAL

_declare("site.public", P, doc="pages and calls anyone may open: login, join, language")
_declare("site.health", P, doc="readiness probe for load balancers")
_declare("me.view", W, doc="one's own profile, roles, home page")
_declare("me.session", M, doc="revoke one's own token")
_declare("me.ledger", W, doc="one's balances and statement")
_declare("me.activities", W, doc="one's attendance, sign-ups and badge")
_declare("units.list", M, doc="the units one may see: one's line, or the subtrees one organizes")
_declare("units.view", U, ORGANIZERS, home_line=True, doc="one unit: in one's scope or above home")
_declare("units.tree", U, ORGANIZERS, doc="the tree and partner organizations of a subtree")
_declare("units.create", U, ORGANIZERS, doc="a unit under a parent in scope")
_declare("units.create_root", G, ADMINS, doc="a new street office (a root unit)")
_declare("organizations.manage", U, ORGANIZERS, doc="attach partner organizations (共建单位)")
_declare("members.view", U, ORGANIZERS, self_ok=True, doc="people of a subtree")
_declare("members.create", U, ORGANIZERS, doc="add a member directly")
_declare("members.approve", U, ORGANIZERS, doc="approve or turn down a registration")
_declare("members.import", U, ORGANIZERS, doc="CSV/XLSX roster import")
_declare("guardians.manage", U, ORGANIZERS, doc="ask that a guardian may act for a member")
_declare("guardians.decide", U, ORGANIZERS, self_ok=True, doc="confirm or decline a guardian")
_declare("roles.grant", U, ORGANIZERS, doc="make a member a volunteer of a unit")
_declare("roles.grant_any", U, ADMINS, doc="grant any role: organizer, merchant staff, admin")
_declare("party.manage", U, ORGANIZERS, self_ok=True, ward_ok=True, doc="party data, 双报到")
_declare("party.report", U, ORGANIZERS, doc="party members' dual report and service")
_declare("join_links.manage", U, ORGANIZERS, doc="a community's join link and poster")
_declare("ledger.award", U, ORGANIZERS, doc="request an award (a second organizer approves)")
_declare("ledger.correct", U, ORGANIZERS, doc="correct a transfer by a linked transfer")
_declare("ledger.approve", U, ORGANIZERS, doc="the four-eyes queue")
_declare("ledger.transfers", W, doc="POST /transfers: checked as ledger.award, .correct or .donate")
_declare("ledger.donate", W, doc="give one's own hours to a member or a community pool")
_declare("ledger.checkpoints", M, doc="read the published checkpoints")
_declare("ledger.verify", G, ADMINS, doc="recompute every chain; record checkpoints")
_declare("audit.view", G, ADMINS, doc="search and export the audit trail")
_declare("activities.view", M, doc="activities are open to every member: walk-ins welcome")
_declare("activities.join", W, doc="sign up, withdraw, check in and out")
_declare("activities.manage", U, ORGANIZERS, doc="publish, cancel, run the kiosk, badges")
_declare("attendance.approve", U, ORGANIZERS, doc="review and approve attendance")
# ---- projects: the three lists (needs, resources, service projects), claims, hour logs
_declare("needs.view", M, doc="the needs list; contact details only to those who handle a need")
_declare("needs.file", W, doc="file a need or a small wish for oneself (or one's ward)")
_declare(
    "needs.file_for",
    U,
    ORGANIZERS,
    self_ok=True,
    ward_ok=True,
    doc="file a need for a named resident: their guardian, or a grid worker over their home",
)
_declare("needs.manage", U, ORGANIZERS, doc="accept needs into projects, merge or decline them")
_declare(
    "needs.confirm",
    U,
    ORGANIZERS,
    self_ok=True,
    ward_ok=True,
    doc="confirm and rate a resolved need: the resident, their guardian, or the grid worker",
)
_declare("wishes.take", W, doc="take a small wish (微心愿) to fulfil it, or give it back")
_declare("resources.view", M, doc="the resources list")
_declare("resources.offer", M, doc="offer one's own resource (an organization's: its contact)")
_declare("resources.manage", U, ORGANIZERS, doc="record and withdraw resources of a subtree")
_declare("projects.view", M, doc="the projects list: drafts only to their organizers")
_declare("projects.manage", U, ORGANIZERS, doc="publish, start, finish, verify, cancel projects")
_declare("projects.claim", W, doc="claim or withdraw a place (for an organization: its contact)")
_declare("projects.assign", U, ORGANIZERS, doc="assign a member to a project directly (派单)")
_declare("projects.answer", W, doc="accept or decline one's own assignment (or one's ward's)")
_declare("me.projects", W, doc="one's places, assignments and hour logs")
_declare("organizations.staff", U, ORGANIZERS, doc="name the contacts and people of a partner")
_declare("hour_logs.log", W, doc="report one's hours (a contact: for the people it named)")
_declare(
    "hour_logs.view",
    U,
    ORGANIZERS,
    self_ok=True,
    ward_ok=True,
    doc="one hour log and its photo: the member who served, or organizers in scope",
)
_declare("hour_logs.approve", U, ORGANIZERS, doc="the approval queue: approve or reject hours")
# ---- end of projects
# -- inbox and scheduled jobs (issue 10)
_declare("me.inbox", M, self_ok=True, doc="one's own notifications: list, mark read")
_declare("jobs.view", G, ADMINS, doc="scheduled jobs, their recorded runs and the lease")
_declare("jobs.run", G, ADMINS, doc="run a scheduled job now")
_declare("alerts.resolve", G, ADMINS, doc="resolve an alert shown on admins' home page")
# ---- merchants (timebank/merchants): shops, offers, redemption at the counter, settlement
STAFF = frozenset({"merchant_staff"})
_declare("merchants.view", M, doc="approved shops near one; any shop and its offers by id")
_declare("merchants.apply", M, doc="apply for one's shop in a unit; an organizer approves it")
_declare(
    "merchants.manage",
    U,
    ORGANIZERS,
    self_ok=True,
    doc="the shop's owner (the member acted on) or its unit's organizers: profile, offers, staff",
)
_declare("merchants.approve", U, ORGANIZERS, doc="approve, reject, suspend, reinstate a shop")
_declare("merchants.oversee", U, ORGANIZERS, doc="every shop and offer of a subtree")
_declare(
    "merchants.statements",
    U,
    ORGANIZERS,
    self_ok=True,
    doc="a shop's statements: its owner or its unit's organizers",
)
_declare("merchants.settle", U, ORGANIZERS, doc="build statements and mark them paid")
_declare("me.redeem", W, doc="one's redeem code, the offers for one, one's redemptions")
_declare(
    "redemptions.counter",
    S,
    STAFF,
    doc="staff of that one shop: scan, hold, confirm, void; its counter and dashboard",
)
_declare(
    "redemptions.refund", S, STAFF, doc="staff of that one shop: refund a confirmed redemption"
)
_declare("me.invitations", M, doc="one's invitations to be a shop's staff")
_declare(
    "staff_invitations.answer",
    U,
    frozenset(),
    self_ok=True,
    doc="accept or decline an invitation to be a shop's staff: the member invited, nobody else",
)
# ---- usability (issue 11): members' records kept on pages
_declare("members.manage", U, ORGANIZERS, doc="correct, suspend, reinstate or move a member")
_declare("members.remove", U, ORGANIZERS, doc="remove a member: pseudonymise, keep the ledger")
_declare("me.export", W, doc="download everything kept about oneself, as JSON")
_declare("units.place", U, ORGANIZERS, doc="a grid's or community's saved meeting place")
# ---- end of usability
# ---- reports (timebank/reports): roll-ups, honour roll, dual-report quarter, certificates
_declare("reports.view", U, ORGANIZERS, doc="a subtree's roll-ups, charts and exports")
_declare(
    "reports.honour_roll",
    U,
    ORGANIZERS,
    home_line=True,
    doc="a unit's honour roll (光荣榜): its organizers, and its residents, as on a notice board",
)
_declare("me.party", W, doc="one's own dual-report quarter (双报到): where, what, what is due")
_declare("me.record", W, doc="one's service record and certificates; ask for a certificate")
_declare(
    "members.record",
    U,
    ORGANIZERS,
    self_ok=True,
    ward_ok=True,
    doc="a member's service record: the member, their guardian, organizers over their home",
)
_declare(
    "certificates.view",
    U,
    ORGANIZERS,
    self_ok=True,
    ward_ok=True,
    doc="one certificate and its signed file: its holder (or guardian), organizers over them",
)
_declare(
    "certificates.issue",
    U,
    ORGANIZERS,
    doc="issue, turn down or revoke certificates of the members of a subtree",
)
_declare(
    "reports.attendance_sheet",
    U,
    ORGANIZERS,
    doc="an activity's attendance sheet (who signed up, checked in and out, minutes "
    "credited): organizers over the activity's unit",
)
# ---- end of reports
# ---- transparency log (issue 23): public proofs, signing, street offices as witnesses
_declare(
    "transparency.view",
    P,
    doc="the transparency log, its proofs and the communities' notice boards: hashes and counts",
)
_declare("transparency.sign", G, ADMINS, doc="sign a checkpoint of each ledger's log now")
_declare(
    "transparency.witness",
    U,
    ORGANIZERS,
    doc="a street office's witness key and its cosignatures of checkpoints",
)
# ---- end of transparency log
del P, M, W, U, S, G


class AccessBackend(Protocol):
    """What the access check needs to know about people; installed by timebank.people."""

    def current_actor(self):
        """The logged-in member (API token or page session), or None."""

    def acting_for(self, actor):
        """The member a guardian acts for in this request (or ``actor``); may raise."""

    def roles_cover_unit(self, member_id: int, roles: frozenset[str], unit_id: int) -> bool:
        """A role in ``roles`` granted on ``unit_id`` or an ancestor of it."""

    def roles_cover_merchant(self, member_id: int, roles: frozenset[str], merchant_id: int) -> bool:
        """A role in ``roles`` granted on that one merchant."""

    def has_role(self, member_id: int, roles: frozenset[str]) -> bool:
        """A role in ``roles`` granted anywhere."""

    def role_roots(self, member_id: int, roles: frozenset[str]) -> list[int]:
        """The top units of the subtrees where a role in ``roles`` is granted."""

    def in_home_line(self, member, unit_id: int) -> bool:
        """``unit_id`` is the member's home unit or an ancestor of it."""

    def guards(self, guardian_id: int, member_id: int) -> bool:
        """``guardian_id`` is a registered guardian of ``member_id``."""

    def subtree_select(self, unit_id: int):
        """A SELECT of the ids of ``unit_id`` and every unit below it (a scope's reach)."""

    def wards(self, guardian_id: int) -> list[int]:
        """The members ``guardian_id`` acts for."""

    def record_on_behalf(self, actor, member, action: str) -> None:
        """Write down that ``actor`` did ``action`` for ``member`` (their guardian)."""


_backend: AccessBackend | None = None
#: kind of target -> the function that finds one by id (raising NotFound); modules that own
#: a kind register it, so others name a member or a unit without importing its module
_targets: dict[str, Callable[[int], Target]] = {}


def install(backend: AccessBackend) -> None:
    global _backend
    _backend = backend


def register_target(kind: str, find: Callable[[int], Target]) -> None:
    """Let any edge ask ``target_of(kind, id)``; ``find`` raises NotFound for a bad id."""
    _targets[kind] = find


def target_of(kind: str, object_id: int) -> Target:
    """What an action on the ``kind`` (e.g. "member", "unit") with this id is done to."""
    return _targets[kind](object_id)


def action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r}; declare it in core/access.py") from None


# ---------------------------------------------------------------- the questions


def may(actor, name: str, target: Target | None = None) -> bool:
    """May ``actor`` do action ``name`` to ``target``?"""
    act = action(name)
    if act.scope is Scope.PUBLIC:
        return True
    if actor is None or not actor.is_active:
        return False
    target = target or Target()
    if target.member is not None and (act.self_ok or act.scope is Scope.WARD):
        if target.member == actor.id:
            return True
        if (act.ward_ok or act.scope is Scope.WARD) and _backend.guards(actor.id, target.member):
            return True
    if act.scope in (Scope.MEMBER, Scope.WARD):
        return target.member is None
    if act.scope is Scope.GLOBAL:
        return _backend.has_role(actor.id, act.roles)
    if act.scope is Scope.MERCHANT:
        return target.merchant is not None and _backend.roles_cover_merchant(
            actor.id, act.roles, target.merchant
        )
    if target.unit is None:
        return False
    if _backend.roles_cover_unit(actor.id, act.roles, target.unit):
        return True
    return act.home_line and _backend.in_home_line(actor, target.unit)


def authorize(actor, name: str, target: Target | None = None) -> None:
    """Raise AuthenticationRequired without an actor, Forbidden unless ``may``."""
    if actor is None and action(name).scope is not Scope.PUBLIC:
        raise AuthenticationRequired()
    if not may(actor, name, target):
        raise Forbidden()
    if g:
        g.setdefault("access_checked", set()).add(name)


def authorize_anywhere(actor, name: str) -> None:
    """Raise Forbidden unless ``actor`` may do ``name`` somewhere (e.g. before showing the
    form that will name the unit)."""
    if actor is None:
        raise AuthenticationRequired()
    if not scope_roots(actor, name):
        raise Forbidden()
    g.setdefault("access_checked", set()).add(name)


def scope_roots(actor, name: str) -> list[int]:
    """Top units of the subtrees where ``actor`` may do ``name`` (maybe none)."""
    act = action(name)
    if actor is None or not actor.is_active or act.scope is not Scope.UNIT:
        return []
    return _backend.role_roots(actor.id, act.roles)


def subtree_select(unit_id: int):
    """A SELECT of ``unit_id`` and every unit below it: what a role on it covers."""
    return _backend.subtree_select(unit_id)


def wards_of(actor) -> list[int]:
    """Ids of the members ``actor`` may act for as their guardian."""
    return _backend.wards(actor.id)


def pays_self_or_ward(actor, member_id: int | None) -> bool:
    """``member_id`` is ``actor`` (a member or an id) or a member ``actor`` is the
    guardian of. One rule for every kind of credit and redemption: nobody decides what
    pays them or their ward (attendance, hour logs, manual credits, a counter's hold)."""
    if actor is None or member_id is None:
        return False
    actor_id = getattr(actor, "id", actor)
    return member_id == actor_id or _backend.guards(actor_id, member_id)


def is_official(member) -> bool:
    """``member`` holds an organizer's or an admin's role somewhere (acts in public)."""
    if member is None:
        return False
    return remembered(("official", member.id), lambda: _backend.has_role(member.id, ORGANIZERS))


def remember_official(member_id: int, official: bool) -> None:
    """What a query that read the member anyway said of ``is_official``: the answer that
    shows their name then asks the database nothing more (this request only)."""
    memo = request_memo()
    if memo is not None:
        memo[("official", member_id)] = official


def is_admin(actor) -> bool:
    return actor is not None and actor.is_active and _backend.has_role(actor.id, ADMINS)


def request_memo() -> dict | None:
    """This request's memo of what access asked the database (e.g. a member's grants);
    None outside a request (the CLI and jobs ask every time). Keyed by the request too:
    in tests one app context, and so one ``g``, may outlive many requests."""
    if not has_request_context():
        return None
    current = request._get_current_object()
    memo = g.get("access_memo")
    if memo is None or memo[0] is not current:
        memo = g.access_memo = (current, {})
    return memo[1]


def remembered(key: tuple, compute: Callable[[], object]):
    """``compute()``, asked once per request for each ``key`` (every time outside one)."""
    memo = request_memo()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget_memo() -> None:
    """Forget what this request read: call it after writing roles or guardianships
    with a bulk statement (flushed objects and rollbacks are noticed by themselves)."""
    if has_request_context() and g.get("access_memo") is not None:
        g.access_memo = None


# ---------------------------------------------------------------- the edge declaration


def current_actor():
    """The member this request's declaration authenticated (None on public endpoints)."""
    return g.get("actor")


def acting_member():
    """The member acted for: the caller, or the ward a guardian names."""
    return g.get("acting_member") or g.get("actor")


def acting_for_here(actor):
    """On a page open to every member (MEMBER scope), the ward a guardian names with
    ``?for=`` (or ``actor``), so the page can offer what the ward may do; raises like
    the WARD scope's check. Acting itself happens on WARD pages, which check again."""
    acting = _backend.acting_for(actor)
    g.acting_member = acting
    return acting


def requires(name: str, *, target: Callable[..., Target] | None = None):
    """Declare an endpoint's action and check it before the body runs.

    ``target`` maps the URL's arguments to what the action is done to (raising
    NotFound when it does not exist). Without one, an action scoped to units or
    merchants must be checked in the body with ``authorize``, once the target is known
    (e.g. a unit id in the request body); the declaration then verifies, after the
    body, that it was.
    """
    act = action(name)
    wanted = frozenset(inspect.signature(target).parameters) if target is not None else frozenset()

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.access_action = name
            if act.scope is not Scope.PUBLIC:
                # on SQLite the write lock waits for the body's first write
                with reads_before_writes():
                    _check(act, target, {k: kwargs[k] for k in wanted})
            g.access_passed = True
            result = view(*args, **kwargs)
            acting = g.get("acting_member")
            if acting is not None and acting is not g.actor and request.method != "GET":
                # every act on behalf of a ward is on record, and shown to the ward
                _backend.record_on_behalf(g.actor, acting, name)
            if act.scope in (Scope.UNIT, Scope.MERCHANT) and not g.get("access_checked"):
                raise RuntimeError(f"{request.endpoint} declared {name} but never checked it")
            return result

        wrapper.timebank_action = name
        _document(wrapper, act, target)
        return wrapper

    return decorate


def _check(act: Action, target: Callable[..., Target] | None, url_args: dict) -> None:
    """The declaration's check: a caller (401), the ward acted for, then the target the
    URL names (404) and the caller's scope over it (403)."""
    actor = _backend.current_actor()
    if actor is None:
        raise AuthenticationRequired()
    g.actor = actor
    if act.scope is Scope.WARD:
        g.acting_member = _backend.acting_for(actor)
    if target is not None:
        authorize(actor, act.name, target(**url_args))
    elif act.scope is Scope.GLOBAL:
        authorize(actor, act.name)


def _document(wrapper, act: Action, target) -> None:
    """Add the statuses this declaration can answer to the OpenAPI operation."""
    statuses = []
    if act.scope is not Scope.PUBLIC:
        statuses.append(HTTPStatus.UNAUTHORIZED)
    if act.scope in (Scope.UNIT, Scope.MERCHANT, Scope.GLOBAL, Scope.WARD) or act.self_ok:
        statuses.append(HTTPStatus.FORBIDDEN)
    if target is not None:
        statuses.append(HTTPStatus.NOT_FOUND)
    apidoc = wrapper.__dict__.setdefault("_apidoc", {})
    if act.scope is Scope.PUBLIC:
        apidoc.setdefault("manual_doc", {})["security"] = []  # no bearer token needed
    responses = apidoc.setdefault("response", {})
    for status in statuses:
        responses.setdefault("responses", {}).setdefault(int(status), []).append(status.name)
