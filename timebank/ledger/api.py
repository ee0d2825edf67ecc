"""/api/v1: balances, history, transfers (award, correct, donate), four-eyes approval,
ledger verification and checkpoints."""

from __future__ import annotations

from timebank.core import access
from timebank.core.access import requires
from timebank.core.idempotency import scoped_key
from timebank.core.web import ApiBlueprint, ApiView
from timebank.ledger import operations as ledger
from timebank.ledger.models import PendingCredit
from timebank.ledger.schemas import (
    BalancesSchema,
    CheckpointSchema,
    DecisionSchema,
    DonationPreviewArgs,
    DonationPreviewSchema,
    HistoryArgs,
    HistoryPageSchema,
    PendingCreditSchema,
    PendingListArgs,
    TransferRequestSchema,
    TransferResultSchema,
    VerifySchema,
)

blp = ApiBlueprint("ledger_api", __name__, url_prefix="/api/v1", description="The ledger")


@blp.route("/me/balances")
class MyBalances(ApiView):
    @requires("me.ledger")
    @blp.response(200, BalancesSchema)
    def get(self):
        """The caller's balances: HOURS in minutes, POINTS; held and available amounts."""
        result = ledger.balances(access.acting_member().id)
        return {
            "HOURS": result["HOURS"]["balance"],
            "POINTS": result["POINTS"]["balance"],
            "held": {k: v["held"] for k, v in result.items()},
            "available": {k: v["available"] for k, v in result.items()},
        }


@blp.route("/me/transfers")
class MyTransfers(ApiView):
    @requires("me.ledger")
    @blp.arguments(HistoryArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args):
        """The caller's ledger history, newest first; pass ``before=next_cursor`` for more."""
        lines = ledger.member_history(
            access.acting_member().id, ledger=args.get("ledger"),
            before_entry_id=args.get("before"), limit=args["limit"],
        )  # fmt: skip
        next_cursor = lines[-1].entry_id if len(lines) == args["limit"] else None
        return {"items": lines, "next_cursor": next_cursor}


# Each kind of POST /transfers runs one operation and returns (outcome, replayed): whether
# the key had done this before, as the operation decided under its locks.


def _donate(data: dict, key: str, actor) -> tuple[dict, bool]:
    result = ledger.donate(
        donor=access.acting_member(), actor=actor, minutes=data["amount"], idempotency_key=key,
        recipient_id=data["recipient_id"], pool_unit_id=data["pool_unit_id"], memo=data["memo"],
    )  # fmt: skip
    outcome = {"status": "posted", "transfers": result.transfers, "pending_credit": None}
    return outcome, result.replayed


def _award(data: dict, key: str, actor) -> tuple[dict, bool]:
    asked = ledger.ask_award(
        member_id=data["member_id"], ledger=data["ledger"], amount=data["amount"],
        memo=data["memo"], idempotency_key=key, actor=actor,
    )  # fmt: skip
    return _pending_outcome(asked.pending), asked.replayed


def _correct(data: dict, key: str, actor) -> tuple[dict, bool]:
    result = ledger.correct(
        transfer_id=data["corrects_transfer_id"], amount=data["amount"], memo=data["memo"],
        idempotency_key=key, actor=actor,
    )  # fmt: skip
    if result.pending is not None:
        return _pending_outcome(result.pending), result.replayed
    outcome = {"status": "posted", "transfers": [result.transfer], "pending_credit": None}
    return outcome, result.replayed


TRANSFER_KINDS = {"donate": _donate, "award": _award, "correct": _correct}


@blp.route("/me/donations/preview")
class DonationPreview(ApiView):
    @requires("ledger.donate")
    @blp.arguments(DonationPreviewArgs)
    @blp.response(200, DonationPreviewSchema)
    def post(self, data):
        """Whom a donation of one's hours (or, with ?for=, a ward's) would reach, masked, for
        the donor to confirm before POST /transfers; nothing is given. Refuses what the
        donation would refuse (a phone nobody has, oneself, another community's pool, more
        hours than one has)."""
        return ledger.preview_donation(
            donor=access.acting_member(), actor=access.current_actor(), minutes=data["amount"],
            recipient_id=data["recipient_id"], recipient_phone=data["recipient_phone"],
            pool_unit_id=data["pool_unit_id"], memo=data["memo"],
        )  # fmt: skip


@blp.route("/transfers")
class Transfers(ApiView):
    @requires("ledger.transfers")
    @blp.arguments(TransferRequestSchema)
    @blp.response(201, TransferResultSchema)
    @blp.alt_response(200, schema=TransferResultSchema, description="A replay of the same key")
    @blp.alt_response(202, schema=TransferResultSchema, description="Waiting for a second approver")
    def post(self, data):
        """Award (organizer; a second person approves), correct (organizer), or donate HOURS.

        The idempotency key makes retries safe: the same key and body return the original
        (HTTP 200); the same key with a different body, or for another kind, is
        ``idempotency_conflict``. Keys are the caller's own: another caller's same key is
        a new request.
        """
        # Each caller's keys live in their own namespace, apart from attendance:, hold:, ...
        actor = access.current_actor()
        key = scoped_key("api", actor.id, data["idempotency_key"])
        ledger.check_key_kind(key, data["kind"])
        outcome, replayed = TRANSFER_KINDS[data["kind"]](data, key, actor)
        status = 200 if replayed else (202 if outcome["status"] == "pending_approval" else 201)
        return outcome, status


def _pending_outcome(pending: PendingCredit) -> dict:
    transfers = [ledger.get_transfer(pending.transfer_id)] if pending.transfer_id else []
    status = "posted" if pending.status == "approved" else f"{pending.status}_approval"
    if pending.status == "pending":
        status = "pending_approval"
    return {"status": status, "transfers": transfers, "pending_credit": pending}


@blp.route("/pending-credits")
class PendingCredits(ApiView):
    @requires("ledger.approve")
    @blp.arguments(PendingListArgs, location="query")
    @blp.response(200, PendingCreditSchema(many=True))
    def get(self, args):
        """Manual credits waiting for (or past) a second approver in a unit's subtree."""
        target = access.target_of("unit", args["unit_id"])
        access.authorize(access.current_actor(), "ledger.approve", target)
        return ledger.list_pending_credits(
            access.subtree_select(args["unit_id"]), status=args["status"]
        )


@blp.route("/pending-credits/<int(max=2147483647):pending_id>/<any(approve, reject):decision>")
class PendingDecision(ApiView):
    @requires("ledger.approve", target=ledger.pending_credit_target)
    @blp.arguments(DecisionSchema, required=False)
    @blp.response(200, PendingCreditSchema)
    def post(self, data, pending_id, decision):
        """Approve (posts the credit) or reject, optionally with ``{"reason": ...}`` that the
        requester reads; never by the person who asked."""
        approver = access.current_actor()
        if decision == "approve":
            ledger.approve_manual_credit(pending_id, approver_id=approver.id)
        else:
            ledger.reject_manual_credit(
                pending_id, approver_id=approver.id, reason=(data or {}).get("reason")
            )
        return ledger.get_pending_credit(pending_id)


@blp.route("/ledger/verify")
class Verify(ApiView):
    @requires("ledger.verify")
    @blp.response(200, VerifySchema)
    def get(self):
        """Recompute every chain, balance and version; admins only. A read: not on the
        audit trail (POST runs the same check on record)."""
        return ledger.verify_ledger().as_dict()

    @requires("ledger.verify")
    @blp.response(200, VerifySchema)
    def post(self):
        """Recompute every chain, balance and version, and put the run and its finding on
        the audit trail; admins only."""
        report = ledger.run_verification(actor_id=access.current_actor().id, via="api")
        return report.as_dict()


@blp.route("/ledger/checkpoints")
class Checkpoints(ApiView):
    @requires("ledger.checkpoints")
    @blp.response(200, CheckpointSchema(many=True))
    def get(self):
        """Published checkpoints, newest first (any logged-in member may read them)."""
        return ledger.list_checkpoints()

    @requires("ledger.verify")
    @blp.response(201, CheckpointSchema(many=True))
    def post(self):
        """Record a checkpoint of each ledger now; admins only."""
        return [ledger.create_checkpoint(name) for name in ("HOURS", "POINTS")]
