"""Pages: one's hour logs and the form to report hours (with a photo), the organizers'
approval queue (bulk: the valid ones are approved, the others reported), and a photo."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput
from timebank.core.web import REDISPLAY, ActionForm, Form, flash_form_errors, page
from timebank.extensions import db
from timebank.projects import operations as projects
from timebank.projects.models import LOG_MINUTES, TEXT_MAX
from timebank.projects.views import bp, flash_refusals, lists_nav
from timebank.units import operations as units

UNIT = "/units/<int(max=2147483647):unit_id>"


class HourLogForm(Form):
    served_on = DateField(_l("Day of the service"), validators=[DataRequired()])
    minutes = IntegerField(_l("Minutes"), validators=[DataRequired(), LOG_MINUTES.form()])
    description = TextAreaField(
        _l("What you did"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )
    photo = FileField(_l("Photo (optional)"), render_kw={"accept": "image/*"})


def _subject_ids() -> tuple[int | None, int | None]:
    def one(name):
        raw = request.args.get(name, "")
        return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 else None

    return one("project_id"), one("need_id")


@bp.route("/me/hour-logs")
@page("me.projects")
def my_hour_logs():
    member = access.acting_member()
    return render_template(
        "projects/my_hour_logs.html",
        logs=projects.my_hour_logs(member),
        serving=[
            c
            for c in projects.my_claims(member)
            if c.status == "active" and c.project.status in ("in_progress", "done")
        ],
        wishes=projects.wishes_taken_by(member),
        **lists_nav(),
    )


@bp.route("/hour-logs/new", methods=["GET", "POST"])
@page("hour_logs.log", on_error=REDISPLAY)
def new_hour_log():
    """Report a day's hours on a project (``?project_id=``) or a small wish
    (``?need_id=``)."""
    project_id, need_id = _subject_ids()
    project = projects.get_project(project_id) if project_id else None
    need = projects.get_need(need_id) if need_id and not project else None
    if project is None and need is None:
        raise InvalidInput("Choose the project or the small wish you served.")
    form = HourLogForm()
    if request.method == "GET":
        form.served_on.data = projects.local_date(utcnow())
        form.minutes.data = min(60, project.daily_minutes) if project else 60
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read(projects.photos.max_bytes() + 1) if upload else None
        projects.log_hours(
            member=access.acting_member(),
            logged_by=access.current_actor(),
            project=project,
            need=need,
            served_on=form.served_on.data,
            minutes=form.minutes.data,
            description=form.description.data,
            photo=photo or None,
        )
        flash(_("Your hours were reported; an organizer will approve them."), "success")
        return redirect(url_for("projects.my_hour_logs"))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template(
        "projects/hour_log_new.html", form=form, project=project, need=need, **lists_nav()
    )


@bp.route("/hour-logs/queue")
@page("hour_logs.approve")
def queue_start():
    """The approval queue of the first subtree the caller keeps."""
    roots = access.scope_roots(access.current_actor(), "hour_logs.approve")
    access.authorize_anywhere(access.current_actor(), "hour_logs.approve")
    return redirect(url_for("projects.queue", unit_id=roots[0]))


@bp.route(f"{UNIT}/hour-logs")
@page("hour_logs.approve", target=units.unit_target)
def queue(unit_id: int):
    status = request.args.get("status", "pending")
    if status not in ("pending", "approved", "rejected"):
        status = "pending"
    query = projects.hour_logs_select(access.subtree_select(unit_id), status=status).limit(200)
    return render_template(
        "projects/queue.html",
        unit=units.get_unit(unit_id),
        status=status,
        logs=list(db.session.scalars(query)),
        form=ActionForm(),
        **lists_nav(),
    )


def _back_to_queue(error, kwargs):
    flash(error.localized(), "error")
    return redirect(url_for("projects.queue", unit_id=kwargs["unit_id"]))


@bp.route(f"{UNIT}/hour-logs", methods=["POST"])
@page("hour_logs.approve", target=units.unit_target, on_error=_back_to_queue)
def decide(unit_id: int):
    """Approve or reject the ticked logs: the valid ones are decided, each other one is
    reported with its reason."""
    if ActionForm().validate_on_submit():
        ids = [
            int(i)
            for i in request.form.getlist("ids")
            if i.isascii() and i.isdigit() and len(i) < 10
        ]
        if not ids:
            raise InvalidInput("Tick at least one hour log.")
        actor = access.current_actor()
        if request.form.get("decision") == "reject":
            decisions = projects.reject_hour_logs(
                ids, actor=actor, reason=request.form.get("reason", "")
            )
            flash_refusals(decisions, _("%(count)s rejected.", count=len(decisions.decided)))
        else:
            decisions = projects.approve_hour_logs(ids, actor=actor)
            flash_refusals(
                decisions, _("%(count)s approved and credited.", count=len(decisions.decided))
            )
    return redirect(url_for("projects.queue", unit_id=unit_id))


@bp.route("/hour-logs/<int(max=2147483647):log_id>/photo")
@page("hour_logs.view", target=projects.hour_log_target)
def photo(log_id: int):
    log = projects.get_hour_log(log_id)
    return send_file(projects.photo_path(log.photo_name), mimetype=log.photo_type)
