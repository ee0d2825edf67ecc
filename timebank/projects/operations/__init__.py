"""The three lists' operations, one file per topic; import them from here
(``from timebank.projects import operations as projects``):

    lookups        get, lock, what an action is done to, the lists a member sees
    states         the state machines of projects and needs (an illegal move: 409)
    history        who changed what, when and why (append-only)
    needs          filing, declining, merging, accepting into projects, resolving, rating
    wishes         small wishes (微心愿): take, give back
    resources      what partner organizations and members offer
    organizations  who acts for a partner organization (its contacts and people)
    publishing     creating projects and moving them through their states
    claims         places: claim, claim for an organization, assign, answer, withdraw
    hour_logs      reporting hours, photos, bulk approval that credits the ledger
    photos         photo bytes checked and kept under the photo folder
    clock          the deployment's local days

Every function that depends on the time takes ``now`` (default: the server clock).
"""

from timebank.projects.operations.claims import (
    answer_assignment,
    assign_member,
    claim_for_organization,
    claim_place,
    claims_of,
    find_member,
    member_claim,
    my_claims,
    places_taken,
    serving_claim,
    withdraw_claim,
)
from timebank.projects.operations.clock import local_date, local_day_start, local_zone
from timebank.projects.operations.history import (
    need_history,
    project_history,
    record_need_event,
    record_project_event,
)
from timebank.projects.operations.hour_logs import (
    MAX_BULK,
    WISH_DAILY_MINUTES,
    Decisions,
    approve_hour_logs,
    approved_minutes_since,
    attach_photo,
    count_hour_logs_waiting,
    hour_logs_of_project,
    hour_logs_select,
    lock_hour_logs,
    log_hours,
    members_with_approved_hours,
    my_hour_logs,
    reject_hour_logs,
    rounding_minutes,
)
from timebank.projects.operations.lookups import (
    assignment_target,
    get_claim,
    get_hour_log,
    get_need,
    get_project,
    get_resource,
    hour_log_target,
    hour_log_titles,
    lock_need,
    lock_project,
    nearby_unit_ids_select,
    need_resident_target,
    need_target,
    needs_in,
    needs_select,
    organized_units_select,
    project_target,
    projects_in,
    projects_select,
    resource_target,
    resources_select,
    wish_taker_target,
)
from timebank.projects.operations.needs import (
    SeenNeed,
    accept_need,
    confirm_need,
    decline_need,
    file_need,
    merge_need,
    merged_into_this,
    reopen_needs_of,
    require_reason,
    residents_to_file_for,
    resolve_needs_of,
    seen_needs,
)
from timebank.projects.operations.organizations import (
    add_organization_member,
    contact_organizations,
    is_contact,
    organization_members,
    require_contact,
    require_people,
)
from timebank.projects.operations.photos import photo_path, sniff_image, store_photo
from timebank.projects.operations.publishing import (
    MAX_DURATION,
    change_project_status,
    create_project,
    link_resource,
    pending_hour_logs,
)
from timebank.projects.operations.resources import offer_resource, withdraw_resource
from timebank.projects.operations.states import (
    MANUAL_PROJECT_STATES,
    NEED_TRANSITIONS,
    PROJECT_TRANSITIONS,
    move_need,
    move_project,
)
from timebank.projects.operations.wishes import release_wish, take_wish, wishes_taken_by

__all__ = [
    "count_hour_logs_waiting",
    "members_with_approved_hours",
    "MANUAL_PROJECT_STATES",
    "MAX_BULK",
    "MAX_DURATION",
    "NEED_TRANSITIONS",
    "PROJECT_TRANSITIONS",
    "WISH_DAILY_MINUTES",
    "Decisions",
    "SeenNeed",
    "accept_need",
    "add_organization_member",
    "answer_assignment",
    "approve_hour_logs",
    "approved_minutes_since",
    "assign_member",
    "assignment_target",
    "attach_photo",
    "change_project_status",
    "claim_for_organization",
    "claim_place",
    "claims_of",
    "confirm_need",
    "contact_organizations",
    "create_project",
    "decline_need",
    "file_need",
    "find_member",
    "get_claim",
    "get_hour_log",
    "get_need",
    "get_project",
    "get_resource",
    "hour_log_target",
    "hour_log_titles",
    "hour_logs_of_project",
    "hour_logs_select",
    "is_contact",
    "link_resource",
    "local_date",
    "local_day_start",
    "local_zone",
    "lock_hour_logs",
    "lock_need",
    "lock_project",
    "log_hours",
    "member_claim",
    "merge_need",
    "merged_into_this",
    "move_need",
    "move_project",
    "my_claims",
    "my_hour_logs",
    "nearby_unit_ids_select",
    "need_history",
    "need_resident_target",
    "need_target",
    "needs_in",
    "needs_select",
    "offer_resource",
    "organization_members",
    "organized_units_select",
    "pending_hour_logs",
    "photo_path",
    "places_taken",
    "project_history",
    "project_target",
    "projects_in",
    "projects_select",
    "record_need_event",
    "record_project_event",
    "reject_hour_logs",
    "release_wish",
    "reopen_needs_of",
    "require_contact",
    "require_people",
    "require_reason",
    "residents_to_file_for",
    "resolve_needs_of",
    "resource_target",
    "resources_select",
    "rounding_minutes",
    "seen_needs",
    "serving_claim",
    "sniff_image",
    "store_photo",
    "take_wish",
    "withdraw_claim",
    "withdraw_resource",
    "wish_taker_target",
    "wishes_taken_by",
]
