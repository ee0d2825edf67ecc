"""/api/v1: balances, history, transfers (award, correct, donate), four-eyes approval,
ledger verification and checkpoints."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from timebank.core.errors import Forbidden
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import PendingCredit
from timebank.ledger.schemas import (
    BalancesSchema,
    CheckpointSchema,
    HistoryArgs,
    HistoryPageSchema,
    PendingCreditSchema,
    PendingListArgs,
    TransferRequestSchema,
    TransferResultSchema,
    VerifySchema,
)
from timebank.people import operations as people
from timebank.people.auth import acting_member, calling_member

blp = Blueprint("ledger_api", __name__, url_prefix="/api/v1", description="The ledger")


@blp.route("/me/balances")
class MyBalances(MethodView):
    @blp.response(200, BalancesSchema)
    def get(self):
        """The caller's balances: HOURS in minutes, POINTS; held and available amounts."""
        member, _guardian = acting_member()
        result = ledger.balances(member.id)
        return {
            "HOURS": result["HOURS"]["balance"],
            "POINTS": result["POINTS"]["balance"],
            "held": {k: v["held"] for k, v in result.items()},
            "available": {k: v["available"] for k, v in result.items()},
        }


@blp.route("/me/transfers")
class MyTransfers(MethodView):
    @blp.arguments(HistoryArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args):
        """The caller's ledger history, newest first; pass ``before=next_cursor`` for more."""
        member, _guardian = acting_member()
        lines = ledger.member_history(
            member.id, ledger=args.get("ledger"), before_entry_id=args.get("before"),
            limit=args["limit"],
        )  # fmt: skip
        next_cursor = lines[-1].entry_id if len(lines) == args["limit"] else None
        return {"items": lines, "next_cursor": next_cursor}


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.arguments(TransferRequestSchema)
    @blp.response(201, TransferResultSchema)
    @blp.alt_response(200, schema=TransferResultSchema, description="A replay of the same key")
    @blp.alt_response(202, schema=TransferResultSchema, description="Waiting for a second approver")
    def post(self, data):
        """Award (organizer; a second person approves), correct (organizer), or donate HOURS.

        The idempotency key makes retries safe: the same key and body return the original
        (HTTP 200); the same key with a different body is ``idempotency_conflict``.
        """
        member, guardian = acting_member()
        caller = guardian or member
        # Client keys live in their own namespace, apart from attendance:, hold:, ...
        key = f"api:{data['idempotency_key']}"
        replay = ledger.idempotency_key_used(key)
        if data["kind"] == "donate":
            result = ledger.donate_hours(
                donor_id=member.id, minutes=data["amount"], idempotency_key=key,
                recipient_id=data["recipient_id"], pool_unit_id=data["pool_unit_id"],
                memo=data["memo"], actor_id=caller.id,
            )  # fmt: skip
            outcome = {"status": "posted", "transfers": result.transfers, "pending_credit": None}
        elif data["kind"] == "award":
            target = people.get_member(data["member_id"])
            people.authorize(caller, "ledger.award", target.home_unit_id)
            pending = ledger.request_manual_credit(
                ledger=data["ledger"], code="award", member_id=target.id,
                unit_id=target.home_unit_id, amount=data["amount"], memo=data["memo"],
                idempotency_key=key, requested_by_id=caller.id,
            )  # fmt: skip
            outcome = _pending_outcome(pending)
        else:
            original = ledger.get_transfer(data["corrects_transfer_id"])
            unit_id = ledger.unit_of_transfer(original)
            people.authorize(caller, "ledger.correct", unit_id)
            result = ledger.correct_transfer(
                original.id, amount=data["amount"], memo=data["memo"], idempotency_key=key,
                actor_id=caller.id, unit_id=unit_id,
            )  # fmt: skip
            if isinstance(result, PendingCredit):
                outcome = _pending_outcome(result)
            else:
                outcome = {"status": "posted", "transfers": [result], "pending_credit": None}
        db.session.commit()
        status = 200 if replay else (202 if outcome["status"] == "pending_approval" else 201)
        return outcome, status


def _pending_outcome(pending: PendingCredit) -> dict:
    transfers = [ledger.get_transfer(pending.transfer_id)] if pending.transfer_id else []
    status = "posted" if pending.status == "approved" else f"{pending.status}_approval"
    if pending.status == "pending":
        status = "pending_approval"
    return {"status": status, "transfers": transfers, "pending_credit": pending}


@blp.route("/pending-credits")
class PendingCredits(MethodView):
    @blp.arguments(PendingListArgs, location="query")
    @blp.response(200, PendingCreditSchema(many=True))
    def get(self, args):
        """Manual credits waiting for (or past) a second approver in a unit's subtree."""
        caller = calling_member()
        people.authorize(caller, "ledger.approve", args["unit_id"])
        return ledger.list_pending_credits(args["unit_id"], status=args["status"])


@blp.route("/pending-credits/<int(max=2147483647):pending_id>/<any(approve, reject):decision>")
class PendingDecision(MethodView):
    @blp.response(200, PendingCreditSchema)
    def post(self, pending_id, decision):
        """Approve (posts the credit) or reject; never by the person who asked."""
        caller = calling_member()
        pending = ledger.get_pending_credit(pending_id)
        people.authorize(caller, "ledger.approve", pending.unit_id)
        if decision == "approve":
            ledger.approve_manual_credit(pending_id, approver_id=caller.id)
        else:
            ledger.reject_manual_credit(pending_id, approver_id=caller.id)
        db.session.commit()
        return pending


@blp.route("/ledger/verify")
class Verify(MethodView):
    @blp.response(200, VerifySchema)
    def get(self):
        """Recompute every chain, balance and version; admins only."""
        caller = calling_member()
        if not people.is_admin(caller):
            raise Forbidden("Only an admin can verify the ledger.")
        return ledger.verify_ledger().as_dict()


@blp.route("/ledger/checkpoints")
class Checkpoints(MethodView):
    @blp.response(200, CheckpointSchema(many=True))
    def get(self):
        """Published checkpoints, newest first (any logged-in member may read them)."""
        calling_member()
        return ledger.list_checkpoints()

    @blp.response(201, CheckpointSchema(many=True))
    def post(self):
        """Record a checkpoint of each ledger now; admins only."""
        caller = calling_member()
        if not people.is_admin(caller):
            raise Forbidden("Only an admin can record checkpoints.")
        checkpoints = [ledger.create_checkpoint(name) for name in ("HOURS", "POINTS")]
        db.session.commit()
        return checkpoints
