"""Pages for admins: the job table with recorded runs and "run now", the scheduler's
lease, and resolving alerts (shown on their home page)."""

from __future__ import annotations

import os
import re
import socket

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.errors import N_
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
#: what a run did, a number in its sentence ("已核验 2548 条分录", not "条分录已核验 2548")
COUNT_NAMES = {
    "closed": N_("%(n)s check-ins closed"),
    "released": N_("%(n)s holds released"),
    "redemptions": N_("%(n)s redemptions expired"),
    "transfers": N_("%(n)s transfers"),
    "points": N_("%(n)s points"),
    "entries": N_("%(n)s entries verified"),
    "checkpoints": N_("%(n)s checkpoints"),
    "signed": N_("%(n)s checkpoints signed"),
    "statements": N_("%(n)s statements built"),
    "problems": N_("%(n)s problems"),
    "day_before": N_("%(n)s day-before reminders"),
    "hour_before": N_("%(n)s hour-before reminders"),
    "cancelled": N_("%(n)s cancellation notices"),
    "reminded": N_("%(n)s reminders"),
}


def counts_words(counts: dict | None) -> str:
    """What a run did, in words: each count in its sentence, joined as the language joins."""
    said = [
        _(COUNT_NAMES[key], n=value) if key in COUNT_NAMES else f"{key} {value}"
        for key, value in (counts or {}).items()
    ]
    return _(", ").join(said)


_EVERY = re.compile(r"^every\s+(\d+)\s*([smh])$")
_DAILY = re.compile(r"^(\d+) (\d+) \* \* \*$")
_MONTHLY = re.compile(r"^(\d+) (\d+) (\d+) \* \*$")
_HOURLY = re.compile(r"^(\d+) \* \* \* \*$")
EVERY_UNITS = {"s": _l("every %(n)s seconds"), "m": _l("every %(n)s minutes"),
               "h": _l("every %(n)s hours")}  # fmt: skip
#: the exception kinds a job fails with most, in words; others are "an error"
ERROR_KINDS = {
    "OperationalError": _l("the database was busy or could not be reached"),
    "IntegrityError": _l("the database refused a change that breaks a rule"),
    "TimeoutError": _l("it took too long"),
}


def schedule_words(text: str) -> str:
    """A job's schedule in words (``every 5m`` → 每 5 分钟, ``0 3 * * *`` → 每天 03:00);
    a crontab not read here is shown as written (digits and stars)."""
    text = (text or "").strip().lower()
    if text in ("", "off"):
        return _("off")
    if match := _EVERY.match(text):
        return _(EVERY_UNITS[match.group(2)], n=match.group(1))
    if match := _DAILY.match(text):
        minute, hour = int(match.group(1)), int(match.group(2))
        return _("every day at %(time)s", time=f"{hour:02d}:{minute:02d}")
    if match := _MONTHLY.match(text):
        minute, hour, day = (int(g) for g in match.groups())
        return _("on day %(day)s of every month at %(time)s", day=day,
                 time=f"{hour:02d}:{minute:02d}")  # fmt: skip
    if match := _HOURLY.match(text):
        return _("every hour at minute %(minute)s", minute=int(match.group(1)))
    return text


def error_words(error: str | None) -> str:
    """What went wrong in a run, in words; the stored text (a traceback, the exception's
    name and message) is shown beside it for developers."""
    if not error:
        return ""
    if error == "The process running it died.":
        return _("The process running it died.")
    kind = next((k for k in ERROR_KINDS if k in error), None)
    if kind is None:
        return _("It stopped with an error of the program.")
    return _("It stopped: %(why)s.", why=ERROR_KINDS[kind])


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
        "counts_words": counts_words,
        "schedule_words": schedule_words,
        "error_words": error_words,
    }


@bp.route("/admin/jobs")
@page("jobs.view")
def jobs():
    names = [job.name for job in JOBS]
    selected = request.args.get("job") if request.args.get("job") in names else None
    return render_template(
        "scheduling/jobs.html",
        jobs=JOBS,
        job_docs={job.name: job.doc for job in JOBS},
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
            flash(_("%(job)s: nothing was due.", job=_(job.doc)), "success")
        for run in runs:
            category = "error" if run.outcome in ("failed", "alert") else "success"
            flash(
                _("%(job)s ran: %(outcome)s.", job=_(job.doc), outcome=OUTCOME_NAMES[run.outcome]),
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
