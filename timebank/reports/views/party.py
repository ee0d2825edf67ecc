"""Pages of the dual-report quarter (双报到): a party member's own, and the organizers'
table of every party member of a unit, by branch, with exports per branch."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from timebank.core import access
from timebank.core.access import Target
from timebank.core.errors import DomainError
from timebank.core.web import Form, flash_form_errors, page, redirect_to
from timebank.people import operations as people
from timebank.reports import exports, periods
from timebank.reports import operations as reports
from timebank.reports.periods import Period
from timebank.reports.views import UNIT, bp
from timebank.units import operations as units

ONE_DAY = timedelta(days=1)


class DualReportForm(Form):
    branch = StringField(_l("Party branch"), validators=[DataRequired(), Length(max=120)])
    workplace_name = StringField(_l("Workplace (optional)"), validators=[Length(max=120)])
    reported_unit_id = SelectField(_l("Reported in to"), coerce=int, validate_choice=False)
    reported_on = DateField(_l("Date of the dual report"), validators=[Optional()])


def quarter_from_args() -> Period:
    """The quarter the URL names (``?at=2026Q2``), else this one; a bad one is flashed."""
    try:
        return periods.parse("quarter", request.args.get("at"))
    except DomainError as error:
        flash(error.localized(), "error")
        return periods.current("quarter")


def _communities(member) -> list:
    """Communities a party member may report in to: those of their own line first, then
    every community of their street."""
    line = units.line_of(member.home_unit_id)
    mine = [u for u in line if u.kind == "community"]
    street = line[0]
    others = [u for u in units.list_units(within=[street.id], kind="community") if u not in mine]
    return mine + others


def _dual_report_form(member) -> DualReportForm:
    form = DualReportForm(prefix="p")
    form.reported_unit_id.choices = [SelectChoice(0, _("Not reported in yet"))] + [
        SelectChoice(u.id, u.name) for u in _communities(member)
    ]
    if member.party is not None and request.method == "GET":
        form.branch.data = member.party.branch
        form.workplace_name.data = member.party.workplace_name
        form.reported_unit_id.data = member.party.reported_unit_id or 0
        form.reported_on.data = member.party.reported_on
    return form


@bp.route("/me/party")
@page("me.party")
def my_party():
    """A party member's quarter: where they reported in, what they did, what is due."""
    member = access.acting_member()
    period = quarter_from_args()
    quarter = reports.my_quarter(member, period) if member.party is not None else None
    return render_template(
        "reports/my_party.html",
        member=member,
        period=period,
        previous=periods.current("quarter", period.start - ONE_DAY),
        following=periods.current("quarter", period.end),
        quarter=quarter,
        form=_dual_report_form(member),
    )


@bp.route("/me/party", methods=["POST"])
@page("me.party", on_error=redirect_to("reports.my_party"))
def record_my_party():
    """Record or change one's own dual report (the same operation organizers use)."""
    actor, member = access.current_actor(), access.acting_member()
    access.authorize(actor, "party.manage", Target(member=member.id))
    form = _dual_report_form(member)
    if form.validate_on_submit():
        unit_id = form.reported_unit_id.data or None
        people.register_party(
            member, branch=form.branch.data, workplace_name=form.workplace_name.data,
            workplace_org_id=member.party.workplace_org_id if member.party else None,
            reported_unit_id=unit_id, reported_on=form.reported_on.data if unit_id else None,
            actor=actor, on_behalf_of=member if member.id != actor.id else None,
        )  # fmt: skip
        flash(_("Your dual report is saved."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("reports.my_party", **_acting_args(actor, member)))


def _acting_args(actor, member) -> dict:
    return {"for": member.id} if member.id != actor.id else {}


def _party_rows(unit_id: int, period: Period):
    branch = request.args.get("branch") or None
    return branch, reports.party_report(unit_id, period=period, branch=branch)


@bp.route(f"{UNIT}/party-attendance")
@page("party.report", target=units.unit_target)
def party(unit_id: int):
    """Every party member of the unit in a quarter: reported in, party activities, service
    hours, who has not served; summed per branch, exported per branch."""
    period = quarter_from_args()
    branch, rows = _party_rows(unit_id, period)
    everyone = rows if branch is None else reports.party_report(unit_id, period=period)
    return render_template(
        "reports/party.html",
        unit=units.get_unit(unit_id),
        period=period,
        previous=periods.current("quarter", period.start - ONE_DAY),
        following=periods.current("quarter", period.end),
        branch=branch,
        rows=rows,
        branches=reports.by_branch(everyone),
        duty=reports.Duty.configured(),
        table=exports.party_table(rows),
    )


@bp.route(f"{UNIT}/party-attendance.<any(csv, xlsx):fmt>")
@page("party.report", target=units.unit_target)
def party_export(unit_id: int, fmt: str):
    """The quarter's table, of one branch with ``?branch=`` (for the workplace's party
    organization), or of everyone."""
    period = quarter_from_args()
    branch, rows = _party_rows(unit_id, period)
    name = f"party-{unit_id}-{period.key}" + ("-branch" if branch else "")
    return exports.download([exports.party_table(rows)], fmt, name)
