"""The ``timebank`` command: Flask's CLI (run, db ...) plus the project's commands.

Each command's body runs in one unit of work (``transactional``): it commits once at
the end, or rolls back and exits non-zero with the error's message.
"""

from __future__ import annotations

import functools

import click
from flask import Flask
from flask.cli import FlaskGroup

from timebank.core.errors import DomainError
from timebank.core.request_id import bound_request_id
from timebank.core.uow import unit_of_work


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(demo)
    app.cli.add_command(setup)
    app.cli.add_command(ledger_group)
    app.cli.add_command(merchants_group)
    app.cli.add_command(i18n_keywords)
    app.cli.add_command(scheduler)
    app.cli.add_command(jobs_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(reports_group)
    app.cli.add_command(transparency_group)
    app.cli.add_command(backup)
    app.cli.add_command(restore)


def transactional(command):
    """Run a command body as one unit of work; a DomainError becomes a clean exit 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with bound_request_id(prefix="cli-"), unit_of_work():
                return command(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(error.message) from None

    return wrapper


@click.command("create-admin")
@click.option("--phone", required=True, help="11-digit mobile number, the login name")
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--unit-id",
    type=int,
    default=None,
    help="root of the admin's scope (default: the first street office)",
)
@transactional
def create_admin(phone: str, name: str, password: str, unit_id: int | None) -> None:
    """Create an admin (or make an existing member one)."""
    from timebank.people import operations as people
    from timebank.units import operations as units

    if unit_id is None:
        roots = [u for u in units.list_units() if u.parent_id is None]
        unit_id = (
            roots[0].id
            if roots
            else units.create_unit(name="街道办事处", kind="street", parent_id=None).id
        )
    existing = people.find_member_by_phone(people.normalize_phone(phone))
    if existing is None:
        member = people.create_member(
            phone=phone,
            name=name,
            password=password,
            home_unit_id=unit_id,
            roles=[("admin", unit_id)],
        )
    else:
        member = existing
        people.grant_role(member, "admin", unit_id)
    click.echo(f"Admin {member.name} ({member.phone}) over unit {unit_id}.")


@click.command("demo")
@click.option("--members", default=200, show_default=True, help="volunteers to create")
@click.option("--seed", default=2020, show_default=True)
@transactional
def demo(members: int, seed: int) -> None:
    """Load demo data (a street office, communities, grids, people); runs once."""
    from timebank.demo import load_demo

    click.echo(load_demo(members=members, seed=seed))


@click.command("setup")
@click.option("--demo/--no-demo", "with_demo", default=True, help="load demo data once")
@click.option(
    "--url",
    default=None,
    help="where the server will answer (make run passes its own); jobs' links use it",
)
@click.pass_context
def setup(ctx: click.Context, with_demo: bool, url: str | None) -> None:
    """Create or migrate the database to the newest schema, then load demo data once."""
    from flask import current_app
    from flask_migrate import upgrade

    from timebank.core.urls import DEVELOPMENT_URL, record_site_url

    upgrade()
    click.echo("Database is at the newest migration.")
    if url:  # before the demo: the links it writes (reminders) name this address
        try:
            record_site_url(url)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--url") from None
    if with_demo:
        ctx.invoke(demo)
    served = current_app.config["TIMEBANK_BASE_URL"] or (url or DEVELOPMENT_URL).rstrip("/")
    click.echo(f"Open {served}/login (join links and kiosk codes name the address you open).")


@click.group("ledger")
def ledger_group() -> None:
    """Ledger integrity, checkpoints, expiry."""


@ledger_group.command("verify")
@transactional
def ledger_verify() -> None:
    """Recompute every chain, balance and version; exit 1 and name the first wrong row."""
    import sqlalchemy as sa
    from tqdm import tqdm

    from timebank.extensions import db
    from timebank.ledger import operations as ledger
    from timebank.ledger.models import Entry

    total = db.session.scalar(sa.select(sa.func.count()).select_from(Entry))
    with tqdm(total=total, desc="verify", unit="entry") as bar:
        report = ledger.run_verification(actor_id=None, via="cli", progress=bar.update)
    if not report.ok:
        db.session.commit()  # the failed run stays on the audit trail
        click.echo(f"LEDGER BROKEN: {report.problem}", err=True)
        raise SystemExit(1)
    click.echo(
        f"OK: {report.entries} entries, {report.transfers} transfers, {report.accounts} "
        f"accounts, {report.checkpoints} checkpoints extended; sums {report.ledger_sums}"
    )
    for ledger_name, log in report.extra.get("transparency", {}).items():
        click.echo(
            f"OK: {ledger_name} transparency log: {log['leaves']} leaves match their entries; "
            f"{log['checkpoints']} signed checkpoints and {log['cosignatures']} cosignatures "
            "verify against it"
        )


@ledger_group.command("checkpoint")
@transactional
def ledger_checkpoint() -> None:
    """Record a checkpoint of each ledger (entry count and a hash over account heads)."""
    from timebank.ledger import operations as ledger

    for name in ("HOURS", "POINTS"):
        checkpoint = ledger.create_checkpoint(name)
        click.echo(f"{name}: {checkpoint.entry_count} entries, heads {checkpoint.heads_hash}")


@ledger_group.command("expire-points")
@click.pass_context
def ledger_expire_points(ctx: click.Context) -> None:
    """An alias of `timebank jobs run expire-points` (recorded like every run)."""
    ctx.invoke(jobs_run, name="expire-points")


@ledger_group.command("expire-holds")
@click.pass_context
def ledger_expire_holds(ctx: click.Context) -> None:
    """An alias of `timebank jobs run release-holds`: redemptions nobody confirmed in
    time are expired first, then any other hold past its timeout (recorded)."""
    ctx.invoke(jobs_run, name="release-holds")


@click.command("scheduler")
@click.option(
    "--exit-with-parent",
    is_flag=True,
    help="stop when the process that started it goes away (make run)",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="with TIMEBANK_METRICS=1: serve the job metrics on 127.0.0.1:PORT/metrics",
)
def scheduler(exit_with_parent: bool, metrics_port: int | None) -> None:
    """Run the scheduled jobs of timebank/jobs.py until SIGTERM or Ctrl-C.

    Start one per deployment (a second one waits: only the holder of the database lease
    runs jobs, and a standby takes over within TIMEBANK_SCHEDULER_LEASE_SECONDS).
    """
    import logging

    from flask import current_app
    from flask.logging import default_handler

    from timebank.core.logs import configure_logging
    from timebank.jobs import JOBS
    from timebank.scheduling.process import SchedulerProcess

    try:
        process = SchedulerProcess(
            current_app._get_current_object(), JOBS, exit_with_parent=exit_with_parent
        )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    # one format (JSON by default) for the scheduler's own lines and APScheduler's warnings
    current_app.logger.removeHandler(default_handler)
    configure_logging(current_app.config["TIMEBANK_LOG_FORMAT"])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if metrics_port and current_app.config["TIMEBANK_METRICS"]:
        from prometheus_client import start_http_server

        from timebank.core import metrics

        metrics.enable()
        start_http_server(metrics_port, addr="127.0.0.1")
    process.start()


@click.group("jobs", invoke_without_command=True)
@click.pass_context
def jobs_group(ctx: click.Context) -> None:
    """The job table, the scheduler's lease and recent runs; `jobs run NAME` runs one now."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(jobs_list)


@jobs_group.command("list")
@click.option("--job", "job_name", default=None, help="only this job's runs")
@click.option("--limit", default=20, show_default=True, help="runs to show")
def jobs_list(job_name: str | None, limit: int) -> None:
    """List the jobs with their schedules, the lease, and the newest runs."""
    from flask import current_app

    from timebank.jobs import JOBS
    from timebank.scheduling import operations as scheduling

    last = scheduling.last_runs()
    click.echo(f"{'job':18} {'schedule':14} {'period':7} last run")
    for job in JOBS:
        run = last.get(job.name)
        seen = f"{run.outcome} {run.started_at:%Y-%m-%d %H:%M:%S}Z" if run else "never"
        schedule = job.schedule(current_app.config)
        click.echo(f"{job.name:18} {schedule:14} {job.period or '-':7} {seen}")
    lease = scheduling.current_lease()
    click.echo(
        f"\nlease: {lease.holder} until {lease.expires_at:%Y-%m-%d %H:%M:%S}Z"
        if lease
        else "\nlease: nobody has held it yet"
    )
    click.echo(f"\n{'run':>6} {'job':18} {'period':10} {'started (UTC)':19} {'outcome':11} counts")
    for run in scheduling.recent_runs(job=job_name, limit=limit):
        click.echo(
            f"{run.id:>6} {run.job:18} {run.period or '-':10} "
            f"{run.started_at:%Y-%m-%d %H:%M:%S} {run.outcome:11} {run.counts or run.error or ''}"
        )


@jobs_group.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Run one job now (a daily job does the days due and not done, in order)."""
    import os
    import socket

    from timebank.core.clock import utcnow
    from timebank.jobs import JOBS
    from timebank.scheduling import operations as scheduling

    try:
        runs = scheduling.run_job(
            scheduling.find_job(JOBS, name),
            now=utcnow(),
            trigger="manual",
            runner=f"cli@{socket.gethostname()}:{os.getpid()}",
        )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    if not runs:
        click.echo(f"{name}: nothing was due.")
    for run in runs:
        click.echo(f"run {run.id} {run.job} {run.period or ''} {run.outcome} {run.counts or ''}")
        if run.error:
            click.echo(run.error, err=True)
    if any(run.outcome in ("failed", "alert") for run in runs):
        raise SystemExit(1)


@click.group("merchants")
def merchants_group() -> None:
    """Redemption holds and monthly statements of merchants."""


@merchants_group.command("expire-redemptions")
@click.pass_context
def merchants_expire_redemptions(ctx: click.Context) -> None:
    """An alias of `timebank jobs run release-holds` (recorded like every run)."""
    ctx.invoke(jobs_run, name="release-holds")


@merchants_group.command("statements")
@click.option("--month", default=None, help="YYYY-MM: rebuild that month; default: the job")
@click.pass_context
def merchants_statements(ctx: click.Context, month: str | None) -> None:
    """Without --month, an alias of `timebank jobs run merchant-statements` (each month
    due and not done, recorded). With --month, rebuild that month's statements from the
    ledger on demand, as an organizer's page does for a unit; paid ones are checked,
    never changed."""
    if month is None:
        ctx.invoke(jobs_run, name="merchant-statements")
        return
    _rebuild_statements(month)


@transactional
def _rebuild_statements(month: str) -> None:
    from timebank.core.clock import utcnow
    from timebank.merchants import operations as merchants

    built = merchants.build_monthly_statements(utcnow(), period=merchants.parse_month(month))
    for statement in built:
        click.echo(
            f"{statement.month} {statement.merchant.name}: {statement.points_net} points, "
            f"{statement.amount_fen / 100:.2f} yuan, {statement.status}"
        )
    click.echo(f"{len(built)} statements.")


@click.command("i18n-keywords", hidden=True)
def i18n_keywords() -> None:
    """pybabel -k options for every DomainError class: their first argument is a msgid."""
    from timebank.core.errors import DomainError

    # every subclass, not only those with a code of their own: WrongCode shares
    # CodeInvalid's code, and its message must be extracted as well
    names, classes = set(), [DomainError]
    while classes:
        cls = classes.pop()
        names.add(cls.__name__)
        classes.extend(cls.__subclasses__())
    click.echo(" ".join(f"-k {name}" for name in sorted(names)))


def _create_app(*args, **kwargs):
    from timebank import create_app
    from timebank.config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


main = FlaskGroup(create_app=_create_app, help="The timebank service.")


@click.group("transparency")
def transparency_group() -> None:
    """The public transparency log: append entries, sign checkpoints, show its state."""


@transparency_group.command("append")
@transactional
def transparency_append() -> None:
    """Append the entries below the horizon to each ledger's log (the every-minute job)."""
    from timebank.transparency import operations as transparency

    counts = transparency.append_entries()
    if counts.get("waiting"):
        click.echo("Open postings did not finish in time; nothing appended, try again.")
    for name in ("HOURS", "POINTS"):
        head = transparency.read_head(name)
        click.echo(f"{name}: +{counts[name]} entries, {head.size if head else 0} in the log")


@transparency_group.command("sign")
@transactional
def transparency_sign() -> None:
    """Append, then sign a checkpoint of each ledger's log that grew; refuses (exit 1) a
    log inconsistent with the last checkpoint."""
    from timebank.transparency import operations as transparency

    signed = transparency.sign_now(actor_id=None, via="cli")
    for checkpoint in signed:
        click.echo(checkpoint.note)
    if not signed:
        click.echo("Nothing new to sign: the logs have not grown.")


@transparency_group.command("status")
def transparency_status() -> None:
    """Each log's size and newest signed checkpoint (cosignatures included)."""
    from timebank.transparency import operations as transparency
    from timebank.transparency.errors import NoCheckpoint

    for name in ("HOURS", "POINTS"):
        head = transparency.read_head(name)
        click.echo(
            f"{name}: {head.size if head else 0} entries in the log, "
            f"up to entry {head.last_entry_id if head else 0}"
        )
        try:
            click.echo(transparency.latest_published(name).note)
        except NoCheckpoint:
            click.echo("  no checkpoint signed yet\n")


@click.group("keys")
def keys_group() -> None:
    """The deployment's Ed25519 signing key (certificates, checkpoints)."""


@keys_group.command("generate")
def keys_generate() -> None:
    """Print a new private seed for TIMEBANK_SIGNING_KEY (keep it secret, back it up)."""
    from timebank.core.signing import generate_seed

    click.echo(generate_seed())


@keys_group.command("show")
def keys_show() -> None:
    """Print the public key the deployment publishes at /.well-known/timebank-keys."""
    import json

    from timebank.core.signing import public_key_document

    click.echo(json.dumps(public_key_document(), indent=2))


@click.group("reports")
def reports_group() -> None:
    """The reports' derived table of member flows (roll-ups read it with the ledger)."""


@reports_group.command("refresh")
@transactional
def reports_refresh() -> None:
    """Copy the transfers past the mark (the report-flows job does it every minute)."""
    from timebank.reports import operations as reports

    click.echo(f"{reports.refresh_flows()} transfers taken; mark at {reports.flows_mark()}")


@reports_group.command("rebuild")
@transactional
def reports_rebuild() -> None:
    """Empty report_flows and fill it again from the ledger."""
    from timebank.reports import operations as reports

    click.echo(f"rebuilt from {reports.rebuild_flows()} transfers; mark at {reports.flows_mark()}")


#: pg_dump and pg_restore keep session state: behind PgBouncer, name the server itself
_URL_OPTION = click.option(
    "--url", default=None, help="the database itself (not PgBouncer); default: the configured one"
)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@_URL_OPTION
def backup(path: str, url: str | None) -> None:
    """Back the database up to PATH while the service runs (SQLite: the online backup
    API; PostgreSQL: pg_dump --format=custom)."""
    from flask import current_app

    from timebank.core.backup import BackupError, backup_database

    try:
        click.echo(backup_database(url or current_app.config["SQLALCHEMY_DATABASE_URI"], path))
    except BackupError as error:
        raise click.ClickException(str(error)) from None


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_URL_OPTION
def restore(path: str, url: str | None) -> None:
    """Restore the backup at PATH into the configured database, which must be empty
    (then check it: timebank ledger verify)."""
    from flask import current_app

    from timebank.core.backup import BackupError, restore_database

    try:
        click.echo(restore_database(url or current_app.config["SQLALCHEMY_DATABASE_URI"], path))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
