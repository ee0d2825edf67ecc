"""Pages: a member's statement, and the organizers' four-eyes approval queue."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.people import operations as people

bp = Blueprint("ledger", __name__)


class ActionForm(FlaskForm):
    """Only the CSRF token, for approve and reject buttons."""


@bp.route("/me/statement")
@login_required
def statement():
    before = request.args.get("before", type=int)
    lines = ledger.member_history(current_user.id, before_entry_id=before, limit=50)
    return render_template(
        "ledger/statement.html",
        balances=ledger.balances(current_user.id),
        lines=lines,
        next_cursor=lines[-1].entry_id if len(lines) == 50 else None,
    )


@bp.route("/units/<int(max=2147483647):unit_id>/pending-credits")
@login_required
def pending_credits(unit_id: int):
    people.authorize(current_user, "ledger.approve", unit_id)
    pending = ledger.list_pending_credits(unit_id)
    return render_template(
        "ledger/pending.html",
        unit_id=unit_id,
        pending=pending,
        members={p.id: ledger.get_account(p.credit_account_id).member_id for p in pending},
        form=ActionForm(),
    )


@bp.route(
    "/pending-credits/<int(max=2147483647):pending_id>/<any(approve, reject):decision>",
    methods=["POST"],
)
@login_required
def decide(pending_id: int, decision: str):
    pending = ledger.get_pending_credit(pending_id)
    if ActionForm().validate_on_submit():
        try:
            people.authorize(current_user, "ledger.approve", pending.unit_id)
            if decision == "approve":
                ledger.approve_manual_credit(pending_id, approver_id=current_user.id)
                flash(_("The credit was approved and posted."), "success")
            else:
                ledger.reject_manual_credit(pending_id, approver_id=current_user.id)
                flash(_("The credit was rejected."), "success")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.localized(), "error")
    return redirect(url_for("ledger.pending_credits", unit_id=pending.unit_id))
