"""The job table: every scheduled job, and the one operation each calls.

``timebank scheduler`` runs this table (timebank/scheduling/process.py): one process,
leader by a database lease, each job in its own unit of work, every run recorded. Each
job's schedule is the setting TIMEBANK_JOB_<NAME> (``every 5m``, a crontab in local time,
or ``off``), whose default lives in config.SETTINGS and which the README lists.

A job function takes the moment to run as of and returns what it did. It calls
operations, which flush; the runner commits. Everything it does must be idempotent (a
rerun after a crash changes nothing): ledger idempotency keys, lots with nothing left,
notification keys such as ``remind:<activity>:<member>:<kind>``, and for jobs done once a
day or month the period mark written with their effects.

Adding a job is one entry below (plus its setting's default in config.SETTINGS and a
README row).
"""

from __future__ import annotations

from datetime import datetime

from timebank.activities import operations as activities
from timebank.core.errors import N_
from timebank.ledger import operations as ledger
from timebank.ledger.models import LEDGERS
from timebank.merchants import operations as merchants
from timebank.reminders import operations as reminders
from timebank.reports import operations as reports
from timebank.scheduling import operations as scheduling
from timebank.scheduling.table import Job
from timebank.transparency import operations as transparency
from timebank.transparency.errors import LogInconsistent

JOBS: tuple[Job, ...] = (
    Job(
        "close-checkouts",
        "timebank.jobs:close_checkouts",
        doc=N_("Close check-ins nobody checked out of, at the end of the activity's window"),
    ),
    Job(
        "release-holds",
        "timebank.jobs:release_holds",
        doc=N_("Release holds (merchant redemptions) past their timeout"),
    ),
    Job(
        "expire-points",
        "timebank.jobs:expire_points",
        period="day",
        catch_up="each",
        doc=N_("Expire points past their lot's date, oldest first; each missed day once"),
    ),
    Job(
        "verify-ledger",
        "timebank.jobs:verify_ledger",
        period="day",
        catch_up="latest",
        doc=N_("Verify every hash chain and balance, then checkpoint; alert admins if broken"),
    ),
    Job(
        "merchant-statements",
        "timebank.jobs:merchant_statements",
        period="month",
        catch_up="each",
        doc=N_("Build every merchant's statement of the month before; each missed month once"),
    ),
    Job(
        "remind-activities",
        "timebank.jobs:remind_activities",
        doc=N_("Remind members signed up the day and the hour before; tell them of cancellations"),
    ),
    Job(
        "remind-party",
        "timebank.jobs:remind_party",
        period="day",
        catch_up="latest",
        doc=N_("Remind party members who have not served this quarter"),
    ),
    Job(
        "remind-approvals",
        "timebank.jobs:remind_approvals",
        period="day",
        catch_up="latest",
        doc=N_("Remind organizers of approvals waiting more than two days"),
    ),
    Job(
        "report-flows",
        "timebank.jobs:report_flows",
        doc=N_("Copy new ledger transfers into the reports' table of member flows"),
    ),
    Job(
        "append-log",
        "timebank.jobs:append_log",
        doc=N_("Append the ledger's final entries to the public transparency log"),
    ),
    Job(
        "sign-checkpoints",
        "timebank.jobs:sign_checkpoints",
        doc=N_("Sign a checkpoint of each ledger's transparency log that grew"),
    ),
)


def close_checkouts(now: datetime) -> dict[str, int]:
    return {"closed": activities.close_all_missing_checkouts(now=now)}


def release_holds(now: datetime) -> dict[str, int]:
    """Redemptions nobody confirmed in time (their holds released, marked expired), then
    any other hold past its timeout."""
    redemptions = merchants.expire_stale_redemptions(now)
    return {"redemptions": redemptions, "released": redemptions + ledger.expire_holds(now)}


def merchant_statements(as_of: datetime) -> dict[str, int]:
    """The statements of the month that ended before ``as_of`` (each merchant once)."""
    statements = merchants.build_monthly_statements(as_of)
    return {"statements": len(statements), "points": sum(s.points_net for s in statements)}


def expire_points(as_of: datetime) -> dict[str, int]:
    posted = ledger.expire_points(as_of)
    return {"transfers": len(posted), "points": sum(t.amount for t in posted)}


def verify_ledger(now: datetime) -> dict[str, int]:
    """Verify; if the ledger is broken raise an alert and write no checkpoint (it would
    bless the damage), else checkpoint each ledger."""
    report = ledger.run_verification(actor_id=None, via="job")
    if not report.ok:
        day = now.astimezone(scheduling.local_zone()).date().isoformat()
        scheduling.raise_alert(
            "ledger_verify_failed", f"alert:verify-ledger:{day}", str(report.problem)
        )
        return {"entries": report.entries, "problems": 1}
    for name in LEDGERS:
        ledger.create_checkpoint(name)
    return {"entries": report.entries, "transfers": report.transfers, "checkpoints": len(LEDGERS)}


def remind_activities(now: datetime) -> dict[str, int]:
    return activities.remind_signed_up(now)


def remind_party(now: datetime) -> dict[str, int]:
    return reminders.remind_party_members(now)


def remind_approvals(now: datetime) -> dict[str, int]:
    return reminders.remind_organizers(now)


def report_flows(now: datetime) -> dict[str, int]:
    """The transfers past the mark (at least five minutes old) into ``report_flows``."""
    return {"transfers": reports.refresh_flows(now=now)}


def append_log(now: datetime) -> dict[str, int]:
    """Entries below the horizon join each ledger's log; a log that no longer matches its
    entries raises an alert and takes nothing."""
    try:
        return transparency.append_entries(now)
    except LogInconsistent as error:
        _log_alert(now, "append-log", error)
        return {"problems": 1}


def sign_checkpoints(now: datetime) -> dict[str, int]:
    """Append, then sign each ledger's log that grew; never over a log inconsistent with
    the last checkpoint (an alert instead)."""
    try:
        signed = transparency.sign_checkpoints(now)
    except LogInconsistent as error:
        _log_alert(now, "sign-checkpoints", error)
        return {"problems": 1}
    return {c.ledger: c.tree_size for c in signed} | {"signed": len(signed)}


def _log_alert(now: datetime, job: str, error: LogInconsistent) -> None:
    day = now.astimezone(scheduling.local_zone()).date().isoformat()
    scheduling.raise_alert("ledger_verify_failed", f"alert:{job}:{day}", error.message)
