"""Errors of the three lists: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class NeedNotFound(NotFound):
    code = "need_not_found"


class ResourceNotFound(NotFound):
    code = "resource_not_found"


class ProjectNotFound(NotFound):
    code = "project_not_found"


class ClaimNotFound(NotFound):
    code = "claim_not_found"


class HourLogNotFound(NotFound):
    code = "hour_log_not_found"


class PhotoNotFound(NotFound):
    code = "photo_not_found"


class IllegalTransition(Conflict):
    """A state change the state machine does not allow (e.g. draft → verified)."""

    code = "illegal_transition"
    #: the names the states go by on pages: project_status or need_status
    state_names = "project_status"

    def localized(self) -> str:
        """The message with the states named in the reader's language."""
        from flask_babel import gettext

        from timebank.projects.names import NAMES

        names = NAMES[self.state_names]
        params = {
            key: str(names.get(value, value)) if key in ("from", "to") else value
            for key, value in self.params.items()
        }
        return gettext(self.template, **params)


class InvalidNeed(InvalidInput):
    code = "invalid_need"


class InvalidResource(InvalidInput):
    code = "invalid_resource"


class InvalidProject(InvalidInput):
    code = "invalid_project"


class InvalidHourLog(InvalidInput):
    code = "invalid_hour_log"


class InvalidPhoto(InvalidInput):
    code = "invalid_photo"


class PhotoTooLarge(InvalidInput):
    code = "photo_too_large"
    status = 413


class ReasonRequired(InvalidInput):
    code = "reason_required"


class NotAWish(Conflict):
    code = "not_a_wish"


class WishTaken(Conflict):
    code = "wish_taken"


class OwnWish(Forbidden):
    """A resident takes their own small wish, or their guardian does."""

    code = "own_wish"


class NotResolved(Conflict):
    code = "need_not_resolved"


class AlreadyConfirmed(Conflict):
    code = "already_confirmed"


class ProjectNotOpen(Conflict):
    code = "project_not_open"


class ProjectFull(Conflict):
    code = "project_full"


class ClaimsClosed(Conflict):
    code = "claims_closed"


class AlreadyServing(Conflict):
    code = "already_serving"


class AssignmentNotPending(Conflict):
    code = "assignment_not_pending"


class ProjectStarted(Conflict):
    """A place can be withdrawn only before the project starts."""

    code = "project_started"


class NotServing(Forbidden):
    """Hours are reported only by (or for) members who hold a place on the project."""

    code = "not_serving"


class NotOrganizationContact(Forbidden):
    code = "not_organization_contact"


class NotOrganizationMember(InvalidInput):
    code = "not_organization_member"


class ProjectNotRunning(Conflict):
    code = "project_not_running"


class OutsideSchedule(InvalidInput):
    code = "outside_schedule"


class OverSchedule(InvalidInput):
    """More minutes for a day than the project's schedule has."""

    code = "over_schedule"


class HourLogsPending(Conflict):
    code = "hour_logs_pending"


class HourLogDecided(Conflict):
    code = "hour_log_decided"


class NothingSelected(InvalidInput):
    code = "nothing_selected"
