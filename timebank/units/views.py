"""Pages: the unit tree and one unit with its children and partner organizations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from timebank.core.errors import DomainError, Forbidden
from timebank.extensions import db
from timebank.people import operations as people
from timebank.units import operations as units
from timebank.units.models import ORGANIZATION_KINDS, UNIT_KINDS

bp = Blueprint("units", __name__)


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, _l(k)) for k in UNIT_KINDS])


class OrganizationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, _l(k)) for k in ORGANIZATION_KINDS])
    contact = StringField(_l("Contact"), validators=[Length(max=120)])


@bp.route("/units")
@login_required
def tree():
    roots = (
        None if people.is_admin(current_user) else people.scope_roots(current_user, "units.view")
    )
    if roots is not None and not roots:
        raise Forbidden(_("Only organizers and admins can see the unit tree."))
    return render_template("units/tree.html", tree=units.unit_tree(roots))


@bp.route("/units/<int(max=2147483647):unit_id>", methods=["GET", "POST"])
@login_required
def detail(unit_id: int):
    unit = units.get_unit(unit_id)
    people.authorize(current_user, "units.view", unit_id)
    form = UnitForm(prefix="u")
    if form.validate_on_submit():
        try:
            people.authorize(current_user, "units.create", unit_id)
            child = units.create_unit(name=form.name.data, kind=form.kind.data, parent_id=unit_id)
            db.session.commit()
            flash(_("%(name)s was created.", name=child.name), "success")
            return redirect(url_for("units.detail", unit_id=unit_id))
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    return render_template(
        "units/detail.html",
        unit=unit,
        line=[units.get_unit(uid) for uid in reversed(units.ancestor_ids(unit_id))],
        children=units.unit_tree([unit_id])[0]["children"],
        organizations=units.list_organizations(unit_id),
        form=form,
        org_form=OrganizationForm(prefix="o"),
    )


@bp.route("/units/<int(max=2147483647):unit_id>/organizations", methods=["POST"])
@login_required
def add_organization(unit_id: int):
    units.get_unit(unit_id)
    form = OrganizationForm(prefix="o")
    if form.validate_on_submit():
        try:
            people.authorize(current_user, "organizations.manage", unit_id)
            org = units.create_organization(
                unit_id=unit_id, name=form.name.data, kind=form.kind.data, contact=form.contact.data
            )
            db.session.commit()
            flash(_("%(name)s was added.", name=org.name), "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
    return redirect(url_for("units.detail", unit_id=unit_id))
