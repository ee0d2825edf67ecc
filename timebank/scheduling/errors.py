"""Errors of the scheduler and its jobs: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import Conflict, InvalidInput, NotFound


class JobNotFound(NotFound):
    code = "job_not_found"


class AlertNotFound(NotFound):
    code = "alert_not_found"


class InvalidSchedule(InvalidInput):
    code = "invalid_schedule"


class LeaseLost(Conflict):
    """This process no longer holds the scheduler's lease: it must not run a job."""

    code = "lease_lost"
