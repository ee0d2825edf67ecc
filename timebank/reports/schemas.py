"""Reports' API schemas: period arguments, roll-ups, the honour roll, the party quarter,
certificates. Hours are given in minutes, as everywhere in the API."""

from __future__ import annotations

import json

from marshmallow import fields, validate

from timebank.core.privacy import MemberName, shown_name
from timebank.core.schemas import Id, StrictSchema
from timebank.reports.models import ID_TYPES


class PeriodArgs(StrictSchema):
    """``period``: month, quarter, year or custom; ``at``: 2026-05, 2026Q2, 2026; custom
    takes ``from`` and ``to`` (local dates, inclusive). Bad ones are 422 ``invalid_period``,
    ``period_backwards`` or ``period_too_long``."""

    period = fields.String(load_default=None, validate=validate.Length(max=10))
    at = fields.String(load_default=None, validate=validate.Length(max=10))
    first = fields.String(data_key="from", load_default=None, validate=validate.Length(max=10))
    last = fields.String(data_key="to", load_default=None, validate=validate.Length(max=10))


class UnitPeriodArgs(PeriodArgs):
    unit_id = Id(strict=False, required=True)


class HonourArgs(UnitPeriodArgs):
    by = fields.String(load_default="hours", validate=validate.OneOf(("hours", "points")))
    manual = fields.Boolean(load_default=True, metadata={"description": "count manual awards"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PartyArgs(StrictSchema):
    unit_id = Id(strict=False, required=True)
    quarter = fields.String(load_default=None, validate=validate.Length(max=10))
    branch = fields.String(load_default=None, validate=validate.Length(max=120))


class QuarterArgs(StrictSchema):
    quarter = fields.String(load_default=None, validate=validate.Length(max=10))


class PeriodSchema(StrictSchema):
    kind = fields.String()
    key = fields.String()
    first = fields.Date()
    last = fields.Date()
    start = fields.DateTime(metadata={"description": "first moment covered (UTC)"})
    end = fields.DateTime(metadata={"description": "first moment no longer covered (UTC)"})


class FlowsSchema(StrictSchema):
    earned = fields.Integer()
    awarded = fields.Integer()
    redeemed = fields.Integer()
    expired = fields.Integer()
    corrected = fields.Integer()


class FiguresSchema(StrictSchema):
    hours_minutes = fields.Integer()
    points = fields.Integer()
    volunteers = fields.Integer()
    party_members = fields.Integer()
    activities = fields.Integer()
    attendances = fields.Integer()
    needs_filed = fields.Integer()
    needs_resolved = fields.Integer()
    projects_done = fields.Integer()
    redemptions = fields.Integer()


class PartSchema(StrictSchema):
    unit_id = fields.Integer(attribute="unit.id")
    name = fields.String(attribute="unit.name")
    kind = fields.String(attribute="unit.kind")
    own = fields.Boolean(metadata={"description": "the unit itself, not a unit below it"})
    figures = fields.Nested(FiguresSchema)


class ReportMonthSchema(StrictSchema):
    month = fields.Function(lambda m: f"{m.first:%Y-%m}")
    hours = fields.Nested(FlowsSchema)
    points = fields.Nested(FlowsSchema)


class ReportCategorySchema(StrictSchema):
    code = fields.String()
    name = fields.Function(lambda c: str(c.name))
    activities = fields.Integer()
    attendances = fields.Integer()
    minutes = fields.Integer()


class RollupSchema(StrictSchema):
    unit_id = fields.Integer(attribute="unit.id")
    unit_name = fields.String(attribute="unit.name")
    period = fields.Nested(PeriodSchema)
    hours = fields.Nested(FlowsSchema, metadata={"description": "minutes"})
    points = fields.Nested(FlowsSchema)
    totals = fields.Nested(FiguresSchema)
    residents_served = fields.Integer(attribute="evidence.residents_total")
    shops_taking_part = fields.Integer(attribute="evidence.shops_total")
    redeemed_points_at_shops = fields.Function(lambda r: sum(r.evidence.redeemed_points.values()))
    median_minutes_to_resolve = fields.Integer(
        attribute="evidence.median_resolve_minutes", allow_none=True
    )
    parts = fields.List(fields.Nested(PartSchema))
    months = fields.List(fields.Nested(ReportMonthSchema))
    categories = fields.List(fields.Nested(ReportCategorySchema))


class PlaceSchema(StrictSchema):
    rank = fields.Integer()
    member_id = fields.Integer(attribute="member.id")
    name = MemberName(attribute="member")
    lives_in = fields.String(attribute="member.home_unit.name")
    amount = fields.Integer(metadata={"description": "minutes (by hours) or points"})
    party = fields.Boolean()


class HonourRollSchema(StrictSchema):
    unit_id = fields.Integer()
    period = fields.Nested(PeriodSchema)
    by = fields.String()
    manual = fields.Boolean()
    places = fields.List(fields.Nested(PlaceSchema))


class PartyRowSchema(StrictSchema):
    member_id = fields.Integer(attribute="member.id")
    name = MemberName(attribute="member")
    branch = fields.String(attribute="member.party.branch")
    reported = fields.Boolean()
    reported_unit_id = fields.Integer(attribute="member.party.reported_unit_id", allow_none=True)
    reported_on = fields.Date(attribute="member.party.reported_on", allow_none=True)
    party_activities = fields.Integer()
    #: approved minutes at service activities (check-in)
    service_minutes = fields.Integer()
    #: approved minutes on service projects and small wishes (hour logs)
    project_minutes = fields.Integer()
    #: of those, small wishes
    wish_minutes = fields.Integer()
    #: both together
    served_minutes = fields.Integer()
    served = fields.Boolean()
    activities_due = fields.Integer()
    minutes_due = fields.Integer()


class PartyReportSchema(StrictSchema):
    unit_id = fields.Integer()
    period = fields.Nested(PeriodSchema)
    branch = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(PartyRowSchema))


class ServiceLineSchema(StrictSchema):
    kind = fields.String(metadata={"description": "party, service, project or wish"})
    title = fields.String()
    day = fields.Date()
    minutes = fields.Integer()
    status = fields.String()


class MyQuarterSchema(StrictSchema):
    period = fields.Nested(PeriodSchema)
    row = fields.Nested(PartyRowSchema)
    lines = fields.List(fields.Nested(ServiceLineSchema))


class CertificateRequestSchema(StrictSchema):
    """Ask for a certificate of one's own service."""

    first = fields.Date(data_key="from", required=True)
    last = fields.Date(data_key="to", required=True)
    minutes_wanted = fields.Integer(
        strict=True, load_default=None, validate=validate.Range(min=1, max=6_000_000)
    )
    purpose = fields.String(load_default="", validate=validate.Length(max=200))
    id_type = fields.String(load_default=None, validate=validate.OneOf(ID_TYPES))
    id_number = fields.String(load_default=None, validate=validate.Length(max=30))
    national_number = fields.String(load_default=None, validate=validate.Length(max=40))


class IssueSchema(StrictSchema):
    issuer_name = fields.String(load_default="", validate=validate.Length(max=120))
    responsible_person = fields.String(load_default="", validate=validate.Length(max=60))
    contact = fields.String(load_default="", validate=validate.Length(max=60))


class DirectIssueSchema(CertificateRequestSchema, IssueSchema):
    """An organizer over the member issues a certificate at once (no request first)."""


class CertificateReasonSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CertificateListArgs(StrictSchema):
    unit_id = Id(strict=False, load_default=None)
    status = fields.String(
        load_default=None, validate=validate.OneOf(("requested", "issued", "rejected", "revoked"))
    )


class CertificateSchema(StrictSchema):
    id = fields.Integer()
    serial = fields.String()
    status = fields.String()
    member_id = fields.Integer()
    period_first = fields.Date(data_key="from")
    period_last = fields.Date(data_key="to")
    purpose = fields.String()
    minutes_wanted = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    id_type = fields.String(allow_none=True)
    id_number = fields.String(attribute="id_number_masked", allow_none=True)
    volunteer_number = fields.String()
    minutes = fields.Integer(allow_none=True)
    manual_minutes = fields.Integer(allow_none=True)
    service = fields.Function(lambda c: json.loads(c.content or "[]"))
    issuer_name = fields.String(allow_none=True)
    responsible_person = fields.String(allow_none=True)
    handler_name = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    issued_on = fields.Date(allow_none=True)
    entry_watermark = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CertificateDetailSchema(CertificateSchema):
    signed = fields.Dict(
        allow_none=True,
        metadata={"description": "signed_content (the exact bytes), signature, key: offline"},
    )
    verify_url = fields.String(allow_none=True)
    seal = fields.Dict(
        allow_none=True,
        metadata={
            "description": "issued: its seal in the HOURS transparency log: status (sealed or "
            "awaiting), the signed checkpoint (C2SP note), tree_size, root_hash and each "
            "counted entry's inclusion proof (entry_id, entry_hash, leaf_index, path in "
            "base64); also inside signed"
        },
    )


class ListPreferenceSchema(StrictSchema):
    hidden = fields.Boolean(
        required=True, metadata={"description": "left off public lists (the honour roll)"}
    )


class RosterRowSchema(StrictSchema):
    member_id = fields.Function(lambda r: r.member.id)
    name = MemberName()
    home_unit_id = fields.Function(lambda r: r.member.home_unit_id)
    minutes = fields.Integer(metadata={"description": "verified HOURS credits in the period"})
    points = fields.Integer(metadata={"description": "verified POINTS credits in the period"})
    hours_balance = fields.Integer(metadata={"description": "HOURS balance now (minutes)"})
    points_balance = fields.Integer()


class VolunteerMonthsSchema(StrictSchema):
    months = fields.Function(lambda v: [f"{m:%Y-%m}" for m in v.months])
    rows = fields.Function(
        lambda v: [
            {
                "member_id": member.id,
                "name": shown_name(member),
                "home_unit_id": member.home_unit_id,
                "minutes": minutes,
                "total": sum(minutes),
            }
            for member, minutes in v.rows
        ],  # fmt: skip
        metadata={
            "description": "member_id, name (masked as the caller may see it), "
            "home_unit_id, minutes per month, total"
        },
    )
    month_totals = fields.List(fields.Integer())
    total = fields.Integer()


class SheetLineSchema(StrictSchema):
    member_id = fields.Function(lambda line: line.member.id)
    name = MemberName()
    signed_up_at = fields.DateTime(allow_none=True)
    signup_status = fields.String(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    checked_out_at = fields.DateTime(allow_none=True)
    auto_closed = fields.Boolean()
    attendance_status = fields.String(allow_none=True)
    credited_minutes = fields.Integer()
    manual = fields.Boolean()
