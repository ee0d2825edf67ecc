"""Errors of people: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import (
    AuthenticationRequired,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
)


class AccountNotActive(DomainError):
    code = "account_not_active"
    status = 403


class CodeExpired(InvalidInput):
    code = "code_expired"


class CodeInvalid(InvalidInput):
    code = "code_invalid"


class WrongCode(CodeInvalid):
    """A wrong guess: the unit of work keeps the counted attempt, or guessing is free."""

    commit_anyway = True


class GuardianExists(Conflict):
    code = "guardian_exists"


class GuardianSelf(InvalidInput):
    code = "guardian_self"


class IncompleteDualReport(InvalidInput):
    code = "incomplete_dual_report"


class InvalidCredentials(AuthenticationRequired):
    code = "invalid_credentials"


class InvalidOnBehalfOf(InvalidInput):
    code = "invalid_on_behalf_of"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


class JoinLinkInvalid(NotFound):
    code = "join_link_invalid"


class MemberNotFound(NotFound):
    code = "member_not_found"


class NotGuardian(Forbidden):
    code = "not_guardian"


class NotPending(Conflict):
    code = "not_pending"


class PhoneTaken(Conflict):
    code = "phone_taken"


class RosterColumns(InvalidInput):
    code = "roster_columns"


class RosterEmpty(InvalidInput):
    code = "roster_empty"


class RosterFormat(InvalidInput):
    code = "roster_format"


class RosterUnreadable(InvalidInput):
    code = "roster_unreadable"


class TokenAccountNotActive(AuthenticationRequired):
    code = "account_not_active"


class TokenExpired(AuthenticationRequired):
    code = "token_expired"


class TokenInvalid(AuthenticationRequired):
    code = "token_invalid"


class TokenRevoked(AuthenticationRequired):
    code = "token_revoked"


class WeakPassword(InvalidInput):
    code = "weak_password"


class JoinLinkMissing(NotFound):
    code = "join_link_missing"


class GuardianshipNotFound(NotFound):
    code = "guardianship_not_found"


class GuardianNotPending(Conflict):
    code = "guardianship_decided"


class MemberNotActive(Conflict):
    code = "member_not_active"


class MemberNotSuspended(Conflict):
    code = "member_not_suspended"


class HomeOutsideJoinLink(InvalidInput):
    code = "home_outside_join_link"


class MemberRemoved(Conflict):
    code = "member_removed"


class CannotRemoveSelf(Conflict):
    code = "cannot_remove_self"
