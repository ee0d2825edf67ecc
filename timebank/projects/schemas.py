"""API schemas of the three lists: fields whitelisted, ids and server-set fields dump_only,
every response field that can be null says so."""

from __future__ import annotations

from datetime import date

from marshmallow import fields, validate

from timebank.core.privacy import MemberName
from timebank.core.schemas import Id, PageArgs, RefusalSchema, StrictSchema
from timebank.projects import operations as projects
from timebank.projects.models import (
    AVAILABILITY_MAX,
    CATEGORIES,
    CATEGORY_NAMES,
    DAILY_MINUTES,
    HOUR_LOG_STATUSES,
    LOG_MINUTES,
    NEED_STATUSES,
    ORGANIZATION_ROLES,
    PLACES,
    POINTS_PER_HOUR,
    PROJECT_STATUSES,
    RATING,
    REASON_MAX,
    RESOURCE_CATEGORIES,
    RESOURCE_CATEGORY_NAMES,
    RESOURCE_STATUSES,
    SKILLS_MAX,
    TEXT_MAX,
    TITLE_MAX,
    URGENCIES,
)
from timebank.projects.reasons import event_reason

#: a list of ids in a body (the needs a project answers, the resources it uses)
_ID_LIST = fields.List(Id(), validate=validate.Length(max=50))
ID_LIST = {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 50}
#: days a request may name: the edges of date's range overflow when turned into UTC
DAYS = validate.Range(min=date(1900, 1, 1), max=date(9998, 12, 31))


def Title(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=validate.Length(min=1, max=TITLE_MAX), **kwargs)


def Text(limit: int = TEXT_MAX, **kwargs) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(max=limit), **kwargs)


def Reason(**kwargs) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=REASON_MAX), **kwargs)


def Name(attribute: str) -> fields.String:  # noqa: N802
    return fields.String(attribute=attribute, dump_only=True, allow_none=True)


class ListCategorySchema(StrictSchema):
    code = fields.String()
    name = fields.String()


class CategoriesSchema(StrictSchema):
    #: also the categories of projects
    needs = fields.List(fields.Nested(ListCategorySchema))
    resources = fields.List(fields.Nested(ListCategorySchema))


# ---------------------------------------------------------------- needs


class NeedSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    unit_id = Id(load_default=None, allow_none=True)
    unit_name = Name("unit.name")
    #: the resident the need is for (default: the caller, or the ward acted for)
    resident_id = Id(load_default=None, allow_none=True)
    resident_name = Name("resident.name")
    filed_by_id = fields.Integer(dump_only=True)
    filed_by_name = Name("filed_by.name")
    filed_on_behalf = fields.Boolean(dump_only=True)
    is_wish = fields.Boolean(load_default=False)
    title = Title(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    category_name = fields.Function(lambda n: str(CATEGORY_NAMES[n.category]), dump_only=True)
    description = Text(load_default="")
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    #: shown only to those who handle the need; null for everyone else
    contact_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=60)
    )
    contact_phone = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=20)
    )
    status = fields.String(dump_only=True)
    decline_reason = fields.String(dump_only=True, allow_none=True)
    merged_into_id = fields.Integer(dump_only=True, allow_none=True)
    taker_id = fields.Integer(dump_only=True, allow_none=True)
    project_ids = fields.Function(lambda n: [p.id for p in n.projects], dump_only=True)
    resolved_at = fields.DateTime(dump_only=True, allow_none=True)
    rating = fields.Integer(dump_only=True, allow_none=True)
    feedback = fields.String(dump_only=True, allow_none=True)
    confirmed_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class NeedEventSchema(StrictSchema):
    kind = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = Name("actor.name")
    project_id = fields.Integer(allow_none=True)
    reason = fields.Function(lambda e: event_reason(e) or None, dump_only=True)  # said
    created_at = fields.DateTime()


class NeedDetailSchema(NeedSchema):
    history = fields.List(fields.Nested(NeedEventSchema), dump_only=True)


class ListArgs(PageArgs):
    unit_id = Id(strict=False)  # a query string carries text
    category = fields.String(validate=validate.Length(max=30))


class NeedListArgs(ListArgs):
    status = fields.String(validate=validate.OneOf(NEED_STATUSES))
    wish = fields.Boolean()


class NeedPageSchema(StrictSchema):
    items = fields.List(fields.Nested(NeedSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class ReasonSchema(StrictSchema):
    reason = Reason(required=True)


class MergeSchema(StrictSchema):
    into_id = Id(required=True)
    reason = Reason(load_default=None, allow_none=True)


class AcceptNeedSchema(StrictSchema):
    project_id = Id(required=True)


class ConfirmSchema(StrictSchema):
    rating = fields.Integer(strict=True, required=True, validate=RATING.schema())
    feedback = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=REASON_MAX)
    )


# ---------------------------------------------------------------- resources


class ResourceSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    unit_id = Id(load_default=None, allow_none=True)
    unit_name = Name("unit.name")
    #: a partner organization's offer (its contact, or an organizer); else the caller's own
    organization_id = Id(load_default=None, allow_none=True)
    offered_by_id = fields.Integer(dump_only=True, allow_none=True)
    provider_name = fields.String(dump_only=True)
    title = Title(required=True)
    category = fields.String(required=True, validate=validate.OneOf(RESOURCE_CATEGORIES))
    category_name = fields.Function(
        lambda r: str(RESOURCE_CATEGORY_NAMES[r.category]), dump_only=True
    )
    description = Text(load_default="")
    availability = Text(AVAILABILITY_MAX, load_default="")
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    withdrawn_at = fields.DateTime(dump_only=True, allow_none=True)


class ResourceListArgs(ListArgs):
    status = fields.String(validate=validate.OneOf(RESOURCE_STATUSES))


class ResourcePageSchema(StrictSchema):
    items = fields.List(fields.Nested(ResourceSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


# ---------------------------------------------------------------- projects


class ProjectSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    unit_id = Id(required=True)
    unit_name = Name("unit.name")
    title = Title(required=True)
    description = Text(load_default="")
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    category_name = fields.Function(lambda p: str(CATEGORY_NAMES[p.category]), dump_only=True)
    places = fields.Integer(strict=True, required=True, validate=PLACES.schema())
    places_taken = fields.Function(lambda p: projects.places_taken(p.id), dump_only=True)
    skills = Text(SKILLS_MAX, load_default="")
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    #: claims close then (default: the start)
    deadline = fields.AwareDateTime(load_default=None)
    #: the most minutes a member logs for a day (default: the schedule, up to a day)
    daily_minutes = fields.Integer(strict=True, load_default=None, validate=DAILY_MINUTES.schema())
    schedule_note = Text(SKILLS_MAX, load_default="")
    points_per_hour = fields.Integer(strict=True, load_default=0, validate=POINTS_PER_HOUR.schema())
    need_ids = fields.Method("_need_ids", "_load_ids", load_default=list, metadata=ID_LIST)
    resource_ids = fields.Method("_resource_ids", "_load_ids", load_default=list, metadata=ID_LIST)
    #: open it for claims at once (default: a draft)
    publish = fields.Boolean(load_default=False, load_only=True)
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    def _need_ids(self, project) -> list[int]:
        return [n.id for n in project.needs]

    def _resource_ids(self, project) -> list[int]:
        return [r.id for r in project.resources]

    def _load_ids(self, value) -> list[int]:
        return _ID_LIST.deserialize(value)


class ProjectListArgs(ListArgs):
    status = fields.String(validate=validate.OneOf(PROJECT_STATUSES))


class ProjectPageSchema(StrictSchema):
    items = fields.List(fields.Nested(ProjectSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class StatusChangeSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(projects.MANUAL_PROJECT_STATES))
    reason = Reason(load_default=None, allow_none=True)


class ProjectEventSchema(StrictSchema):
    kind = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = MemberName("actor", allow_none=True)  # fellow volunteers see 张*
    member_id = fields.Integer(allow_none=True)
    member_name = MemberName(allow_none=True)
    reason = fields.Function(lambda e: event_reason(e) or None, dump_only=True)  # said
    created_at = fields.DateTime()


class ClaimSchema(StrictSchema):
    id = fields.Integer()
    project_id = fields.Integer()
    project_title = Name("project.title")
    member_id = fields.Integer()
    member_name = MemberName(known_by="created_by_id")  # fellow volunteers see 张*
    kind = fields.String()
    organization_id = fields.Integer(allow_none=True)
    organization_name = Name("organization.name")
    status = fields.String()
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class ClaimRequestSchema(StrictSchema):
    #: claim for this partner organization (its contact only), naming who serves
    organization_id = Id(load_default=None, allow_none=True)
    member_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=PLACES.high))


class WithdrawSchema(StrictSchema):
    #: a contact withdraws one of the people its organization named
    member_id = Id(load_default=None, allow_none=True)
    reason = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=REASON_MAX)
    )


class AssignSchema(StrictSchema):
    member_id = Id(required=True)


# ---------------------------------------------------------------- hour logs


class HourLogSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    project_id = Id(load_default=None, allow_none=True)
    #: a small wish the member took (instead of a project)
    need_id = Id(load_default=None, allow_none=True)
    subject_title = fields.String(dump_only=True)
    #: a contact reports for one of the people its organization named (default: the caller)
    member_id = Id(load_default=None, allow_none=True)
    member_name = Name("member.name")
    logged_by_id = fields.Integer(dump_only=True)
    organization_id = fields.Integer(dump_only=True, allow_none=True)
    served_on = fields.Date(required=True, validate=DAYS)
    minutes = fields.Integer(strict=True, required=True, validate=LOG_MINUTES.schema())
    description = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))
    has_photo = fields.Function(lambda log: log.photo_name is not None, dump_only=True)
    photo_type = fields.String(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True)
    credited_minutes = fields.Integer(dump_only=True, allow_none=True)
    credited_points = fields.Integer(dump_only=True, allow_none=True)
    reject_reason = fields.String(dump_only=True, allow_none=True)
    decided_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class PhotoFileSchema(StrictSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class HourLogQueueArgs(PageArgs):
    status = fields.String(load_default="pending", validate=validate.OneOf(HOUR_LOG_STATUSES))


class HourLogPageSchema(StrictSchema):
    items = fields.List(fields.Nested(HourLogSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class HourLogIdsSchema(StrictSchema):
    ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=projects.MAX_BULK))


class RejectHourLogsSchema(HourLogIdsSchema):
    reason = Reason(required=True)


class DecisionsSchema(StrictSchema):
    #: the logs now approved (or rejected)
    decided = fields.List(fields.Nested(HourLogSchema))
    #: the others, each with the reason it was refused
    refused = fields.List(fields.Nested(RefusalSchema))


# ---------------------------------------------------------------- partner organizations


class OrganizationMemberSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    organization_id = fields.Integer(dump_only=True)
    member_id = Id(required=True)
    member_name = Name("member.name")
    role = fields.String(load_default="member", validate=validate.OneOf(ORGANIZATION_ROLES))
    created_at = fields.DateTime(dump_only=True)
