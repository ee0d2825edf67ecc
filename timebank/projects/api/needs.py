"""/api/v1: needs (and small wishes), resources, and who acts for a partner organization."""

from __future__ import annotations

from timebank.core import access
from timebank.core.access import Target, requires
from timebank.core.web import ApiView
from timebank.extensions import db
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.projects.api import blp
from timebank.projects.models import CATEGORY_NAMES, RESOURCE_CATEGORY_NAMES
from timebank.projects.schemas import (
    AcceptNeedSchema,
    CategoriesSchema,
    ConfirmSchema,
    MergeSchema,
    NeedDetailSchema,
    NeedListArgs,
    NeedPageSchema,
    NeedSchema,
    OrganizationMemberSchema,
    ReasonSchema,
    ResourceListArgs,
    ResourcePageSchema,
    ResourceSchema,
)
from timebank.units import operations as units

NEED = "/needs/<int(max=2147483647):need_id>"
RESOURCE = "/resources/<int(max=2147483647):resource_id>"
ORGANIZATION = "/organizations/<int(max=2147483647):organization_id>"


def organized_units(actor, action: str = "needs.manage"):
    """A SELECT of the units where ``actor`` may do ``action``, or None."""
    roots = access.scope_roots(actor, action)
    return projects.organized_units_select(roots) if roots else None


def seen(need):
    """The need as the caller sees it (contact details only for those who handle it)."""
    actor = access.current_actor()
    return projects.seen_needs(actor, [need], organized_units(actor))[0]


def organization_target(organization_id: int) -> Target:
    return Target(unit=units.get_organization(organization_id).unit_id)


@blp.route("/project-categories")
class Categories(ApiView):
    @requires("needs.view")
    @blp.response(200, CategoriesSchema)
    def get(self):
        """Categories of needs and projects, and of resources, with their names."""
        return {
            "needs": [{"code": c, "name": str(n)} for c, n in CATEGORY_NAMES.items()],
            "resources": [{"code": c, "name": str(n)} for c, n in RESOURCE_CATEGORY_NAMES.items()],
        }


@blp.route("/needs")
class Needs(ApiView):
    @requires("needs.view")
    @blp.arguments(NeedListArgs, location="query")
    @blp.response(200, NeedPageSchema)
    def get(self, args):
        """The needs list near the caller (their line, their subtree, what they organize),
        newest first; filter by unit subtree, category, state and ``wish``. Contact details
        are null except for those who handle a need."""
        page, per_page = args.pop("page"), args.pop("per_page")
        actor = access.current_actor()
        result = db.paginate(
            projects.needs_select(actor, **args), page=page, per_page=per_page, error_out=False
        )
        items = projects.seen_needs(actor, list(result.items), organized_units(actor))
        return {"items": items, "page": page, "per_page": per_page, "total": result.total}

    @requires("needs.file")
    @blp.arguments(NeedSchema)
    @blp.response(201, NeedSchema)
    def post(self, data):
        """File a need (``is_wish``: a small wish, 微心愿) for oneself, for a ward
        (``X-On-Behalf-Of``), or, with ``resident_id``, for a resident one is the guardian
        or grid worker (organizer) of. The record keeps who filed it."""
        actor, resident = access.current_actor(), access.acting_member()
        resident_id = data.pop("resident_id")
        if resident_id is not None and resident_id != resident.id:
            resident = people.get_member(resident_id)
            access.authorize(
                actor, "needs.file_for", Target(unit=resident.home_unit_id, member=resident.id)
            )
        return seen(projects.file_need(resident=resident, filed_by=actor, **data))


@blp.route(NEED)
class NeedById(ApiView):
    @requires("needs.view", target=projects.need_target)
    @blp.response(200, NeedDetailSchema)
    def get(self, need_id):
        """One need, the projects that answer it and its history."""
        need = seen(projects.get_need(need_id))
        need.history = projects.need_history(need_id)
        return need


@blp.route(f"{NEED}/decline")
class DeclineNeed(ApiView):
    @requires("needs.manage", target=projects.need_target)
    @blp.arguments(ReasonSchema)
    @blp.response(200, NeedSchema)
    def post(self, data, need_id):
        """Decline an open need, with a reason; 409 ``illegal_transition`` otherwise."""
        need = projects.get_need(need_id)
        return seen(projects.decline_need(need, actor=access.current_actor(), **data))


@blp.route(f"{NEED}/merge")
class MergeNeed(ApiView):
    @requires("needs.manage", target=projects.need_target)
    @blp.arguments(MergeSchema)
    @blp.response(200, NeedSchema)
    def post(self, data, need_id):
        """Merge a duplicate into another need (also in the caller's scope); it is resolved
        with it."""
        actor = access.current_actor()
        into = projects.get_need(data["into_id"])
        access.authorize(actor, "needs.manage", projects.need_target(into.id))
        need = projects.get_need(need_id)
        return seen(projects.merge_need(need, into, actor=actor, reason=data["reason"]))


@blp.route(f"{NEED}/accept")
class AcceptNeed(ApiView):
    @requires("needs.manage", target=projects.need_target)
    @blp.arguments(AcceptNeedSchema)
    @blp.response(200, NeedSchema)
    def post(self, data, need_id):
        """Accept the need into a project the caller manages (the project answers it)."""
        actor = access.current_actor()
        project = projects.get_project(data["project_id"])
        access.authorize(actor, "projects.manage", projects.project_target(project.id))
        need = projects.get_need(need_id)
        return seen(projects.accept_need(need, project, actor=actor))


@blp.route(f"{NEED}/take")
class TakeWish(ApiView):
    @requires("wishes.take", target=projects.need_target)
    @blp.response(200, NeedSchema)
    def post(self, need_id):
        """Take a small wish to fulfil it (idempotent); 409 ``wish_taken``, ``not_a_wish``."""
        need = projects.get_need(need_id)
        return seen(projects.take_wish(need, access.acting_member(), actor=access.current_actor()))


@blp.route(f"{NEED}/release")
class ReleaseWish(ApiView):
    @requires("wishes.take", target=projects.wish_taker_target)
    @blp.arguments(ReasonSchema)
    @blp.response(200, NeedSchema)
    def post(self, data, need_id):
        """Give a small wish back, with a reason, before any hours on it are reported: its
        taker, or their guardian."""
        need = projects.get_need(need_id)
        return seen(projects.release_wish(need, access.current_actor(), reason=data["reason"]))


@blp.route(f"{NEED}/confirm")
class ConfirmNeed(ApiView):
    @requires("needs.confirm", target=projects.need_resident_target)
    @blp.arguments(ConfirmSchema)
    @blp.response(200, NeedSchema)
    def post(self, data, need_id):
        """Confirm the result of a resolved need and rate it 1 to 5 (the resident, their
        guardian, or the grid worker for them); once."""
        need = projects.get_need(need_id)
        return seen(projects.confirm_need(need, actor=access.current_actor(), **data))


# ---------------------------------------------------------------- resources


@blp.route("/resources")
class Resources(ApiView):
    @requires("resources.view")
    @blp.arguments(ResourceListArgs, location="query")
    @blp.response(200, ResourcePageSchema)
    def get(self, args):
        """The resources list near the caller, newest first; filter by unit subtree,
        category and state."""
        page, per_page = args.pop("page"), args.pop("per_page")
        query = projects.resources_select(access.current_actor(), **args)
        result = db.paginate(query, page=page, per_page=per_page, error_out=False)
        return {"items": result.items, "page": page, "per_page": per_page, "total": result.total}

    @requires("resources.offer")
    @blp.arguments(ResourceSchema)
    @blp.response(201, ResourceSchema)
    def post(self, data):
        """Offer a resource: one's own (in one's home line), or a partner organization's
        (``organization_id``: its contact, or an organizer of its unit)."""
        return projects.offer_resource(actor=access.current_actor(), **data)


@blp.route(RESOURCE)
class ResourceById(ApiView):
    @requires("resources.view", target=projects.resource_target)
    @blp.response(200, ResourceSchema)
    def get(self, resource_id):
        """One resource."""
        return projects.get_resource(resource_id)


@blp.route(f"{RESOURCE}/withdraw")
class WithdrawResource(ApiView):
    @requires("resources.offer", target=projects.resource_target)
    @blp.response(200, ResourceSchema)
    def post(self, resource_id):
        """No longer on offer: by whoever offered it (the member, the organization's
        contact) or an organizer of its unit."""
        resource = projects.get_resource(resource_id)
        return projects.withdraw_resource(resource, actor=access.current_actor())


# ---------------------------------------------------------------- partner organizations


@blp.route(f"{ORGANIZATION}/members")
class OrganizationMembers(ApiView):
    @requires("organizations.staff", target=organization_target)
    @blp.response(200, OrganizationMemberSchema(many=True))
    def get(self, organization_id):
        """Who acts for the partner organization: its contacts, then its people."""
        units.get_organization(organization_id)
        return projects.organization_members(organization_id)

    @requires("organizations.staff", target=organization_target)
    @blp.arguments(OrganizationMemberSchema)
    @blp.response(200, OrganizationMemberSchema)
    def post(self, data, organization_id):
        """Record a member as the organization's contact (who claims projects for it and
        names who serves) or one of its people; again to change the role."""
        org = units.get_organization(organization_id)
        member = people.get_member(data["member_id"])
        return projects.add_organization_member(
            org, member, role=data["role"], actor=access.current_actor()
        )
