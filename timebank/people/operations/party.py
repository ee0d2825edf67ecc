"""Party members: party data and the dual report (双报到) to a community."""

from __future__ import annotations

from datetime import date, timedelta

from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.errors import IncompleteDualReport
from timebank.people.models import Member, PartyProfile
from timebank.people.operations.audit import record_audit
from timebank.units import operations as units


@use_case
def register_party(
    member: Member,
    *,
    branch: str,
    reported_unit_id: int | None = None,
    reported_on: date | None = None,
    workplace_org_id: int | None = None,
    workplace_name: str | None = None,
    actor: Member | None = None,
    on_behalf_of: Member | None = None,
) -> PartyProfile:
    """Record party data and (optionally) the dual report (双报到) of ``member``.

    Creates or updates the member's profile. Raises InvalidInput when a report date
    is given without a unit (or the reverse), or lies in the future.
    """
    branch = (branch or "").strip()
    if not branch:
        raise InvalidInput("The party branch is required.", errors={"branch": ["Required."]})
    if (reported_unit_id is None) != (reported_on is None):
        raise IncompleteDualReport(
            "A dual report needs both the community and the date.",
            errors={"reported_on": ["Give both or neither."]},
        )
    if reported_on is not None and reported_on > utcnow().date() + timedelta(days=1):
        raise InvalidInput(
            "The report date cannot be in the future.", errors={"reported_on": ["?"]}
        )
    if reported_unit_id is not None:
        units.get_unit(reported_unit_id)
    if workplace_org_id is not None:
        units.get_organization(workplace_org_id)
    profile = db.session.get(PartyProfile, member.id)
    if profile is None:
        profile = PartyProfile(member_id=member.id, branch=branch)
        db.session.add(profile)
    profile.branch = branch
    profile.workplace_org_id = workplace_org_id
    profile.workplace_name = (workplace_name or "").strip() or None
    profile.reported_unit_id = reported_unit_id
    profile.reported_on = reported_on
    db.session.flush()
    record_audit(
        "party.register",
        actor=actor,
        subject=member,
        on_behalf_of=on_behalf_of,
        detail=f"branch={branch}; reported={reported_on}",
    )
    return profile
