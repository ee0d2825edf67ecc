"""The scheduler's operations, one file per topic; import them from here.

    leases   the scheduler's leadership: claim, fence, release
    runs     run a job (recorded, once per period, caught up in order), list runs
    alerts   rows admins see on their home page, also logged at ERROR

``from timebank.scheduling import operations as scheduling``.
"""

from timebank.scheduling.operations.alerts import (
    ALERT_KINDS,
    RESOLUTION_MAX,
    get_alert,
    open_alerts,
    raise_alert,
    recent_alerts,
    resolve_alert,
)
from timebank.scheduling.operations.leases import (
    LEADER,
    claim_lease,
    current_lease,
    fence,
    leader_renewed_at,
    release_lease,
)
from timebank.scheduling.operations.runs import (
    due_periods,
    find_job,
    last_runs,
    local_zone,
    lock_job,
    mark_interrupted,
    recent_runs,
    record_run,
    run_job,
)

__all__ = [
    "ALERT_KINDS",
    "LEADER",
    "RESOLUTION_MAX",
    "claim_lease",
    "current_lease",
    "due_periods",
    "fence",
    "find_job",
    "get_alert",
    "last_runs",
    "leader_renewed_at",
    "local_zone",
    "lock_job",
    "mark_interrupted",
    "open_alerts",
    "raise_alert",
    "recent_alerts",
    "recent_runs",
    "record_run",
    "release_lease",
    "resolve_alert",
    "run_job",
]
