"""Pages: login, home, language, joining, members of a unit, roster import, party report."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from timebank import LOCALES
from timebank.core import access
from timebank.core.access import Target
from timebank.core.errors import DomainError
from timebank.core.pending import pending_credits
from timebank.core.qr import qr_svg
from timebank.core.web import (
    REDISPLAY,
    ActionForm,
    Form,
    flash_form_errors,
    page,
    redirect_to,
    safe_next,
)
from timebank.ledger import operations as ledger
from timebank.people import operations as people
from timebank.people.errors import JoinLinkInvalid
from timebank.people.models import MEMBER_STATUSES
from timebank.reminders.todo import QUEUE_NAMES, organizer_todo
from timebank.scheduling import operations as scheduling
from timebank.scheduling.views import ResolveForm
from timebank.units import operations as units

bp = Blueprint("people", __name__)
UNIT = "/units/<int(max=2147483647):unit_id>"


class LoginForm(Form):
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class CodeRequestForm(Form):
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])


class CodeLoginForm(Form):
    """The phone (asked once: its "send me a code" button posts the same form), the code,
    and a password: required to reset one, optional on a login by code."""

    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=10)])
    new_password = PasswordField(_l("New password"), validators=[Length(max=128)])


class ResetForm(CodeLoginForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=128)])


class FirstPasswordForm(Form):
    """A member who has no password yet (they log in by SMS code) sets one: there is no
    current one to ask for."""

    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=128)])


class JoinForm(Form):
    unit_id = SelectField(_l("Your building or grid"), coerce=int, validate_choice=False)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])


class VerifyForm(Form):
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=10)])
    #: chosen once the phone is proved: whoever has the phone chooses it
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])


class MemberForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    has_smartphone = BooleanField(_l("Has a smartphone"), default=True)


class ImportForm(Form):
    file = FileField(
        _l("Roster file (CSV or XLSX)"),
        validators=[
            FileRequired(),
            FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file.")),
        ],
    )


@bp.app_context_processor
def _navigation():
    def shows_units() -> bool:
        """The grid tree is for those who look after part of it (volunteers see only
        their own line, which their home page names)."""
        actor = access.current_actor() or (
            current_user._get_current_object() if current_user.is_authenticated else None
        )
        return actor is not None and bool(access.scope_roots(actor, "units.tree"))

    return {"shows_units": shows_units}


@bp.route("/login", methods=["GET", "POST"])
@page("site.public", on_error=REDISPLAY)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        member = people.authenticate(
            form.phone.data, form.password.data, address=request.remote_addr
        )
        _start_session(member)
        return redirect(safe_next(request.args.get("next")) or url_for("people.home"))
    return render_template("people/login.html", form=form)


def _start_session(member) -> None:
    """A fresh session for the member: nothing from before the login is kept (session
    fixation) but the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(member)


@bp.route("/login/code", methods=["GET", "POST"])
@page("site.public", on_error=REDISPLAY)
def login_with_code():
    """Log in with a code sent by SMS: a first login (imported members have no password),
    or a forgotten one (``?reset=1``: a new password is set with the code)."""
    reset = request.args.get("reset") == "1"
    form = ResetForm() if reset else CodeLoginForm()
    if request.method == "GET":
        form.phone.data = request.args.get("phone", "")
    if form.validate_on_submit():
        member = people.login_with_code(
            form.phone.data, form.code.data, new_password=form.new_password.data or None,
            address=request.remote_addr,
        )  # fmt: skip
        _start_session(member)
        if form.new_password.data:
            flash(_("Your new password is set; other devices were logged out."), "success")
        elif not people.has_password(member):
            # the first login of an imported member: offer a password on the page for it
            flash(_("Welcome! Set a password so you can log in without a code."), "info")
            return redirect(url_for("people.security"))
        return redirect(safe_next(request.args.get("next")) or url_for("people.home"))
    flash_form_errors(form)
    return render_template("people/login_code.html", form=form, reset=reset)


@bp.route("/login/code/send", methods=["POST"])
@page("site.public", on_error=REDISPLAY)
def send_login_code():
    """The "send me a code" button of the code login form: the form's own phone field."""
    form = CodeRequestForm()
    reset = "1" if request.args.get("reset") == "1" else None
    if form.validate_on_submit():
        people.send_login_code(form.phone.data, address=request.remote_addr)
        flash(_("If this phone is registered, a code is on its way by SMS."), "success")
        return redirect(url_for("people.login_with_code", phone=form.phone.data, reset=reset))
    flash_form_errors(form)
    return redirect(url_for("people.login_with_code", reset=reset))


@bp.route("/me/security", methods=["GET", "POST"])
@page("me.session", on_error=REDISPLAY)
def security():
    """Change one's password (or set a first one, with no current one to ask for), or log
    out everywhere."""
    member = access.current_actor()
    first = not people.has_password(member)
    form = FirstPasswordForm() if first else PasswordForm()
    if form.validate_on_submit():
        current = None if first else form.current.data
        people.change_password(member, current=current, new=form.new.data)
        _start_session(member)  # this device stays logged in; every other one is out
        if first:
            flash(_("Your password is set; log in with it next time."), "success")
        else:
            flash(_("Your password was changed; other devices were logged out."), "success")
        return redirect(url_for("people.home"))
    flash_form_errors(form)
    return render_template("people/security.html", form=form, first=first, action_form=ActionForm())


@bp.route("/me/sessions/end", methods=["POST"])
@page("me.session")
def end_sessions():
    if ActionForm().validate_on_submit():
        people.end_all_sessions(access.current_actor())
        logout_user()
        flash(_("You were logged out everywhere."), "success")
    return redirect(url_for("people.login"))


@bp.route("/logout", methods=["POST"])
@page("site.public")
def logout():
    if ActionForm().validate_on_submit():
        logout_user()
    return redirect(url_for("people.login"))


@bp.route("/lang/<code>", methods=["POST"])
@page("site.public")
def set_language(code: str):
    """Remember the page language in the session, and on the member when logged in."""
    if code in LOCALES and ActionForm().validate_on_submit():
        session["locale"] = code
        if current_user.is_authenticated:
            people.set_locale(current_user, code)
    return redirect(safe_next(request.args.get("next")) or url_for("people.home"))


@bp.route("/")
@page("me.view")
def home():
    member = people.member_at_home(access.current_actor())
    organizes = access.scope_roots(member, "members.view")
    is_admin = access.is_admin(member)
    alerts = scheduling.open_alerts() if is_admin else []
    to_confirm = people.pending_guardianships(member)
    return render_template(
        "people/home.html",
        is_admin=is_admin,
        alerts=alerts,
        # a form (and its CSRF token) only where the page shows one
        resolve_form=ResolveForm() if alerts else None,
        member=member,
        roles=sorted(member.roles, key=lambda r: r.role),
        organized_units=[units.get_unit(uid) for uid in organizes],
        todo=organizer_todo(member) if organizes or is_admin else None,
        QUEUE_NAMES=QUEUE_NAMES,
        balances=ledger.balances(member.id),
        pending=pending_credits(member.id),
        wards=[(ward, ledger.balances(ward.id)) for ward in people.wards_of(member)],
        guardians_to_confirm=to_confirm,
        acts_for_me=people.acts_on_behalf_of(member),
        action_form=ActionForm() if to_confirm else None,
    )


@bp.route(
    "/members/<int(max=2147483647):member_id>/guardians/<int(max=2147483647):guardian_id>/"
    "<any(confirm, decline):decision>",
    methods=["POST"],
)
@page("guardians.decide", target=people.member_target)
def decide_guardian(member_id: int, guardian_id: int, decision: str):
    """The member (or a second organizer, for a member without a phone) decides."""
    actor = access.current_actor()
    if ActionForm().validate_on_submit():
        row = people.get_guardianship(member_id, guardian_id)
        people.decide_guardianship(row, confirm=decision == "confirm", actor=actor)
        if actor.id != member_id:  # a second organizer, for a member without a phone
            if decision == "confirm":
                flash(_("%(name)s may now act for the member.", name=row.guardian.name), "success")
            else:
                flash(_("The guardian was declined."), "success")
        elif decision == "confirm":
            flash(_("%(name)s may now act for you.", name=row.guardian.name), "success")
        else:
            flash(_("You declined %(name)s as your guardian.", name=row.guardian.name), "success")
    if actor.id != member_id:
        return redirect(url_for("people.member", member_id=member_id))
    return redirect(url_for("people.home"))


@bp.route(f"{UNIT}/members", methods=["GET"])
@page("members.view", target=units.unit_target)
def unit_members(unit_id: int):
    status = request.args.get("status") or None
    if status not in MEMBER_STATUSES:
        status = None
    search = (request.args.get("q") or "").strip()[:60]
    return render_template(
        "people/members.html",
        unit=units.get_unit(unit_id),
        status=status,
        search=search,
        found=people.search_members(
            unit_id, status=status, search=search, page=request.args.get("page", 1, type=int)
        ),
        pending=people.list_members(unit_id, status="pending"),
        member_form=MemberForm(prefix="m"),
        import_form=ImportForm(prefix="i"),
        action_form=ActionForm(),
    )


@bp.route(f"{UNIT}/members", methods=["POST"])
@page("members.create", target=units.unit_target)
def add_member(unit_id: int):
    form = MemberForm(prefix="m")
    if form.validate_on_submit():
        member = people.create_member(
            phone=form.phone.data,
            name=form.name.data,
            home_unit_id=unit_id,
            has_smartphone=form.has_smartphone.data,
            roles=[("volunteer", unit_id)],
            actor=access.current_actor(),
        )
        flash(_("%(name)s was added.", name=member.name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("people.unit_members", unit_id=unit_id))


@bp.route(f"{UNIT}/members/import", methods=["POST"])
@page("members.import", target=units.unit_target)
def import_members(unit_id: int):
    form = ImportForm(prefix="i")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("people.unit_members", unit_id=unit_id))
    upload = form.file.data
    rows = people.read_roster(upload.filename, upload.read())
    report = people.import_roster(unit_id, rows, actor=access.current_actor())
    return render_template("people/import_report.html", unit=units.get_unit(unit_id), report=report)


@bp.route(
    "/members/<int(max=2147483647):member_id>/<any(approve, reject):decision>", methods=["POST"]
)
@page("members.approve", target=people.member_target)
def decide_member(member_id: int, decision: str):
    member = people.get_member(member_id)
    if ActionForm().validate_on_submit():
        if decision == "approve":
            people.approve_member(member, actor=access.current_actor())
            flash(_("%(name)s is now a volunteer.", name=member.name), "success")
        else:
            reason = request.form.get("reason") or ""
            people.reject_member(member, actor=access.current_actor(), reason=reason)
            flash(_("%(name)s was turned down.", name=member.name), "success")
    # back to the list the decision was made in: the same unit, still filtered to those
    # waiting only while some are left
    unit_id = request.form.get("unit", "")
    unit_id = int(unit_id) if unit_id.isascii() and unit_id.isdigit() and len(unit_id) < 10 else 0
    if not unit_id or not access.may(access.current_actor(), "members.view", Target(unit=unit_id)):
        unit_id = member.home_unit_id
    left = people.count_members([unit_id], status="pending")
    return redirect(
        url_for("people.unit_members", unit_id=unit_id, status="pending" if left else None)
    )


@bp.route(f"{UNIT}/party")
@page("party.report", target=units.unit_target)
def party_report(unit_id: int):
    return render_template(
        "people/party.html",
        unit=units.get_unit(unit_id),
        reported=people.list_members(unit_id, party="reported"),
        not_reported=people.list_members(unit_id, party="not_reported"),
    )


@bp.route(f"{UNIT}/poster")
@page("join_links.manage", target=units.unit_target)
def join_poster(unit_id: int):
    """The printable join poster; a button makes the first link (or a new one)."""
    try:
        link = people.current_join_link(unit_id)
    except DomainError:
        link = None
    url = people.join_url(link) if link else None
    return render_template(
        "people/poster.html",
        unit=units.get_unit(unit_id),
        url=url,
        svg=qr_svg(url) if url else None,
        form=ActionForm(),
    )


@bp.route(f"{UNIT}/poster", methods=["POST"])
@page("join_links.manage", target=units.unit_target)
def renew_join_link(unit_id: int):
    if ActionForm().validate_on_submit():
        replaced = people.has_join_link(unit_id)
        people.renew_join_link(unit_id, actor=access.current_actor())
        if replaced:
            flash(_("A new join link was made; posters with the old one stop working."), "success")
        else:
            flash(_("The join link was made: print the poster."), "success")
    return redirect(url_for("people.join_poster", unit_id=unit_id))


@bp.route("/join/<code>", methods=["GET", "POST"])
@page("site.public", on_error=REDISPLAY)
def join(code: str):
    try:
        link = people.get_join_link(code)
    except JoinLinkInvalid:
        # an old poster (or a mistyped address): say whom to ask, not a bare "not found"
        unit = people.unit_of_join_code(code)
        return render_template("people/join_link_dead.html", unit=unit), 404
    form = JoinForm()
    homes = people.homes_of_join_link(link)
    form.unit_id.choices = [SelectChoice(link.unit_id, _("Not listed / I am not sure"))] + [
        SelectChoice(u.id, f"{u.parent.name} · {u.name}" if u.kind == "building" else u.name)
        for u in sorted(homes, key=lambda u: (u.parent.name if u.kind == "building" else u.name,
                                              u.kind != "grid", u.name))
    ]  # fmt: skip
    if form.validate_on_submit():
        people.start_registration(
            code=code, phone=form.phone.data, name=form.name.data,
            unit_id=form.unit_id.data if homes else None,
        )  # fmt: skip
        return redirect(url_for("people.verify", phone=form.phone.data.strip()))
    flash_form_errors(form)
    return render_template("people/join.html", form=form, unit=link.unit, homes=homes)


@bp.route("/join/verify", methods=["GET", "POST"])
@page("site.public", on_error=REDISPLAY)
def verify():
    form = VerifyForm()
    if request.method == "GET":
        form.phone.data = request.args.get("phone", "")
    if form.validate_on_submit():
        people.verify_phone(phone=form.phone.data, code=form.code.data, password=form.password.data)
        return render_template("people/joined.html")
    return render_template(
        "people/verify.html", form=form, resend_form=CodeRequestForm(prefix="resend")
    )


@bp.route("/join/resend", methods=["POST"])
@page("site.public", on_error=redirect_to("people.verify"))
def resend_code():
    form = CodeRequestForm(prefix="resend")
    if form.validate_on_submit():
        people.resend_join_code(form.phone.data, address=request.remote_addr)
        flash(_("A new code is on its way by SMS."), "success")
        return redirect(url_for("people.verify", phone=form.phone.data))
    flash_form_errors(form)
    return redirect(url_for("people.verify"))


from timebank.people import member_pages  # noqa: E402,F401 - its pages join this blueprint
