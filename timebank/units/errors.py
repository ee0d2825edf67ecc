"""Errors of units: each names its stable code and HTTP status."""

from __future__ import annotations

from timebank.core.errors import Conflict, InvalidInput, NotFound


class OrganizationExists(Conflict):
    code = "organization_exists"


class OrganizationNotFound(NotFound):
    code = "organization_not_found"


class UnitExists(Conflict):
    code = "unit_exists"


class UnitNotFound(NotFound):
    code = "unit_not_found"


class UnitKindNotAllowed(InvalidInput):
    code = "unit_kind_not_allowed"
