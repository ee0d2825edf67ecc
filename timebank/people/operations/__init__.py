"""People's operations, one file per topic; import them from here.

    members      get, find and create members; roles; members of a subtree
    credentials  phone numbers, password strength and hashing
    login        phone and password, bearer tokens
    guardians    who may act for whom
    joining      join links, SMS codes, approving registrations
    party        party data and the dual report (双报到)
    roster       CSV and XLSX roster import
    audit        the audit trail
    removal      removing a member: pseudonymise, keep the ledger

``from timebank.people import operations as people`` then ``people.create_member(...)``.
"""

from __future__ import annotations

from timebank.people.operations.audit import acts_on_behalf_of, record_audit
from timebank.people.operations.credentials import (
    check_password_strength,
    hash_password,
    normalize_phone,
    password_matches,
)
from timebank.people.operations.donation_news import tell_donation_received
from timebank.people.operations.guardians import (
    add_guardian,
    decide_guardianship,
    get_guardianship,
    guardian_may_act_for,
    guardianships_of,
    is_guardian,
    pending_guardianships,
    wards_of,
)
from timebank.people.operations.joining import (
    approve_member,
    current_join_link,
    get_join_link,
    has_join_link,
    homes_of_join_link,
    join_url,
    reject_member,
    renew_join_link,
    resend_join_code,
    start_registration,
    unit_of_join_code,
    verify_phone,
)
from timebank.people.operations.login import (
    authenticate,
    change_password,
    end_all_sessions,
    has_password,
    issue_token,
    login_with_code,
    member_for_token,
    rejection_reason,
    revoke_token,
    send_login_code,
)
from timebank.people.operations.members import (
    action_to_grant,
    active_member_id_by_phone,
    count_members,
    create_member,
    find_member_by_phone,
    get_member,
    get_member_shown,
    grant_role,
    list_members,
    member_at_home,
    member_names,
    member_target,
    members_in_unit_select,
    official_role,
    read_member_shown,
    set_locale,
)
from timebank.people.operations.party import register_party
from timebank.people.operations.phone_codes import (
    OTP_MAX_ATTEMPTS,
    OTP_MAX_PER_HOUR,
    send_phone_code,
    take_phone_code,
)
from timebank.people.operations.records import (
    MemberPage,
    move_member,
    reinstate_member,
    search_members,
    suspend_member,
    update_member,
)
from timebank.people.operations.removal import REMOVED_NAME, remove_member, removed_phone
from timebank.people.operations.roster import (
    ROSTER_COLUMNS,
    ROSTER_HEADERS,
    RosterReport,
    import_roster,
    read_roster,
)

__all__ = [
    "tell_donation_received",
    "OTP_MAX_ATTEMPTS",
    "OTP_MAX_PER_HOUR",
    "ROSTER_COLUMNS",
    "ROSTER_HEADERS",
    "MemberPage",
    "move_member",
    "reinstate_member",
    "search_members",
    "suspend_member",
    "update_member",
    "RosterReport",
    "action_to_grant",
    "active_member_id_by_phone",
    "add_guardian",
    "decide_guardianship",
    "get_guardianship",
    "pending_guardianships",
    "approve_member",
    "authenticate",
    "change_password",
    "end_all_sessions",
    "has_password",
    "login_with_code",
    "rejection_reason",
    "send_login_code",
    "check_password_strength",
    "count_members",
    "create_member",
    "current_join_link",
    "find_member_by_phone",
    "get_join_link",
    "homes_of_join_link",
    "get_member",
    "get_member_shown",
    "member_at_home",
    "official_role",
    "read_member_shown",
    "grant_role",
    "guardian_may_act_for",
    "guardianships_of",
    "hash_password",
    "import_roster",
    "is_guardian",
    "issue_token",
    "join_url",
    "list_members",
    "member_for_token",
    "member_target",
    "member_names",
    "members_in_unit_select",
    "normalize_phone",
    "password_matches",
    "read_roster",
    "record_audit",
    "REMOVED_NAME",
    "remove_member",
    "removed_phone",
    "acts_on_behalf_of",
    "register_party",
    "reject_member",
    "has_join_link",
    "renew_join_link",
    "unit_of_join_code",
    "resend_join_code",
    "revoke_token",
    "send_phone_code",
    "take_phone_code",
    "set_locale",
    "start_registration",
    "verify_phone",
    "wards_of",
]
