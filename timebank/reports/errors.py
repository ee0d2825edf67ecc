"""What reports refuse, each with a stable code."""

from __future__ import annotations

from timebank.core.errors import N_, Conflict, DomainError, InvalidInput, NotFound


class InvalidPeriod(InvalidInput):
    code = "invalid_period"
    default_message = N_("That period is not known: give a month, a quarter, a year or two dates.")


class PeriodTooLong(InvalidInput):
    code = "period_too_long"
    default_message = N_("A report covers at most ten years.")


class PeriodBackwards(InvalidInput):
    code = "period_backwards"
    default_message = N_("The period ends before it starts.")


class NotEnoughHours(InvalidInput):
    code = "not_enough_hours"
    default_message = N_("There are not that many verified hours in that period.")


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    default_message = N_("No certificate has that serial number.")


class CertificateRevoked(DomainError):
    """A revoked certificate: 410 Gone, with the reason."""

    code = "certificate_revoked"
    status = 410
    default_message = N_("This certificate was revoked: %(reason)s")


class CertificateDecided(Conflict):
    code = "certificate_decided"
    default_message = N_("This certificate was already decided; nothing changed.")
