"""Pages: the unit tree and one unit with its children and partner organizations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from timebank.core import access
from timebank.core.web import Form, flash_form_errors, page
from timebank.units import operations as units
from timebank.units.models import ORGANIZATION_KINDS, UNIT_KINDS

bp = Blueprint("units", __name__)
UNIT = "/units/<int(max=2147483647):unit_id>"


class UnitForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, _l(k)) for k in UNIT_KINDS])


class OrganizationForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, _l(k)) for k in ORGANIZATION_KINDS])
    contact = StringField(_l("Contact"), validators=[Length(max=120)])


@bp.route("/units")
@page("units.list")
def tree():
    """The units the member may see, as the API's GET /units lists them."""
    return render_template(
        "units/tree.html", tree=units.nest(units.visible_units(access.current_actor()))
    )


@bp.route(UNIT)
@page("units.view", target=units.unit_target)
def detail(unit_id: int):
    actor = access.current_actor()
    target = units.unit_target(unit_id)
    browses = access.may(actor, "units.tree", target)
    return render_template(
        "units/detail.html",
        unit=units.get_unit(unit_id),
        line=[units.get_unit(uid) for uid in reversed(units.ancestor_ids(unit_id))],
        browses=browses,
        creates=access.may(actor, "units.create", target),
        manages_organizations=access.may(actor, "organizations.manage", target),
        children=units.unit_tree([unit_id])[0]["children"] if browses else [],
        organizations=units.list_organizations(unit_id) if browses else [],
        form=UnitForm(prefix="u"),
        org_form=OrganizationForm(prefix="o"),
    )


@bp.route(UNIT, methods=["POST"])
@page("units.create", target=units.unit_target)
def add_child(unit_id: int):
    form = UnitForm(prefix="u")
    if form.validate_on_submit():
        child = units.create_unit(name=form.name.data, kind=form.kind.data, parent_id=unit_id)
        flash(_("%(name)s was created.", name=child.name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("units.detail", unit_id=unit_id))


@bp.route(f"{UNIT}/organizations", methods=["POST"])
@page("organizations.manage", target=units.unit_target)
def add_organization(unit_id: int):
    form = OrganizationForm(prefix="o")
    if form.validate_on_submit():
        org = units.create_organization(
            unit_id=unit_id, name=form.name.data, kind=form.kind.data, contact=form.contact.data
        )
        flash(_("%(name)s was added.", name=org.name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("units.detail", unit_id=unit_id))
