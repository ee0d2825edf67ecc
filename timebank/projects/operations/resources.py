"""Resources (资源清单): what partner organizations and members offer, with availability."""

from __future__ import annotations

from datetime import datetime

from timebank.core import access
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member
from timebank.projects.errors import InvalidResource
from timebank.projects.models import (
    AVAILABILITY_MAX,
    RESOURCE_CATEGORIES,
    TEXT_MAX,
    TITLE_MAX,
    Resource,
)
from timebank.projects.operations.organizations import is_contact
from timebank.units import operations as units


@use_case
def offer_resource(
    *,
    actor: Member,
    title: str,
    category: str,
    description: str = "",
    availability: str = "",
    contact: str | None = None,
    organization_id: int | None = None,
    unit_id: int | None = None,
    now: datetime | None = None,
) -> Resource:
    """Record a resource: a partner organization's (``organization_id``: by its contact,
    or an organizer of its unit), or else the actor's own. The unit defaults to the
    organization's, or the actor's home; a unit outside the actor's own line (home and
    above) needs an organizer of it.

    Raises InvalidResource, NotFound (unit, organization), Forbidden.
    """
    org = units.get_organization(organization_id) if organization_id is not None else None
    if org is not None and not is_contact(actor, org.id):
        access.authorize(actor, "resources.manage", Target(unit=org.unit_id))
    if unit_id is not None and not units.is_within(actor.home_unit_id, units.get_unit(unit_id).id):
        access.authorize(actor, "resources.manage", Target(unit=unit_id))
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title or len(title) > TITLE_MAX:
        errors["title"] = [f"1 to {TITLE_MAX} characters."]
    if category not in RESOURCE_CATEGORIES:
        errors["category"] = ["Unknown category."]
    if len(description or "") > TEXT_MAX:
        errors["description"] = [f"At most {TEXT_MAX} characters."]
    if len(availability or "") > AVAILABILITY_MAX:
        errors["availability"] = [f"At most {AVAILABILITY_MAX} characters."]
    if contact is not None and len(contact) > 120:
        errors["contact"] = ["At most 120 characters."]
    if errors:
        raise InvalidResource(
            "The resource has invalid fields: %(fields)s.",
            errors=errors,
            params={"fields": ", ".join(sorted(errors))},
        )
    if unit_id is None:
        unit_id = org.unit_id if org is not None else actor.home_unit_id
    units.get_unit(unit_id)
    resource = Resource(
        unit_id=unit_id,
        organization_id=org.id if org is not None else None,
        offered_by_id=None if org is not None else actor.id,
        title=title,
        category=category,
        description=(description or "").strip(),
        availability=(availability or "").strip(),
        contact=(contact or "").strip() or None,
        status="available",
        created_by_id=actor.id,
        created_at=now or utcnow(),
    )
    db.session.add(resource)
    db.session.flush()
    return resource


@use_case
def withdraw_resource(
    resource: Resource, *, actor: Member | None = None, now: datetime | None = None
) -> Resource:
    """No longer on offer; idempotent. Projects that used it keep the link. By whoever
    offered it (the member, the organization's contact) or an organizer of its unit
    (Forbidden for anyone else; ``actor`` None: the system)."""
    if actor is not None:
        mine = resource.offered_by_id == actor.id or (
            resource.organization_id is not None and is_contact(actor, resource.organization_id)
        )
        if not mine:
            access.authorize(actor, "resources.manage", Target(unit=resource.unit_id))
    if resource.status != "withdrawn":
        resource.status = "withdrawn"
        resource.withdrawn_at = now or utcnow()
        db.session.flush()
    return resource
