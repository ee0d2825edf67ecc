"""Pages: the projects list, publishing a project, a project with claim and assign
buttons by role, and one's own places and assignments."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.web import REDISPLAY, ActionForm, Form, flash_form_errors, page, redirect_to
from timebank.extensions import db
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.projects.models import (
    CATEGORIES,
    CATEGORY_NAMES,
    DAILY_MINUTES,
    PLACES,
    POINTS_PER_HOUR,
    PROJECT_STATUSES,
    SKILLS_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from timebank.projects.views import aware, bp, choice, lists_nav
from timebank.units import operations as units

PROJECT = "/projects/<int(max=2147483647):project_id>"
TARGET = projects.project_target


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProjectForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    unit_id = SelectField(_l("Unit"), coerce=int)
    category = SelectField(
        _l("Category"), choices=lambda: [(c, CATEGORY_NAMES[c]) for c in CATEGORIES]
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=TEXT_MAX)])
    places = IntegerField(_l("Places"), default=3, validators=[DataRequired(), PLACES.form()])
    skills = StringField(_l("Required skills"), validators=[Length(max=SKILLS_MAX)])
    starts_at = DateTimeLocalField(_l("Starts"), validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), validators=[DataRequired()])
    deadline = DateTimeLocalField(_l("Claims close (empty: at the start)"), validators=[Optional()])
    daily_minutes = IntegerField(
        _l("Most minutes a day one member may report (empty: the whole schedule)"),
        validators=[Optional(), DAILY_MINUTES.form()],
    )
    schedule_note = StringField(
        _l("Schedule, e.g. every Saturday 9:00-11:00"), validators=[Length(max=SKILLS_MAX)]
    )
    points_per_hour = IntegerField(
        _l("Points per hour"), default=10, validators=[Optional(), POINTS_PER_HOUR.form()]
    )
    need_ids = CheckboxList(_l("Needs it answers"), coerce=int)
    resource_ids = CheckboxList(_l("Resources it uses"), coerce=int)
    publish = BooleanField(_l("Open it for claims now"), default=True)


@bp.route("/projects")
@page("projects.view")
def project_list():
    actor = access.current_actor()
    unit_id = request.args.get("unit_id", type=int)
    filters = {
        "unit_id": unit_id if unit_id and 0 < unit_id < 2**31 else None,
        "category": choice(request.args.get("category"), CATEGORIES),
        "status": choice(request.args.get("status"), PROJECT_STATUSES),
    }
    items = list(db.session.scalars(projects.projects_select(actor, **filters).limit(200)))
    return render_template(
        "projects/projects.html",
        items=items,
        taken={p.id: projects.places_taken(p.id) for p in items},
        filters=filters,
        units=units.visible_units(actor),
        can_create=bool(access.scope_roots(actor, "projects.manage")),
        **lists_nav(),
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@page("projects.manage", on_error=REDISPLAY)
def new_project():
    actor = access.current_actor()
    access.authorize_anywhere(actor, "projects.manage")
    roots = access.scope_roots(actor, "projects.manage")
    form = ProjectForm()
    form.unit_id.choices = [(u.id, u.name) for u in units.list_units(within=roots)]
    needs_roots = access.scope_roots(actor, "needs.manage")
    form.need_ids.choices = [
        (n.id, f"{n.title} · {n.unit.name}")
        for n in projects.needs_in(needs_roots, ("open", "accepted"), besides=0)
    ]
    form.resource_ids.choices = [
        (r.id, f"{r.title} · {r.provider_name}")
        for r in db.session.scalars(projects.resources_select(actor, status="available"))
    ]
    if request.method == "GET":
        need_id = request.args.get("need_id", type=int)
        if need_id:
            form.need_ids.data = [need_id]
            need = next(
                (
                    n
                    for n in projects.needs_in(needs_roots, ("open", "accepted"), besides=0)
                    if n.id == need_id
                ),
                None,
            )
            if need is not None:
                form.title.data, form.category.data = need.title, need.category
                form.unit_id.data = need.unit_id
        start = (utcnow() + timedelta(days=1)).astimezone(projects.local_zone())
        start = start.replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
        form.starts_at.data = form.starts_at.data or start
        form.ends_at.data = form.ends_at.data or start + timedelta(hours=2)
    if form.validate_on_submit():
        access.authorize(actor, "projects.manage", units.unit_target(form.unit_id.data))
        for need_id in form.need_ids.data or []:
            access.authorize(actor, "needs.manage", projects.need_target(need_id))
        project = projects.create_project(
            actor=actor,
            unit_id=form.unit_id.data,
            title=form.title.data,
            category=form.category.data,
            description=form.description.data or "",
            places=form.places.data,
            skills=form.skills.data or "",
            starts_at=aware(form.starts_at.data),
            ends_at=aware(form.ends_at.data),
            deadline=aware(form.deadline.data),
            daily_minutes=form.daily_minutes.data,
            schedule_note=form.schedule_note.data or "",
            points_per_hour=form.points_per_hour.data or 0,
            need_ids=form.need_ids.data or [],
            resource_ids=form.resource_ids.data or [],
            publish=form.publish.data,
        )
        flash(_("%(title)s was created.", title=project.title), "success")
        return redirect(url_for("projects.project_detail", project_id=project.id))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template("projects/project_new.html", form=form, **lists_nav())


@bp.route(PROJECT)
@page("projects.view", target=TARGET)
def project_detail(project_id: int):
    actor, member = access.current_actor(), access.acting_member()
    project = projects.get_project(project_id)
    target = TARGET(project_id)
    manages = access.may(actor, "projects.manage", target)
    if not projects.may_open_project(actor, project):
        access.authorize(actor, "projects.manage", target)
    claims = projects.claims_of(project_id)
    mine = next((c for c in claims if c.member_id == member.id), None)
    approves = access.may(actor, "hour_logs.approve", target)
    return render_template(
        "projects/project.html",
        project=project,
        claims=claims,
        mine=mine,
        taken=projects.places_taken(project_id),
        manages=manages,
        assigns=access.may(actor, "projects.assign", target),
        approves=approves,
        logs=projects.hour_logs_of_project(project_id) if approves else [],
        contact_orgs=[
            (org, projects.organization_members(org.id))
            for org in projects.contact_organizations(actor)
        ],
        history=projects.project_history(project_id),
        started=utcnow() >= project.starts_at,
        now=utcnow(),
        form=ActionForm(),
        **lists_nav(),
    )


_TO_PROJECT = redirect_to("projects.project_detail", "project_id")


def _to_project(project_id: int):
    return redirect(url_for("projects.project_detail", project_id=project_id))


@bp.route(f"{PROJECT}/claim", methods=["POST"])
@page("projects.claim", target=TARGET, on_error=_TO_PROJECT)
def claim(project_id: int):
    """Claim a place; or, as a partner organization's contact, claim for it and name who
    serves (``organization_id`` and ticked ``member_ids``)."""
    project = projects.get_project(project_id)
    if ActionForm().validate_on_submit():
        org_raw = request.form.get("organization_id", "")
        if org_raw.isascii() and org_raw.isdigit() and 0 < int(org_raw) < 2**31:
            ids = [
                int(i)
                for i in request.form.getlist("member_ids")
                if i.isascii() and i.isdigit() and len(i) < 10
            ]
            org = units.get_organization(int(org_raw))
            projects.claim_for_organization(
                project, org, contact=access.current_actor(), member_ids=ids
            )
            flash(_("%(org)s claimed the project.", org=org.name), "success")
        else:
            projects.claim_place(project, access.acting_member(), actor=access.current_actor())
            flash(_("You have a place on this project."), "success")
    return _to_project(project_id)


@bp.route(f"{PROJECT}/withdraw", methods=["POST"])
@page("projects.claim", target=TARGET, on_error=_TO_PROJECT)
def withdraw(project_id: int):
    project = projects.get_project(project_id)
    if ActionForm().validate_on_submit():
        member, as_contact = access.acting_member(), False
        raw = request.form.get("member_id", "")
        if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 and int(raw) != member.id:
            member, as_contact = people.get_member(int(raw)), True
        projects.withdraw_claim(
            project,
            member,
            actor=access.current_actor(),
            as_contact=as_contact,
            reason=request.form.get("reason", "")[:500],
        )
        flash(_("The place was given back."), "success")
    return _to_project(project_id)


@bp.route(f"{PROJECT}/assign", methods=["POST"])
@page("projects.assign", target=TARGET, on_error=_TO_PROJECT)
def assign(project_id: int):
    project = projects.get_project(project_id)
    if ActionForm().validate_on_submit():
        member = projects.find_member(
            request.form.get("member", ""), project.unit_id,
            actor=access.current_actor(), action="projects.assign",
        )  # fmt: skip
        projects.assign_member(project, member, actor=access.current_actor())
        flash(_("%(name)s was assigned and will be asked.", name=member.name), "success")
    return _to_project(project_id)


@bp.route(f"{PROJECT}/status", methods=["POST"])
@page("projects.manage", target=TARGET, on_error=_TO_PROJECT)
def change_status(project_id: int):
    project = projects.get_project(project_id)
    if ActionForm().validate_on_submit():
        to = request.form.get("status", "")
        projects.change_project_status(
            project, to, actor=access.current_actor(), reason=request.form.get("reason", "")
        )
        flash(_("The project's state was changed."), "success")
    return _to_project(project_id)


def _back_to_mine(error, kwargs):
    flash(error.localized(), "error")
    return redirect(url_for("projects.my_projects"))


@bp.route(
    "/assignments/<int(max=2147483647):claim_id>/<any(accept, decline):answer>",
    methods=["POST"],
)
@page("projects.answer", target=projects.assignment_target, on_error=_back_to_mine)
def answer(claim_id: int, answer: str):
    claim_ = projects.get_claim(claim_id)
    if ActionForm().validate_on_submit():
        projects.answer_assignment(
            claim_,
            accept=answer == "accept",
            actor=access.current_actor(),
            reason=request.form.get("reason", ""),
        )
        if answer == "accept":
            flash(_("You accepted: %(title)s.", title=claim_.project.title), "success")
        else:
            flash(_("You declined: %(title)s.", title=claim_.project.title), "success")
    return redirect(url_for("projects.my_projects"))


@bp.route("/me/projects")
@page("me.projects")
def my_projects():
    member = access.acting_member()
    return render_template(
        "projects/mine.html",
        claims=projects.my_claims(member),
        wishes=projects.wishes_taken_by(member),
        now=utcnow(),
        form=ActionForm(),
        **lists_nav(),
    )
