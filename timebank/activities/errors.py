"""Errors of activities and check-in: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import Conflict, InvalidInput, NotFound


class CheckinRejected(Conflict):
    """A scan was refused; the subclass's ``code`` says exactly why."""

    code = "checkin_rejected"


class TokenInvalid(CheckinRejected):
    code = "token_invalid"
    status = 400


class TokenExpired(CheckinRejected):
    code = "token_expired"


class TokenWrongActivity(CheckinRejected):
    code = "token_wrong_activity"


class OutsideWindow(CheckinRejected):
    code = "outside_window"


class ActivityCancelled(CheckinRejected):
    code = "activity_cancelled"


class NotPartyMember(CheckinRejected):
    code = "not_party_member"
    status = 403


class SignupRequired(CheckinRejected):
    code = "not_signed_up"
    status = 403


class ActivityNotFound(NotFound):
    code = "activity_not_found"


class AttendanceNotFound(NotFound):
    code = "attendance_not_found"


class NotSignedUp(NotFound):
    code = "not_signed_up"


class ActivityFull(Conflict):
    code = "activity_full"


class ActivityOver(Conflict):
    code = "activity_over"


class ActivityNotOver(Conflict):
    code = "activity_not_over"


class AlreadyApproved(Conflict):
    code = "already_approved"


class AttendanceRejected(Conflict):
    code = "attendance_rejected"


class CheckoutMissing(Conflict):
    code = "checkout_missing"


class InvalidActivity(InvalidInput):
    code = "invalid_activity"


class MemberAmbiguous(InvalidInput):
    code = "member_ambiguous"


class NothingSelected(InvalidInput):
    code = "nothing_selected"


class ActivityLocked(Conflict):
    """A change that would alter hours or points already earned at the activity."""

    code = "activity_locked"
