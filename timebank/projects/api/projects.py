"""/api/v1: service projects, their history, claims (接单), assignments (派单) and answers."""

from __future__ import annotations

from timebank.core import access
from timebank.core.access import requires
from timebank.core.web import ApiView
from timebank.extensions import db
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.projects.api import blp
from timebank.projects.schemas import (
    AssignSchema,
    ClaimRequestSchema,
    ClaimSchema,
    ProjectEventSchema,
    ProjectListArgs,
    ProjectPageSchema,
    ProjectSchema,
    ReasonSchema,
    StatusChangeSchema,
    WithdrawSchema,
)
from timebank.units import operations as units

PROJECT = "/projects/<int(max=2147483647):project_id>"
ASSIGNMENT = "/assignments/<int(max=2147483647):claim_id>"
TARGET = projects.project_target


def visible_project(project_id: int):
    """The project; a draft only for those who manage it (403 for others)."""
    project = projects.get_project(project_id)
    if project.status == "draft":
        access.authorize(access.current_actor(), "projects.manage", TARGET(project_id))
    return project


@blp.route("/projects")
class Projects(ApiView):
    @requires("projects.view")
    @blp.arguments(ProjectListArgs, location="query")
    @blp.response(200, ProjectPageSchema)
    def get(self, args):
        """Projects near the caller, soonest first (drafts only where they organize);
        filter by unit subtree, category and state."""
        page, per_page = args.pop("page"), args.pop("per_page")
        query = projects.projects_select(access.current_actor(), **args)
        result = db.paginate(query, page=page, per_page=per_page, error_out=False)
        return {"items": result.items, "page": page, "per_page": per_page, "total": result.total}

    @requires("projects.manage")
    @blp.arguments(ProjectSchema)
    @blp.response(201, ProjectSchema)
    def post(self, data):
        """Publish a project in a unit the caller organizes (a draft, or open with
        ``publish``), answering needs of their scope and using resources."""
        actor = access.current_actor()
        access.authorize(actor, "projects.manage", units.unit_target(data["unit_id"]))
        for need_id in data["need_ids"]:
            access.authorize(actor, "needs.manage", projects.need_target(need_id))
        return projects.create_project(actor=actor, **data)


@blp.route(PROJECT)
class ProjectById(ApiView):
    @requires("projects.view", target=TARGET)
    @blp.response(200, ProjectSchema)
    def get(self, project_id):
        """One project (a draft: its organizers only)."""
        return visible_project(project_id)


@blp.route(f"{PROJECT}/history")
class ProjectHistory(ApiView):
    @requires("projects.view", target=TARGET)
    @blp.response(200, ProjectEventSchema(many=True))
    def get(self, project_id):
        """Every change to the project, oldest first: who, when, why."""
        visible_project(project_id)
        return projects.project_history(project_id)


@blp.route(f"{PROJECT}/claims")
class ProjectClaims(ApiView):
    @requires("projects.view", target=TARGET)
    @blp.response(200, ClaimSchema(many=True))
    def get(self, project_id):
        """Who holds or held a place: volunteers, people named by a partner organization,
        assignments (pending, accepted, declined), withdrawals."""
        visible_project(project_id)
        return projects.claims_of(project_id)


@blp.route(f"{PROJECT}/status")
class ProjectStatus(ApiView):
    @requires("projects.manage", target=TARGET)
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, ProjectSchema)
    def post(self, data, project_id):
        """Move the project: ``open`` (publish a draft), ``in_progress``, ``done``,
        ``verified`` (resolves the needs it answers), ``cancelled`` (with a reason).
        409 ``illegal_transition`` for a move its state does not allow."""
        project = projects.get_project(project_id)
        return projects.change_project_status(
            project, data["status"], actor=access.current_actor(), reason=data["reason"]
        )


@blp.route(f"{PROJECT}/claim")
class ClaimProject(ApiView):
    @requires("projects.claim", target=TARGET)
    @blp.arguments(ClaimRequestSchema)
    @blp.response(200, ClaimSchema(many=True))
    def post(self, data, project_id):
        """Claim a place (idempotent; a pending assignment is accepted). With
        ``organization_id``: the organization's contact claims it, naming its people in
        ``member_ids`` (one place each, all or none). 409 ``project_full``,
        ``project_not_open``, ``claims_closed``."""
        project = projects.get_project(project_id)
        actor = access.current_actor()
        if data["organization_id"] is None:
            return [projects.claim_place(project, access.acting_member(), actor=actor)]
        org = units.get_organization(data["organization_id"])
        return projects.claim_for_organization(
            project, org, contact=actor, member_ids=data["member_ids"]
        )


@blp.route(f"{PROJECT}/withdraw")
class WithdrawClaim(ApiView):
    @requires("projects.claim", target=TARGET)
    @blp.arguments(WithdrawSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, project_id):
        """Give one's place back before the project starts (409 ``project_started``); an
        organization's contact may withdraw one of its people (``member_id``)."""
        project = projects.get_project(project_id)
        member, as_contact = access.acting_member(), False
        if data["member_id"] is not None and data["member_id"] != member.id:
            member, as_contact = people.get_member(data["member_id"]), True
        return projects.withdraw_claim(
            project,
            member,
            actor=access.current_actor(),
            as_contact=as_contact,
            reason=data["reason"],
        )


@blp.route(f"{PROJECT}/assign")
class AssignProject(ApiView):
    @requires("projects.assign", target=TARGET)
    @blp.arguments(AssignSchema)
    @blp.response(201, ClaimSchema)
    def post(self, data, project_id):
        """Assign a member directly (派单): their place is held until they accept or
        decline. 409 ``already_serving``, ``project_full``, ``project_not_open``."""
        project = projects.get_project(project_id)
        member = people.get_member(data["member_id"])
        return projects.assign_member(project, member, actor=access.current_actor())


@blp.route(f"{ASSIGNMENT}/accept")
class AcceptAssignment(ApiView):
    @requires("projects.answer", target=projects.assignment_target)
    @blp.response(200, ClaimSchema)
    def post(self, claim_id):
        """The member assigned (or their guardian) accepts (接单)."""
        claim = projects.get_claim(claim_id)
        return projects.answer_assignment(claim, accept=True, actor=access.current_actor())


@blp.route(f"{ASSIGNMENT}/decline")
class DeclineAssignment(ApiView):
    @requires("projects.answer", target=projects.assignment_target)
    @blp.arguments(ReasonSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, claim_id):
        """The member assigned declines, with a reason; the place is freed."""
        claim = projects.get_claim(claim_id)
        return projects.answer_assignment(
            claim, accept=False, actor=access.current_actor(), reason=data["reason"]
        )


@blp.route("/me/projects")
class MyProjects(ApiView):
    @requires("me.projects")
    @blp.response(200, ClaimSchema(many=True))
    def get(self):
        """The caller's places and assignments (pending ones wait for an answer)."""
        return projects.my_claims(access.acting_member())
