"""What pages call the states, kinds and events of the three lists, in the reader's
language (marked for extraction)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from timebank.projects.models import CATEGORY_NAMES, RESOURCE_CATEGORY_NAMES

NAMES = {
    "category": CATEGORY_NAMES,
    "resource_category": RESOURCE_CATEGORY_NAMES,
    "need_status": {
        "open": _l("Open"),
        "accepted": _l("Accepted"),
        "merged": _l("Merged"),
        "declined": _l("Declined"),
        "resolved": _l("Resolved"),
    },
    "project_status": {
        "draft": _l("Draft"),
        "open": _l("Open for claims"),
        "staffed": _l("Staffed"),
        "in_progress": _l("In progress"),
        "done": _l("Done"),
        "verified": _l("Verified"),
        "cancelled": _l("Cancelled"),
    },
    "urgency": {
        "low": _l("Low"),
        "normal": _l("Normal"),
        "high": _l("High"),
        "urgent": _l("Urgent"),
    },
    "claim_kind": {
        "volunteer": _l("Claimed"),
        "organization": _l("Named by a partner organization"),
        "assignment": _l("Assigned"),
    },
    "claim_status": {
        "pending": _l("Waiting for an answer"),
        "active": _l("Serving"),
        "declined": _l("Declined"),
        "withdrawn": _l("Withdrawn"),
    },
    "log_status": {
        "pending": _l("Waiting for approval"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
    },
    "resource_status": {"available": _l("Available"), "withdrawn": _l("Withdrawn")},
    "event": {
        "status": _l("State"),
        "filed": _l("Filed"),
        "claim": _l("Claimed a place"),
        "withdraw": _l("Withdrew"),
        "assign": _l("Assigned"),
        "accept": _l("Accepted the assignment"),
        "decline": _l("Declined the assignment"),
        "organization_claim": _l("A partner organization claimed it"),
        "need": _l("Answers a need"),
        "resource": _l("Uses a resource"),
        "project": _l("Accepted into a project"),
        "merged_in": _l("A duplicate was merged in"),
        "confirm": _l("Result confirmed"),
    },
    "role": {"contact": _l("Contact"), "member": _l("Member")},
}
