"""Report operations, one file per topic; callers import the package
(``from timebank.reports import operations as reports``):

- ledger_sums.py   member flows from the ledger by unit and month; who was active
- evidence.py      activities, attendance, needs, projects, redemptions
- rollups.py       a unit's roll-up over a period, its parts and months; chart data
- flows.py       the derived table of member flows: refresh, rebuild, its mark
- credits.py       verified credits entry by entry (net of their corrections)
- honour.py        the honour roll (光荣榜) and the choice to stay off public lists
- record.py        a member's service record
- party.py         the dual-report quarter (双报到)
- certificates.py  service certificates: request, issue, revoke, verify
- rosters.py       a unit's roster, hours per volunteer per month, attendance sheets
- seals.py         certificates sealed in the transparency log: checkpoint and proofs
- notice.py        a community's public figures for the transparency log's notice board
"""

from timebank.reports.operations.certificates import (
    IssueDetails,
    Verification,
    approve_certificate,
    canonical_content,
    certificates_in_unit,
    certificates_of,
    content_digest,
    get_certificate,
    get_certificate_by_id,
    issue_certificate,
    mask_id_number,
    reject_certificate,
    request_certificate,
    revoke_certificate,
    signed_document,
    verify_certificate,
)
from timebank.reports.operations.flows import flows_mark, rebuild_flows, refresh_flows
from timebank.reports.operations.honour import Place, honour_roll, is_hidden, set_hidden
from timebank.reports.operations.notice import notice_totals
from timebank.reports.operations.party import (
    BranchRow,
    Duty,
    MyQuarter,
    PartyRow,
    by_branch,
    my_quarter,
    party_members_not_served,
    party_report,
    quarter_start,
)
from timebank.reports.operations.record import RecordLine, ServiceRecord, service_record
from timebank.reports.operations.rollups import PART_FIGURES, Rollup, chart_data, unit_rollup
from timebank.reports.operations.rosters import (
    RosterRow,
    SheetLine,
    VolunteerMonths,
    attendance_sheet,
    unit_roster,
    volunteer_months,
)
from timebank.reports.operations.seals import Seal, certificate_seal, seal_waiting, try_seal

__all__ = [
    "notice_totals",
    "PART_FIGURES",
    "BranchRow",
    "Duty",
    "IssueDetails",
    "MyQuarter",
    "PartyRow",
    "Place",
    "RecordLine",
    "Rollup",
    "RosterRow",
    "SheetLine",
    "VolunteerMonths",
    "attendance_sheet",
    "unit_roster",
    "volunteer_months",
    "Seal",
    "certificate_seal",
    "seal_waiting",
    "try_seal",
    "ServiceRecord",
    "Verification",
    "approve_certificate",
    "by_branch",
    "canonical_content",
    "certificates_in_unit",
    "certificates_of",
    "flows_mark",
    "rebuild_flows",
    "refresh_flows",
    "chart_data",
    "content_digest",
    "get_certificate",
    "get_certificate_by_id",
    "honour_roll",
    "is_hidden",
    "issue_certificate",
    "mask_id_number",
    "my_quarter",
    "party_members_not_served",
    "party_report",
    "quarter_start",
    "reject_certificate",
    "request_certificate",
    "revoke_certificate",
    "service_record",
    "set_hidden",
    "signed_document",
    "unit_rollup",
    "verify_certificate",
]
