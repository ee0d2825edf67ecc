"""Activities: publish, sign up, rotating check-in codes, scans, hours, approval, party report.

One file per topic; callers use this package as one module
(``from timebank.activities import operations as activities``), so every public name is
re-exported here.

Every function that depends on the time takes ``now`` (default: the server clock), so
step boundaries and windows are tested exactly.
"""

from timebank.activities.operations.approval import (
    MAX_BULK,
    approve_attendance,
    attendance_counts,
    count_attendance_waiting,
    get_attendance,
    list_attendance,
    reject_attendance,
)
from timebank.activities.operations.checkin_codes import (
    BADGE,
    KIOSK,
    OFFLINE_MAX_AGE,
    STEP_SECONDS,
    VerifiedCode,
    badge_token,
    checkin_url,
    current_badge,
    current_code,
    kiosk_short_code,
    kiosk_state,
    kiosk_token,
    step_of,
    token_from_scan,
    verify_badge_code,
    verify_kiosk_code,
)
from timebank.activities.operations.hours import (
    close_all_missing_checkouts,
    close_missing_checkouts,
    points_for,
    rounding_minutes,
    service_minutes,
)
from timebank.activities.operations.lookups import (
    activities_select,
    activity_target,
    categories,
    get_activity,
    list_activities,
    local_day_start,
    local_zone,
    nearby_unit_ids_select,
)
from timebank.activities.operations.publishing import cancel_activity, create_activity
from timebank.activities.operations.reminders import (
    notify_cancellation,
    remind_signed_up,
    reminder_key,
    signed_up_members,
)
from timebank.activities.operations.reports import (
    PartyRow,
    my_attendance,
    my_signups,
    party_members_not_served,
    party_report,
    quarter_start,
)
from timebank.activities.operations.scans import (
    CHECKIN_OPENS_BEFORE,
    CHECKOUT_CLOSES_AFTER,
    MIN_CHECKOUT_GAP,
    ScanResult,
    check_in,
    count_scan_attempt,
    find_member_for_manual_check_in,
    haversine_m,
    manual_check_in,
    record_scan,
    scan_badge,
)
from timebank.activities.operations.signups import (
    active_signup_count,
    get_signup,
    sign_up,
    withdraw,
)

__all__ = [
    "BADGE",
    "CHECKIN_OPENS_BEFORE",
    "CHECKOUT_CLOSES_AFTER",
    "KIOSK",
    "MAX_BULK",
    "MIN_CHECKOUT_GAP",
    "OFFLINE_MAX_AGE",
    "STEP_SECONDS",
    "PartyRow",
    "ScanResult",
    "VerifiedCode",
    "active_signup_count",
    "activities_select",
    "activity_target",
    "approve_attendance",
    "attendance_counts",
    "badge_token",
    "cancel_activity",
    "categories",
    "check_in",
    "count_scan_attempt",
    "checkin_url",
    "close_all_missing_checkouts",
    "close_missing_checkouts",
    "count_attendance_waiting",
    "create_activity",
    "current_badge",
    "current_code",
    "find_member_for_manual_check_in",
    "get_activity",
    "get_attendance",
    "get_signup",
    "haversine_m",
    "kiosk_short_code",
    "kiosk_state",
    "kiosk_token",
    "list_activities",
    "list_attendance",
    "local_day_start",
    "local_zone",
    "manual_check_in",
    "my_attendance",
    "my_signups",
    "notify_cancellation",
    "nearby_unit_ids_select",
    "party_members_not_served",
    "party_report",
    "points_for",
    "quarter_start",
    "record_scan",
    "reject_attendance",
    "remind_signed_up",
    "reminder_key",
    "rounding_minutes",
    "scan_badge",
    "service_minutes",
    "sign_up",
    "signed_up_members",
    "step_of",
    "token_from_scan",
    "verify_badge_code",
    "verify_kiosk_code",
    "withdraw",
]
