"""Pages: login, home, language, joining, members of a unit, roster import, party report."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from timebank import LOCALES
from timebank.core.errors import DomainError
from timebank.core.qr import qr_svg
from timebank.extensions import db
from timebank.people import operations as people
from timebank.units import operations as units

bp = Blueprint("people", __name__)


class LoginForm(FlaskForm):
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class JoinForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])


class VerifyForm(FlaskForm):
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=10)])


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    has_smartphone = BooleanField(_l("Has a smartphone"), default=True)


class ImportForm(FlaskForm):
    file = FileField(
        _l("Roster file (CSV or XLSX)"),
        validators=[
            FileRequired(),
            FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file.")),
        ],
    )


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons."""


def flash_form_errors(form: FlaskForm) -> None:
    for field_name, messages in form.errors.items():
        label = getattr(form, field_name).label.text if hasattr(form, field_name) else field_name
        for message in messages:
            flash(f"{label}: {message}", "error")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            member = people.authenticate(form.phone.data, form.password.data)
        except DomainError as error:
            flash(error.localized(), "error")
        else:
            login_user(member)
            return redirect(_safe_next(request.args.get("next")) or url_for("people.home"))
    return render_template("people/login.html", form=form)


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/logout", methods=["POST"])
def logout():
    ActionForm().validate_on_submit()
    logout_user()
    return redirect(url_for("people.login"))


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in LOCALES:
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(_safe_next(request.args.get("next")) or url_for("people.home"))


@bp.route("/")
@login_required
def home():
    member = current_user
    organizes = people.scope_roots(member, "members.view")
    pending = people.count_members(organizes, status="pending")
    return render_template(
        "people/home.html",
        member=member,
        roles=sorted(member.roles, key=lambda r: r.role),
        organized_units=[units.get_unit(uid) for uid in organizes],
        pending=pending,
        wards=people.wards_of(member),
    )


@bp.route("/units/<int(max=2147483647):unit_id>/members", methods=["GET"])
@login_required
def unit_members(unit_id: int):
    unit = units.get_unit(unit_id)
    people.authorize(current_user, "members.view", unit_id)
    status = request.args.get("status") or None
    if status not in (None, "pending", "active", "rejected", "unverified", "suspended"):
        status = None
    return render_template(
        "people/members.html",
        unit=unit,
        status=status,
        members=people.list_members(unit_id, status=status),
        pending=people.list_members(unit_id, status="pending"),
        member_form=MemberForm(prefix="m"),
        import_form=ImportForm(prefix="i"),
        action_form=ActionForm(),
    )


@bp.route("/units/<int(max=2147483647):unit_id>/members", methods=["POST"])
@login_required
def add_member(unit_id: int):
    units.get_unit(unit_id)
    form = MemberForm(prefix="m")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("people.unit_members", unit_id=unit_id))
    try:
        people.authorize(current_user, "members.create", unit_id)
        member = people.create_member(
            phone=form.phone.data,
            name=form.name.data,
            home_unit_id=unit_id,
            has_smartphone=form.has_smartphone.data,
            roles=[("volunteer", unit_id)],
            actor=current_user,
        )
        db.session.commit()
        flash(_("%(name)s was added.", name=member.name), "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.localized(), "error")
    return redirect(url_for("people.unit_members", unit_id=unit_id))


@bp.route("/units/<int(max=2147483647):unit_id>/members/import", methods=["POST"])
@login_required
def import_members(unit_id: int):
    unit = units.get_unit(unit_id)
    form = ImportForm(prefix="i")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("people.unit_members", unit_id=unit_id))
    try:
        people.authorize(current_user, "members.import", unit_id)
        upload = form.file.data
        rows = people.read_roster(upload.filename, upload.read())
        report = people.import_roster(unit_id, rows, actor=current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.localized(), "error")
        return redirect(url_for("people.unit_members", unit_id=unit_id))
    return render_template("people/import_report.html", unit=unit, report=report)


@bp.route(
    "/members/<int(max=2147483647):member_id>/<any(approve, reject):decision>", methods=["POST"]
)
@login_required
def decide_member(member_id: int, decision: str):
    form = ActionForm()
    member = people.get_member(member_id)
    if form.validate_on_submit():
        try:
            if decision == "approve":
                people.approve_member(member, actor=current_user)
                flash(_("%(name)s is now a volunteer.", name=member.name), "success")
            else:
                people.reject_member(
                    member, actor=current_user, reason=request.form.get("reason") or ""
                )
                flash(_("%(name)s was turned down.", name=member.name), "success")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    return redirect(url_for("people.unit_members", unit_id=member.home_unit_id, status="pending"))


@bp.route("/units/<int(max=2147483647):unit_id>/party")
@login_required
def party_report(unit_id: int):
    unit = units.get_unit(unit_id)
    people.authorize(current_user, "members.view", unit_id)
    return render_template(
        "people/party.html",
        unit=unit,
        reported=people.list_members(unit_id, party="reported"),
        not_reported=people.list_members(unit_id, party="not_reported"),
    )


@bp.route("/units/<int(max=2147483647):unit_id>/poster")
@login_required
def join_poster(unit_id: int):
    unit = units.get_unit(unit_id)
    people.authorize(current_user, "join_links.manage", unit_id)
    link = people.active_join_link(unit_id)
    if link is None:
        link = people.create_join_link(unit_id, actor=current_user)
        db.session.commit()
    url = people.join_url(link)
    return render_template("people/poster.html", unit=unit, url=url, svg=qr_svg(url))


@bp.route("/join/<code>", methods=["GET", "POST"])
def join(code: str):
    link = people.get_join_link(code)
    form = JoinForm()
    if form.validate_on_submit():
        try:
            member = people.start_registration(
                code=code, phone=form.phone.data, name=form.name.data, password=form.password.data
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
        else:
            return redirect(url_for("people.verify", phone=member.phone))
    else:
        flash_form_errors(form)
    return render_template("people/join.html", form=form, unit=link.unit)


@bp.route("/join/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    if request.method == "GET":
        form.phone.data = request.args.get("phone", "")
    if form.validate_on_submit():
        try:
            people.verify_phone(phone=form.phone.data, code=form.code.data)
            db.session.commit()
        except DomainError as error:
            if error.commit_anyway:
                db.session.commit()
            else:
                db.session.rollback()
            flash(error.localized(), "error")
        else:
            return render_template("people/joined.html")
    return render_template("people/verify.html", form=form)
