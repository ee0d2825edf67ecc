"""Pages: a member's statement in words, the organizers' four-eyes queue, and the admins'
ledger check (verify and checkpoints). Requests (award, correction, donation) are in
request_views.py."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from timebank.core import access
from timebank.core.access import Target
from timebank.core.names import names_of
from timebank.core.pending import pending_credits as waiting_for_member
from timebank.core.web import ActionForm, Form, page
from timebank.ledger import operations as ledger
from timebank.ledger.models import LEDGERS
from timebank.ledger.statement import describe

bp = Blueprint("ledger", __name__)
PAGE = 50
MEMBER = "/members/<int(max=2147483647):member_id>"

LEDGER_NAMES = {"HOURS": _l("Time bank hours"), "POINTS": _l("Points")}
MANUAL_NAMES = {"award": _l("Award"), "correct": _l("Correction")}
DECISION_NAMES = {
    "pending": _l("Waiting for a second organizer"),
    "approved": _l("Approved and posted"),
    "rejected": _l("Rejected"),
}


@bp.app_context_processor
def _names():
    return {"LEDGER_NAMES": LEDGER_NAMES, "MANUAL_NAMES": MANUAL_NAMES}


def _statement(member_id: int, **extra):
    chosen = request.args.get("ledger")
    chosen = chosen if chosen in LEDGERS else None
    before = request.args.get("before", type=int)
    lines = ledger.member_history(member_id, ledger=chosen, before_entry_id=before, limit=PAGE)
    return {
        "balances": ledger.balances(member_id),
        "lines": describe(lines),
        "chosen": chosen,
        "next_cursor": lines[-1].entry_id if len(lines) == PAGE else None,
        **extra,
    }


@bp.route("/me/statement")
@page("me.ledger")
def statement():
    """One's own statement (or a ward's, with ?for=): every line in words, local times."""
    member = access.acting_member()
    return render_template(
        "ledger/statement.html",
        member=member,
        own=True,
        asked=ledger.requested_by(member.id, limit=10),
        pending=waiting_for_member(member.id),
        **_statement(member.id),
    )


@bp.route(f"{MEMBER}/statement")
@page("members.view", target=lambda member_id: access.target_of("member", member_id))
def member_statement(member_id: int):
    """A member's statement as their organizers see it, with a link to correct a line."""
    actor = access.current_actor()
    target = access.target_of("member", member_id)
    return render_template(
        "ledger/statement.html",
        member_name=names_of("member", [member_id]).get(member_id, ""),
        member_id=member_id,
        own=False,
        corrects=access.may(actor, "ledger.correct", target) and target.member != actor.id,
        **_statement(member_id),
    )


# ---------------------------------------------------------------- the four-eyes queue


class RejectForm(Form):
    reason = StringField(_l("Reason (the requester reads it)"), validators=[Length(max=500)])


@bp.route("/units/<int(max=2147483647):unit_id>/pending-credits")
@page("ledger.approve", target=lambda unit_id: access.target_of("unit", unit_id))
def pending_credits(unit_id: int):
    subtree = access.subtree_select(unit_id)
    pending = ledger.list_pending_credits(subtree)
    decided = ledger.list_pending_credits(subtree, status="approved", limit=10)
    decided += ledger.list_pending_credits(subtree, status="rejected", limit=10)
    decided.sort(key=lambda p: p.decided_at or p.created_at, reverse=True)
    rows = pending + decided
    beneficiaries = {p.id: ledger.get_account(p.credit_account_id).member_id for p in rows}
    people = names_of(
        "member",
        [*beneficiaries.values()]
        + [p.requested_by_id for p in rows]
        + [p.decided_by_id for p in rows],
    )
    return render_template(
        "ledger/pending.html",
        unit_id=unit_id,
        unit_name=names_of("unit", [unit_id]).get(unit_id, ""),
        pending=pending,
        decided=decided[:10],
        beneficiaries=beneficiaries,
        people=people,
        DECISION_NAMES=DECISION_NAMES,
        form=ActionForm(),
        reject_form=RejectForm(),
        me=access.current_actor().id,
    )


def _queue_after(pending_id: int) -> str:
    """The queue the decision was made in (a unit the approver may approve in), else the
    queue of the credit's own unit."""
    queue = request.form.get("queue", "")
    # a unit gone meanwhile is in nobody's scope: then the credit's own queue
    if (
        queue.isascii()
        and queue.isdigit()
        and len(queue) < 10
        and access.may(access.current_actor(), "ledger.approve", Target(unit=int(queue)))
    ):
        return url_for("ledger.pending_credits", unit_id=int(queue))
    return url_for("ledger.pending_credits", unit_id=ledger.get_pending_credit(pending_id).unit_id)


def _back_to_queue(error, kwargs):
    flash(error.localized(), "error")
    return redirect(_queue_after(kwargs["pending_id"]))


@bp.route(
    "/pending-credits/<int(max=2147483647):pending_id>/<any(approve, reject):decision>",
    methods=["POST"],
)
@page("ledger.approve", target=ledger.pending_credit_target, on_error=_back_to_queue)
def decide(pending_id: int, decision: str):
    form = RejectForm()
    if form.validate_on_submit():
        approver = access.current_actor()
        if decision == "approve":
            ledger.approve_manual_credit(pending_id, approver_id=approver.id)
            flash(_("The credit was approved and posted."), "success")
        else:
            ledger.reject_manual_credit(
                pending_id, approver_id=approver.id, reason=form.reason.data
            )
            flash(_("The credit was rejected."), "success")
    return redirect(_queue_after(pending_id))


# ---------------------------------------------------------------- verify and checkpoints


@bp.route("/ledger/integrity", methods=["GET", "POST"])
@page("ledger.verify")
def integrity():
    """Admins: the published checkpoints; the button (a POST) recomputes every chain and
    puts the run on the audit trail."""
    report = None
    if request.method == "POST" and ActionForm().validate_on_submit():
        report = ledger.run_verification(actor_id=access.current_actor().id, via="page")
    return render_template(
        "ledger/integrity.html",
        report=report,
        checkpoints=ledger.list_checkpoints()[:20],
        form=ActionForm(),
    )


@bp.route("/ledger/checkpoints", methods=["POST"])
@page("ledger.verify")
def record_checkpoint():
    if ActionForm().validate_on_submit():
        for name in LEDGERS:
            ledger.create_checkpoint(name)
        flash(_("A checkpoint of each ledger was recorded."), "success")
    return redirect(url_for("ledger.integrity"))


from timebank.ledger import request_views  # noqa: E402,F401 - its pages join this blueprint
