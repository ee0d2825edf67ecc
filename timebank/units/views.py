"""Pages: the unit tree and one unit with its children and partner organizations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import FloatField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from timebank.core import access
from timebank.core.web import Form, flash_form_errors, page
from timebank.units import operations as units
from timebank.units.models import CHILD_KINDS, ORGANIZATION_KINDS, UNIT_KINDS

bp = Blueprint("units", __name__)
UNIT = "/units/<int(max=2147483647):unit_id>"


class UnitForm(Form):
    name = StringField(_l("Name of the unit"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, _l(k)) for k in UNIT_KINDS])


class PlaceForm(Form):
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lng = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])


def _unit_form(parent) -> UnitForm:
    """The form for a unit below ``parent``: only the kinds that fit there, the usual one
    first (a community under a street, a grid under a community, a building under a grid)."""
    form = UnitForm(prefix="u")
    allowed = CHILD_KINDS[parent.kind]
    form.kind.choices = [SelectChoice(k, _l(k)) for k in allowed]
    if form.kind.data not in allowed:
        form.kind.data = allowed[0]
    return form


class OrganizationForm(Form):
    name = StringField(_l("Name of the organization"), validators=[DataRequired(), Length(max=120)])
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
        form=_unit_form(units.get_unit(unit_id)),
        sets_place=access.may(actor, "units.place", target),
        place_form=PlaceForm(prefix="p", obj=units.get_unit(unit_id)),
        org_form=OrganizationForm(prefix="o"),
    )


@bp.route(UNIT, methods=["POST"])
@page("units.create", target=units.unit_target)
def add_child(unit_id: int):
    form = _unit_form(units.get_unit(unit_id))
    if form.validate_on_submit():
        child = units.create_unit(
            name=form.name.data, kind=form.kind.data, parent_id=unit_id,
            actor=access.current_actor(),
        )  # fmt: skip
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
            unit_id=unit_id, name=form.name.data, kind=form.kind.data, contact=form.contact.data,
            actor=access.current_actor(),
        )  # fmt: skip
        flash(_("%(name)s was added.", name=org.name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("units.detail", unit_id=unit_id))


@bp.route(f"{UNIT}/place", methods=["POST"])
@page("units.place", target=units.unit_target)
def set_place(unit_id: int):
    """Save the place where the unit's activities usually meet (or forget it)."""
    form = PlaceForm(prefix="p") if "p-lat" in request.form else PlaceForm(prefix="")
    if form.validate_on_submit():
        units.set_place(unit_id, lat=form.lat.data, lng=form.lng.data, actor=access.current_actor())
        flash(_("The place was saved."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("units.detail", unit_id=unit_id))
