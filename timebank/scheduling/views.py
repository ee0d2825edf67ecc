"""Pages for admins: the job table with recorded runs and "run now", the scheduler's
lease, and resolving alerts (shown on their home page)."""

from __future__ import annotations

import os
import socket

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.web import ActionForm, Form, flash_form_errors, page
from timebank.jobs import JOBS
from timebank.scheduling import operations as scheduling

bp = Blueprint("scheduling", __name__)

OUTCOME_NAMES = {
    "running": _l("Running"),
    "ok": _l("OK"),
    "alert": _l("Alert raised"),
    "failed": _l("Failed"),
    "skipped": _l("Skipped: done already"),
    "interrupted": _l("Interrupted"),
}
TRIGGER_NAMES = {"schedule": _l("Scheduled"), "manual": _l("Run now")}
ALERT_NAMES = {
    "ledger_verify_failed": _l("The ledger failed verification"),
    "job_failed": _l("A scheduled job failed"),
}
COUNT_NAMES = {
    "closed": _l("check-ins closed"),
    "released": _l("holds released"),
    "transfers": _l("transfers"),
    "points": _l("points"),
    "entries": _l("entries verified"),
    "checkpoints": _l("checkpoints"),
    "problems": _l("problems"),
    "day_before": _l("day-before reminders"),
    "hour_before": _l("hour-before reminders"),
    "cancelled": _l("cancellation notices"),
    "reminded": _l("reminders"),
}


class ResolveForm(Form):
    resolution = TextAreaField(
        _l("What did you find, and what was done?"),
        validators=[DataRequired(), Length(max=scheduling.RESOLUTION_MAX)],
    )


@bp.app_context_processor
def _names():
    return {
        "OUTCOME_NAMES": OUTCOME_NAMES,
        "TRIGGER_NAMES": TRIGGER_NAMES,
        "ALERT_NAMES": ALERT_NAMES,
        "COUNT_NAMES": COUNT_NAMES,
    }


@bp.route("/admin/jobs")
@page("jobs.view")
def jobs():
    names = [job.name for job in JOBS]
    selected = request.args.get("job") if request.args.get("job") in names else None
    return render_template(
        "scheduling/jobs.html",
        jobs=JOBS,
        schedules={job.name: job.schedule(current_app.config) for job in JOBS},
        last=scheduling.last_runs(),
        runs=scheduling.recent_runs(job=selected, limit=50),
        lease=scheduling.current_lease(),
        alerts=scheduling.recent_alerts(10),
        selected=selected,
        now=utcnow(),
        form=ActionForm(),
    )


@bp.route("/admin/jobs/<name>/run", methods=["POST"])
@page("jobs.run")
def run(name: str):
    job = scheduling.find_job(JOBS, name)
    if ActionForm().validate_on_submit():
        actor = access.current_actor()
        runs = scheduling.run_job(
            job,
            now=utcnow(),
            trigger="manual",
            runner=f"{actor.name} ({actor.phone}) @{socket.gethostname()}:{os.getpid()}",
        )
        if not runs:
            flash(_("%(job)s: nothing was due.", job=job.name), "success")
        for run in runs:
            category = "error" if run.outcome in ("failed", "alert") else "success"
            flash(
                _("%(job)s ran: %(outcome)s.", job=job.name, outcome=OUTCOME_NAMES[run.outcome]),
                category,
            )
    return redirect(url_for("scheduling.jobs", job=name))


@bp.route("/admin/alerts/<int(max=2147483647):alert_id>/resolve", methods=["POST"])
@page("alerts.resolve")
def resolve_alert(alert_id: int):
    form = ResolveForm()
    if form.validate_on_submit():
        scheduling.resolve_alert(
            alert_id, actor_id=access.current_actor().id, resolution=form.resolution.data
        )
        flash(_("The alert was resolved."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("people.home"))
