"""Pages: one member's record and what organizers do to it (correct, suspend, reinstate,
move, grant a role, ask for a guardian, record the dual report 双报到), each for the
people who may do it. Joins the people blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from timebank.core import access
from timebank.core.errors import InvalidInput
from timebank.core.web import ActionForm, Form, flash_form_errors, page
from timebank.ledger import operations as ledger
from timebank.people import operations as people
from timebank.people.models import ROLES
from timebank.people.views import bp
from timebank.privacy import operations as privacy
from timebank.units import operations as units

MEMBER = "/members/<int(max=2147483647):member_id>"
TARGET = people.member_target


class EditMemberForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    has_smartphone = BooleanField(_l("Has a smartphone"))


class SuspendForm(Form):
    reason = StringField(_l("Why is the member suspended?"), validators=[Length(max=500)])


class RemoveForm(Form):
    confirm = BooleanField(
        _l("I understand: the name, phone and password are erased for good."),
        validators=[DataRequired()],
    )


class MoveForm(Form):
    unit_id = SelectField(_l("New home (building or grid)"), coerce=int, validate_choice=False)


class RoleForm(Form):
    role = SelectField(_l("Role"))
    unit_id = SelectField(_l("Over"), coerce=int, validate_choice=False)


class GuardianForm(Form):
    phone = StringField(
        _l("The guardian's phone number"), validators=[DataRequired(), Length(max=30)]
    )
    relation = StringField(
        _l("How they are related (e.g. 女儿, 网格员)"), validators=[DataRequired(), Length(max=40)]
    )


class PartyForm(Form):
    branch = StringField(_l("Party branch"), validators=[DataRequired(), Length(max=120)])
    workplace_name = StringField(_l("Workplace (optional)"), validators=[Length(max=120)])
    reported_unit_id = SelectField(_l("Reported in to"), coerce=int, validate_choice=False)
    reported_on = DateField(_l("Date of the dual report"), validators=[Optional()])


def _label(unit) -> str:
    return f"{unit.parent.name} · {unit.name}" if unit.parent is not None else unit.name


def _units_in_scope(action: str, kinds: tuple[str, ...] | None = None) -> list:
    roots = access.scope_roots(access.current_actor(), action)
    found = units.list_units(within=roots) if roots else []
    return [u for u in found if kinds is None or u.kind in kinds]


def _report_units(member) -> list:
    """Communities a dual report may name: those of the member's own line, and those the
    organizer looks after."""
    found = {u.id: u for u in units.line_of(member.home_unit_id) if u.kind == "community"}
    found.update({u.id: u for u in _units_in_scope("party.manage", ("community",))})
    return list(found.values())


def _forms(member) -> dict:
    actor = access.current_actor()
    edit = EditMemberForm(prefix="e", obj=member)
    move = MoveForm(prefix="mv")
    move.unit_id.choices = [
        SelectChoice(u.id, _label(u))
        for u in _units_in_scope("members.manage", ("community", "grid", "building", "other"))
    ]
    move.unit_id.data = member.home_unit_id
    role = RoleForm(prefix="r")
    grantable = ROLES if access.is_admin(actor) else ("volunteer",)
    role.role.choices = [SelectChoice(r, _l(r)) for r in grantable]
    role.unit_id.choices = [SelectChoice(u.id, _label(u)) for u in _units_in_scope("roles.grant")]
    party = PartyForm(prefix="p")
    party.reported_unit_id.choices = [SelectChoice(0, _("Not reported in yet"))] + [
        SelectChoice(u.id, _label(u)) for u in _report_units(member)
    ]
    if member.party is not None and request.method == "GET":
        party.branch.data = member.party.branch
        party.workplace_name.data = member.party.workplace_name
        party.reported_unit_id.data = member.party.reported_unit_id or 0
        party.reported_on.data = member.party.reported_on
    return {
        "edit_form": edit,
        "suspend_form": SuspendForm(prefix="s"),
        "remove_form": RemoveForm(prefix="rm"),
        "move_form": move,
        "role_form": role,
        "guardian_form": GuardianForm(prefix="g"),
        "party_form": party,
        "action_form": ActionForm(),
    }


@bp.route(MEMBER)
@page("members.view", target=TARGET)
def member(member_id: int):
    """A member's record: who, where, status, roles, guardians, party data; and, for the
    people who may, the forms that change them."""
    actor = access.current_actor()
    found = people.get_member(member_id)
    target = TARGET(member_id)
    allowed = {
        name: access.may(actor, name, target)
        for name in (
            "members.manage", "guardians.manage", "guardians.decide", "party.manage",
            "ledger.award", "members.remove",
        )
    }  # fmt: skip
    allowed["roles.grant"] = bool(access.scope_roots(actor, "roles.grant"))
    return render_template(
        "people/member.html",
        member=found,
        line=units.line_of(found.home_unit_id),
        guardianships=people.guardianships_of(found),
        may=allowed,
        is_self=found.id == actor.id,
        balances=ledger.balances(found.id) if allowed["members.remove"] else None,
        **_forms(found),
    )


def _to_member(member_id: int):
    return redirect(url_for("people.member", member_id=member_id))


@bp.route(f"{MEMBER}/edit", methods=["POST"])
@page("members.manage", target=TARGET)
def edit_member(member_id: int):
    found = people.get_member(member_id)
    form = EditMemberForm(prefix="e")
    if form.validate_on_submit():
        people.update_member(
            found, name=form.name.data, phone=form.phone.data,
            has_smartphone=form.has_smartphone.data, actor=access.current_actor(),
        )  # fmt: skip
        flash(_("The record of %(name)s was saved.", name=found.name), "success")
    else:
        flash_form_errors(form)
    return _to_member(member_id)


@bp.route(f"{MEMBER}/<any(suspend, reinstate):choice>", methods=["POST"])
@page("members.manage", target=TARGET)
def member_status(member_id: int, choice: str):
    found = people.get_member(member_id)
    form = SuspendForm(prefix="s")
    if form.validate_on_submit():
        actor = access.current_actor()
        if choice == "suspend":
            people.suspend_member(found, actor=actor, reason=form.reason.data)
            flash(_("%(name)s is suspended.", name=found.name), "success")
        else:
            people.reinstate_member(found, actor=actor)
            flash(_("%(name)s is active again.", name=found.name), "success")
    return _to_member(member_id)


@bp.route(f"{MEMBER}/remove", methods=["POST"])
@page("members.remove", target=TARGET)
def remove_member(member_id: int):
    """Pseudonymise the member (after the confirmation box is ticked); the ledger stays."""
    found = people.get_member(member_id)
    form = RemoveForm(prefix="rm")
    if form.validate_on_submit():
        privacy.remove_member(found, actor=access.current_actor())
        flash(
            _("The member was removed; their ledger rows stay as %(name)s.", name=found.name),
            "success",
        )
    else:
        flash_form_errors(form)
    return _to_member(member_id)


@bp.route(f"{MEMBER}/move", methods=["POST"])
@page("members.manage", target=TARGET)
def move_member(member_id: int):
    found = people.get_member(member_id)
    form = MoveForm(prefix="mv")
    form.unit_id.choices = []
    if form.validate_on_submit():
        people.move_member(found, form.unit_id.data, actor=access.current_actor())
        flash(
            _("%(name)s now lives in %(unit)s.", name=found.name, unit=found.home_unit.name),
            "success",
        )
    return _to_member(member_id)


@bp.route(f"{MEMBER}/role", methods=["POST"])
@page("roles.grant")  # as the API: checked on the unit the role is over
def grant_role(member_id: int):
    found = people.get_member(member_id)
    form = RoleForm(prefix="r")
    form.role.choices = [SelectChoice(r, r) for r in ROLES]
    if form.validate_on_submit():
        actor = access.current_actor()
        role = form.role.data
        access.authorize(actor, people.action_to_grant(role), units.unit_target(form.unit_id.data))
        people.grant_role(found, role, form.unit_id.data, granted_by=actor)
        flash(_("%(name)s was given the role.", name=found.name), "success")
    else:
        flash_form_errors(form)
    return _to_member(member_id)


@bp.route(f"{MEMBER}/guardian", methods=["POST"])
@page("guardians.manage", target=TARGET)
def ask_guardian(member_id: int):
    found = people.get_member(member_id)
    form = GuardianForm(prefix="g")
    if form.validate_on_submit():
        guardian = people.find_member_by_phone(people.normalize_phone(form.phone.data))
        if guardian is None or guardian.status != "active":
            raise InvalidInput("Nobody active has this phone number.", errors={"phone": ["?"]})
        people.add_guardian(
            found, guardian, relation=form.relation.data, actor=access.current_actor()
        )
        if found.has_smartphone:
            flash(_("%(name)s will be asked to confirm on their home page.", name=found.name),
                  "success")  # fmt: skip
        else:
            flash(_("Another organizer must confirm it on this page."), "success")
    else:
        flash_form_errors(form)
    return _to_member(member_id)


@bp.route(f"{MEMBER}/party", methods=["POST"])
@page("party.manage", target=TARGET)
def record_party(member_id: int):
    """Record party data and the dual report (双报到)."""
    found = people.get_member(member_id)
    form = PartyForm(prefix="p")
    if form.validate_on_submit():
        unit_id = form.reported_unit_id.data or None
        if unit_id is not None and unit_id not in {u.id for u in _report_units(found)}:
            raise InvalidInput("Choose a community.", errors={"reported_unit_id": ["?"]})
        people.register_party(
            found, branch=form.branch.data, reported_unit_id=unit_id,
            reported_on=form.reported_on.data if unit_id else None,
            workplace_name=form.workplace_name.data, actor=access.current_actor(),
        )  # fmt: skip
        flash(_("The party data of %(name)s was saved.", name=found.name), "success")
    else:
        flash_form_errors(form)
    return _to_member(member_id)
