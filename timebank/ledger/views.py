"""Pages: a member's statement, and the organizers' four-eyes approval queue."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from timebank.core import access
from timebank.core.web import ActionForm, page
from timebank.ledger import operations as ledger

bp = Blueprint("ledger", __name__)
PAGE = 50


@bp.route("/me/statement")
@page("me.ledger")
def statement():
    member = access.acting_member()
    before = request.args.get("before", type=int)
    lines = ledger.member_history(member.id, before_entry_id=before, limit=PAGE)
    return render_template(
        "ledger/statement.html",
        balances=ledger.balances(member.id),
        lines=lines,
        next_cursor=lines[-1].entry_id if len(lines) == PAGE else None,
    )


@bp.route("/units/<int(max=2147483647):unit_id>/pending-credits")
@page("ledger.approve", target=lambda unit_id: access.target_of("unit", unit_id))
def pending_credits(unit_id: int):
    pending = ledger.list_pending_credits(access.subtree_select(unit_id))
    return render_template(
        "ledger/pending.html",
        unit_id=unit_id,
        pending=pending,
        members={p.id: ledger.get_account(p.credit_account_id).member_id for p in pending},
        form=ActionForm(),
    )


def _queue(pending_id: int) -> str:
    return url_for("ledger.pending_credits", unit_id=ledger.get_pending_credit(pending_id).unit_id)


@bp.route(
    "/pending-credits/<int(max=2147483647):pending_id>/<any(approve, reject):decision>",
    methods=["POST"],
)
@page("ledger.approve", target=ledger.pending_credit_target)
def decide(pending_id: int, decision: str):
    if ActionForm().validate_on_submit():
        approver = access.current_actor()
        if decision == "approve":
            ledger.approve_manual_credit(
                pending_id, approver_id=approver.id, approver_wards=access.wards_of(approver)
            )
            flash(_("The credit was approved and posted."), "success")
        else:
            ledger.reject_manual_credit(pending_id, approver_id=approver.id)
            flash(_("The credit was rejected."), "success")
    return redirect(_queue(pending_id))
