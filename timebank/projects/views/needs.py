"""Pages: the needs list and a need; filing one (also a grid worker's quick form for a
resident without a phone); the resources list; a partner organization's people."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from timebank.core import access
from timebank.core.access import Target
from timebank.core.errors import InvalidInput
from timebank.core.web import REDISPLAY, ActionForm, Form, flash_form_errors, page, redirect_to
from timebank.extensions import db
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.projects.models import (
    AVAILABILITY_MAX,
    CATEGORIES,
    CATEGORY_NAMES,
    NEED_STATUSES,
    RESOURCE_CATEGORIES,
    RESOURCE_CATEGORY_NAMES,
    RESOURCE_STATUSES,
    TEXT_MAX,
    TITLE_MAX,
    URGENCIES,
)
from timebank.projects.views import NAMES, bp, choice, lists_nav
from timebank.units import operations as units

NEED = "/needs/<int(max=2147483647):need_id>"
ORGANIZATION = "/organizations/<int(max=2147483647):organization_id>"


def _categories():
    return [(c, CATEGORY_NAMES[c]) for c in CATEGORIES]


def _urgencies():
    return [(u, NAMES["urgency"][u]) for u in URGENCIES]


class NeedForm(Form):
    title = StringField(_l("In a few words"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    category = SelectField(_l("Category"), choices=_categories)
    urgency = SelectField(_l("Urgency"), choices=_urgencies, default="normal")
    description = TextAreaField(
        _l("What, where, since when"), validators=[Optional(), Length(max=TEXT_MAX)]
    )
    contact_name = StringField(
        _l("Contact name (default: you)"), validators=[Optional(), Length(max=60)]
    )
    contact_phone = StringField(
        _l("Contact phone (default: yours)"), validators=[Optional(), Length(max=20)]
    )
    is_wish = BooleanField(_l("A small wish (微心愿) one person can fulfil"))


class ResidentNeedForm(Form):
    """The grid worker's form: a few taps on a phone."""

    resident_id = SelectField(_l("Resident"), coerce=int)
    category = SelectField(_l("Category"), choices=_categories)
    title = StringField(_l("In a few words"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    urgency = RadioField(_l("Urgency"), choices=_urgencies, default="normal")
    description = TextAreaField(_l("Details (optional)"), validators=[Length(max=TEXT_MAX)])
    is_wish = BooleanField(_l("A small wish (微心愿)"))


class ResourceForm(Form):
    title = StringField(_l("What is offered"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    category = SelectField(
        _l("Category"),
        choices=lambda: [(c, RESOURCE_CATEGORY_NAMES[c]) for c in RESOURCE_CATEGORIES],
    )
    organization_id = SelectField(_l("Offered by"), coerce=int)
    availability = StringField(
        _l("When it is available"), validators=[Optional(), Length(max=AVAILABILITY_MAX)]
    )
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=TEXT_MAX)])
    contact = StringField(_l("Whom to ask"), validators=[Optional(), Length(max=120)])


def _organized(actor, action: str = "needs.manage"):
    roots = access.scope_roots(actor, action)
    return projects.organized_units_select(roots) if roots else None


def _list_args(statuses) -> dict:
    unit_id = request.args.get("unit_id", type=int)
    return {
        "unit_id": unit_id if unit_id and 0 < unit_id < 2**31 else None,
        "category": choice(request.args.get("category"), CATEGORIES + RESOURCE_CATEGORIES),
        "status": choice(request.args.get("status"), statuses),
    }


@bp.route("/needs")
@page("needs.view")
def need_list():
    actor = access.current_actor()
    filters = _list_args(NEED_STATUSES)
    wish = {"1": True, "0": False}.get(request.args.get("wish", ""))
    query = projects.needs_select(actor, wish=wish, **filters).limit(200)
    return render_template(
        "projects/needs.html",
        needs=projects.seen_needs(actor, list(db.session.scalars(query)), _organized(actor)),
        filters=filters,
        wish=request.args.get("wish", ""),
        units=units.visible_units(actor),
        grid_worker=bool(people.wards_of(actor) or access.scope_roots(actor, "needs.file_for")),
        **lists_nav(),
    )


@bp.route("/needs/new", methods=["GET", "POST"])
@page("needs.file", on_error=REDISPLAY)
def new_need():
    """File a need for oneself (or, with ``?for=``, for one's ward)."""
    form = NeedForm()
    if form.validate_on_submit():
        need = projects.file_need(
            resident=access.acting_member(),
            filed_by=access.current_actor(),
            title=form.title.data,
            category=form.category.data,
            urgency=form.urgency.data,
            description=form.description.data or "",
            contact_name=form.contact_name.data,
            contact_phone=form.contact_phone.data,
            is_wish=form.is_wish.data,
        )
        flash(_("Your need was filed: %(title)s.", title=need.title), "success")
        return redirect(url_for("projects.need_detail", need_id=need.id))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template("projects/need_new.html", form=form, **lists_nav())


@bp.route("/needs/for-resident", methods=["GET", "POST"])
@page("needs.file", on_error=REDISPLAY)
def file_for_resident():
    """A grid worker files a need for a resident without a phone, in a few taps."""
    actor = access.current_actor()
    form = ResidentNeedForm()
    residents = projects.residents_to_file_for(actor, _organized(actor, "needs.file_for"))
    form.resident_id.choices = [(m.id, f"{m.name} · {m.home_unit.name}") for m in residents]
    if form.validate_on_submit():
        resident = people.get_member(form.resident_id.data)
        access.authorize(
            actor, "needs.file_for", Target(unit=resident.home_unit_id, member=resident.id)
        )
        need = projects.file_need(
            resident=resident,
            filed_by=actor,
            title=form.title.data,
            category=form.category.data,
            urgency=form.urgency.data,
            description=form.description.data or "",
            is_wish=form.is_wish.data,
        )
        flash(_("Filed for %(name)s: %(title)s.", name=resident.name, title=need.title), "success")
        return redirect(url_for("projects.file_for_resident"))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template(
        "projects/need_for_resident.html", form=form, residents=residents, **lists_nav()
    )


@bp.route(NEED)
@page("needs.view", target=projects.need_target)
def need_detail(need_id: int):
    actor = access.current_actor()
    need = projects.get_need(need_id)
    manages = access.may(actor, "needs.manage", projects.need_target(need_id))
    seen = projects.seen_needs(actor, [need], _organized(actor))[0]
    roots = access.scope_roots(actor, "needs.manage") if manages else []
    return render_template(
        "projects/need.html",
        need=seen,
        history=projects.need_history(need_id),
        duplicates=projects.merged_into_this(need),
        opens={p.id for p in need.projects if projects.may_open_project(actor, p)},
        manages=manages,
        may_confirm=access.may(actor, "needs.confirm", projects.need_resident_target(need_id)),
        live_projects=projects.projects_in(
            access.scope_roots(actor, "projects.manage") if manages else [],
            ("draft", "open", "staffed", "in_progress"),
        ),
        candidates=projects.needs_in(roots, ("open", "accepted", "resolved"), besides=need.id),
        form=ActionForm(),
        **lists_nav(),
    )


_TO_NEED = redirect_to("projects.need_detail", "need_id")


def _form_id(name: str) -> int:
    raw = request.form.get(name, "")
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31):
        raise InvalidInput("Choose one.", errors={name: ["Required."]})
    return int(raw)


@bp.route(f"{NEED}/<any(decline, merge, accept):decision>", methods=["POST"])
@page("needs.manage", target=projects.need_target, on_error=_TO_NEED)
def decide_need(need_id: int, decision: str):
    """An organizer declines the need, merges it into another, or accepts it into a
    project."""
    actor = access.current_actor()
    need = projects.get_need(need_id)
    if ActionForm().validate_on_submit():
        if decision == "decline":
            projects.decline_need(need, actor=actor, reason=request.form.get("reason", ""))
            flash(_("The need was declined."), "success")
        elif decision == "merge":
            into = projects.get_need(_form_id("into_id"))
            access.authorize(actor, "needs.manage", projects.need_target(into.id))
            projects.merge_need(need, into, actor=actor)
            flash(_("Merged into %(title)s.", title=into.title), "success")
        else:
            project = projects.get_project(_form_id("project_id"))
            access.authorize(actor, "projects.manage", projects.project_target(project.id))
            projects.accept_need(need, project, actor=actor)
            flash(_("Accepted into %(title)s.", title=project.title), "success")
    return redirect(url_for("projects.need_detail", need_id=need_id))


@bp.route(f"{NEED}/take", methods=["POST"])
@page("wishes.take", target=projects.need_target, on_error=_TO_NEED)
def take_wish(need_id: int):
    if ActionForm().validate_on_submit():
        projects.take_wish(
            projects.get_need(need_id), access.acting_member(), actor=access.current_actor()
        )
        flash(_("You took this wish. Report your hours once it is fulfilled."), "success")
    return redirect(url_for("projects.need_detail", need_id=need_id))


@bp.route(f"{NEED}/release", methods=["POST"])
@page("wishes.take", target=projects.wish_taker_target, on_error=_TO_NEED)
def release_wish(need_id: int):
    need = projects.get_need(need_id)
    if ActionForm().validate_on_submit():
        projects.release_wish(need, access.current_actor(), reason=request.form.get("reason", ""))
        flash(_("You gave the wish back."), "success")
    return redirect(url_for("projects.need_detail", need_id=need_id))


@bp.route(f"{NEED}/confirm", methods=["POST"])
@page("needs.confirm", target=projects.need_resident_target, on_error=_TO_NEED)
def confirm_need(need_id: int):
    if ActionForm().validate_on_submit():
        raw = request.form.get("rating", "")
        rating = int(raw) if raw in ("1", "2", "3", "4", "5") else 0
        projects.confirm_need(
            projects.get_need(need_id),
            actor=access.current_actor(),
            rating=rating,
            feedback=request.form.get("feedback", "")[:500],
        )
        flash(_("Thank you: the result is confirmed."), "success")
    return redirect(url_for("projects.need_detail", need_id=need_id))


# ---------------------------------------------------------------- resources


@bp.route("/resources")
@page("resources.view")
def resource_list():
    actor = access.current_actor()
    filters = _list_args(RESOURCE_STATUSES)
    query = projects.resources_select(actor, **filters).limit(200)
    items = list(db.session.scalars(query))
    manages = _organized(actor, "resources.manage")
    managed = set(db.session.scalars(manages)) if manages is not None else set()
    contact_of = {o.id for o in projects.contact_organizations(actor)}
    return render_template(
        "projects/resources.html",
        resources=items,
        filters=filters,
        units=units.visible_units(actor),
        may_withdraw={
            r.id
            for r in items
            if r.unit_id in managed
            or r.offered_by_id == actor.id
            or r.organization_id in contact_of
        },
        form=ActionForm(),
        **lists_nav(),
    )


def _offering_organizations(actor):
    """Partner organizations the actor may offer for: as their contact, or organizer."""
    found = {o.id: o for o in projects.contact_organizations(actor)}
    for root in access.scope_roots(actor, "resources.manage"):
        for org in units.list_organizations(root):
            found.setdefault(org.id, org)
    return sorted(found.values(), key=lambda o: o.name)


@bp.route("/resources/new", methods=["GET", "POST"])
@page("resources.offer", on_error=REDISPLAY)
def new_resource():
    actor = access.current_actor()
    form = ResourceForm()
    form.organization_id.choices = [(0, _("Myself"))] + [
        (o.id, o.name) for o in _offering_organizations(actor)
    ]
    if form.validate_on_submit():
        org_id = form.organization_id.data or None
        resource = projects.offer_resource(
            actor=actor,
            title=form.title.data,
            category=form.category.data,
            description=form.description.data or "",
            availability=form.availability.data or "",
            contact=form.contact.data,
            organization_id=org_id,
        )
        flash(_("%(title)s is on the resources list.", title=resource.title), "success")
        return redirect(url_for("projects.resource_list"))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template("projects/resource_new.html", form=form, **lists_nav())


@bp.route("/resources/<int(max=2147483647):resource_id>/withdraw", methods=["POST"])
@page("resources.offer", target=projects.resource_target)
def withdraw_resource(resource_id: int):
    resource = projects.get_resource(resource_id)
    if ActionForm().validate_on_submit():
        projects.withdraw_resource(resource, actor=access.current_actor())
        flash(_("%(title)s was withdrawn.", title=resource.title), "success")
    return redirect(url_for("projects.resource_list"))


# ---------------------------------------------------------------- partner organizations


def organization_target(organization_id: int) -> Target:
    return Target(unit=units.get_organization(organization_id).unit_id)


@bp.route(ORGANIZATION)
@page("organizations.staff", target=organization_target)
def organization(organization_id: int):
    org = units.get_organization(organization_id)
    return render_template(
        "projects/organization.html",
        org=org,
        people=projects.organization_members(org.id),
        form=ActionForm(),
        **lists_nav(),
    )


@bp.route(f"{ORGANIZATION}/members", methods=["POST"])
@page("organizations.staff", target=organization_target)
def add_organization_member(organization_id: int):
    org = units.get_organization(organization_id)
    if ActionForm().validate_on_submit():
        member = projects.find_member(request.form.get("member", ""), org.unit_id)
        role = "contact" if request.form.get("role") == "contact" else "member"
        projects.add_organization_member(org, member, role=role, actor=access.current_actor())
        flash(_("%(name)s acts for %(org)s.", name=member.name, org=org.name), "success")
    return redirect(url_for("projects.organization", organization_id=organization_id))
