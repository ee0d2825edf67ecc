"""Pages: /admin/audit, where admins search the audit trail and download it as CSV."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from timebank.audit import operations as audit
from timebank.audit import words
from timebank.audit.api import csv_response
from timebank.audit.schemas import AuditArgs
from timebank.core.errors import InvalidInput
from timebank.core.web import page

bp = Blueprint("audit", __name__)

#: every action the code records, in words; an action not here is shown as its code
ACTION_NAMES = {
    "member.create": _l("Member added"),
    "member.edit": _l("Member details corrected"),
    "member.move": _l("Member moved"),
    "member.suspend": _l("Member suspended"),
    "member.reinstate": _l("Member reinstated"),
    "member.approve": _l("Registration approved"),
    "member.reject": _l("Registration turned down"),
    "member.verify_phone": _l("Phone verified"),
    "member.sessions_ended": _l("Logged out everywhere"),
    "member.remove": _l("Member removed (pseudonymised)"),
    "role.grant": _l("Role granted"),
    "role.revoke": _l("Role withdrawn"),
    "guardian.request": _l("Guardian asked for"),
    "guardian.confirm": _l("Guardian confirmed"),
    "guardian.decline": _l("Guardian declined"),
    "party.register": _l("Party data recorded"),
    "join_link.renew": _l("Join link renewed"),
    "activity.create": _l("Activity published"),
    "activity.edit": _l("Activity edited"),
    "activity.cancel": _l("Activity cancelled"),
    "merchant.apply": _l("Shop applied"),
    "merchant.approved": _l("Shop approved"),
    "merchant.rejected": _l("Shop turned down"),
    "merchant.suspended": _l("Shop suspended"),
    "offer.update": _l("Offer changed"),
    "redemption.confirm": _l("Redemption confirmed by the shop"),
    "redemption.void": _l("Redemption cancelled by the shop"),
    "redemption.refund": _l("Redemption refunded by the shop"),
    "unit.create": _l("Unit created"),
    "unit.update": _l("Unit's place changed"),
    "organization.create": _l("Partner organization added"),
    "attendance.approve": _l("Attendance approved"),
    "attendance.reject": _l("Attendance rejected"),
    "hour_log.approve": _l("Project hours approved"),
    "hour_log.reject": _l("Project hours rejected"),
    "pending_credit.request": _l("Manual credit requested"),
    "pending_credit.approve": _l("Manual credit approved"),
    "pending_credit.reject": _l("Manual credit rejected"),
    "ledger.correct": _l("Transfer corrected"),
    "ledger.donate": _l("Hours donated by a guardian"),
    "statement.pay": _l("Shop statement paid"),
    "ledger.verify": _l("Ledger verified"),
    "certificate.request": _l("Service certificate asked for"),
    "certificate.issue": _l("Service certificate issued"),
    "certificate.reject": _l("Service certificate turned down"),
    "certificate.revoke": _l("Service certificate revoked"),
    "transparency.sign": _l("Transparency checkpoint signed"),
    "transparency.witness_key": _l("Street office's witness key registered"),
    "transparency.cosign": _l("Checkpoint cosigned by a street office"),
    "on_behalf": _l("Done by a guardian"),
}


def action_name(code: str) -> str:
    return str(ACTION_NAMES.get(code, code))


def _filters() -> tuple[dict, dict]:
    """The parsed query string and the form's values; field errors become InvalidInput."""
    raw = {key: value for key, value in request.args.items() if value.strip() and key != "format"}
    try:
        args = AuditArgs().load(raw)
    except ValidationError as error:
        raise InvalidInput(errors=error.messages) from None
    return args, raw


@bp.route("/admin/audit")
@page("audit.view")
def audit_log():
    """Admins: the audit trail with filters, one page at a time; ``?format=csv`` downloads
    every matching row."""
    try:
        args, raw = _filters()
        if request.args.get("format") == "csv":
            return csv_response(args, in_words=True)
        page_number, per_page = args.pop("page"), args.pop("per_page")
        found = audit.search_audit(audit.filters_from(args), page=page_number, per_page=per_page)
        problem = None
    except InvalidInput as error:
        found, raw, problem = None, dict(request.args), error
    return render_template(
        "audit/audit.html",
        found=found,
        problem=problem,
        values=raw,
        action_name=action_name,
        action_choices=sorted(ACTION_NAMES.items(), key=lambda item: item[0]),
        summary=words.summary,
        said_target=words.target,
        said_detail=words.detail,
        target_choices=words.target_choices(),
    )
