"""/api/v1: merchants, offers, the member's redeem code, redemption at the counter (hold,
confirm, void, refund), and monthly statements."""

from __future__ import annotations

from timebank.core import access
from timebank.core.access import requires
from timebank.core.clock import utcnow
from timebank.core.idempotency import scoped_key
from timebank.core.qr import qr_svg
from timebank.core.web import ApiBlueprint, ApiView
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.merchants.schemas import (
    DecisionReasonSchema,
    MerchantListArgs,
    MerchantSchema,
    MerchantUpdateSchema,
    MonthArgs,
    MonthSchema,
    OfferForMemberSchema,
    OfferSchema,
    OfferUpdateSchema,
    PaySchema,
    PaySeveralSchema,
    RedeemCodeSchema,
    RedeemRequestSchema,
    RedemptionListArgs,
    RedemptionSchema,
    RefundSchema,
    StaffInvitationSchema,
    StaffInvitedSchema,
    StaffInviteSchema,
    StaffSchema,
    StatementSchema,
    SummarySchema,
    UnitMerchantArgs,
)
from timebank.units import operations as units

blp = ApiBlueprint(
    "merchants_api", __name__, url_prefix="/api/v1", description="Merchants and redemption"
)
ID = "int(max=2147483647)"
MERCHANT = f"/merchants/<{ID}:merchant_id>"
OFFER = f"/offers/<{ID}:offer_id>"
REDEMPTION = f"/redemptions/<{ID}:redemption_id>"
STATEMENT = f"/statements/<{ID}:statement_id>"
UNIT = f"/units/<{ID}:unit_id>"
SHOP = merchants.merchant_target
OWNED = merchants.merchant_owner_target


# ---------------------------------------------------------------- merchants


@blp.route("/merchants")
class Merchants(ApiView):
    @requires("merchants.view")
    @blp.arguments(MerchantListArgs, location="query")
    @blp.response(200, MerchantSchema(many=True))
    def get(self, args):
        """Approved shops near the caller (their home's line and below), or in the subtree
        of ``unit_id``."""
        return merchants.merchants_near(access.current_actor(), unit_id=args.get("unit_id"))

    @requires("merchants.apply")
    @blp.arguments(MerchantSchema)
    @blp.response(201, MerchantSchema)
    def post(self, data):
        """A shop applies in a unit (the caller is its owner), or an organizer of the unit
        adds one naming its owner by ``owner_phone``; an organizer then approves it."""
        return merchants.apply_merchant(actor=access.current_actor(), **data)


@blp.route(MERCHANT)
class MerchantById(ApiView):
    @requires("merchants.view", target=SHOP)
    @blp.response(200, MerchantSchema)
    def get(self, merchant_id):
        """One shop, whatever its status."""
        return merchants.get_merchant(merchant_id)

    @requires("merchants.manage", target=OWNED)
    @blp.arguments(MerchantUpdateSchema, required=False)
    @blp.response(200, MerchantSchema)
    def patch(self, data, merchant_id):
        """Change the profile (the owner, or an organizer of its unit)."""
        merchant = merchants.get_merchant(merchant_id)
        return merchants.update_merchant(merchant, actor=access.current_actor(), **data)


@blp.route(f"{MERCHANT}/approve")
class Approve(ApiView):
    @requires("merchants.approve", target=SHOP)
    @blp.response(200, MerchantSchema)
    def post(self, merchant_id):
        """Approve a pending shop: its points account opens, its owner becomes its staff."""
        merchant = merchants.get_merchant(merchant_id)
        return merchants.approve_merchant(merchant, actor=access.current_actor())


@blp.route(f"{MERCHANT}/reject")
class Reject(ApiView):
    @requires("merchants.approve", target=SHOP)
    @blp.arguments(DecisionReasonSchema)
    @blp.response(200, MerchantSchema)
    def post(self, data, merchant_id):
        """Turn down a pending application, saying why."""
        merchant = merchants.get_merchant(merchant_id)
        actor = access.current_actor()
        return merchants.reject_merchant(merchant, actor=actor, reason=data["reason"])


@blp.route(f"{MERCHANT}/suspend")
class Suspend(ApiView):
    @requires("merchants.approve", target=SHOP)
    @blp.arguments(DecisionReasonSchema)
    @blp.response(200, MerchantSchema)
    def post(self, data, merchant_id):
        """Stop an approved shop redeeming; its holds time out, its statements stay."""
        merchant = merchants.get_merchant(merchant_id)
        actor = access.current_actor()
        return merchants.suspend_merchant(merchant, actor=actor, reason=data["reason"])


@blp.route(f"{MERCHANT}/reinstate")
class Reinstate(ApiView):
    @requires("merchants.approve", target=SHOP)
    @blp.response(200, MerchantSchema)
    def post(self, merchant_id):
        """Let a suspended shop redeem again."""
        merchant = merchants.get_merchant(merchant_id)
        return merchants.reinstate_merchant(merchant, actor=access.current_actor())


@blp.route(f"{MERCHANT}/staff")
class Staff(ApiView):
    @requires("merchants.manage", target=OWNED)
    @blp.response(200, StaffSchema(many=True))
    def get(self, merchant_id):
        """Who may redeem at the shop's counter, owner first."""
        return merchants.list_staff(merchants.get_merchant(merchant_id))

    @requires("merchants.manage", target=OWNED)
    @blp.arguments(StaffInviteSchema)
    @blp.response(202, StaffInvitedSchema)
    def post(self, data, merchant_id):
        """The owner invites staff by phone (an approved shop only: 409
        ``merchant_not_approved``). The member is asked in their inbox and becomes staff
        of this shop (and of no other shop of its unit) only by accepting. The answer is
        the same for any phone and names nobody."""
        merchant = merchants.get_merchant(merchant_id)
        return merchants.invite_staff(merchant, phone=data["phone"], actor=access.current_actor())


@blp.route(f"{MERCHANT}/staff/<{ID}:member_id>")
class StaffMember(ApiView):
    @requires("merchants.manage", target=OWNED)
    @blp.response(204)
    def delete(self, merchant_id, member_id):
        """Take a member's staff role at this shop away (not the owner's)."""
        merchant = merchants.get_merchant(merchant_id)
        merchants.remove_staff(merchant, member_id=member_id, actor=access.current_actor())


@blp.route("/me/staff-invitations")
class MyStaffInvitations(ApiView):
    @requires("me.invitations")
    @blp.response(200, StaffInvitationSchema(many=True))
    def get(self):
        """The caller's invitations to be a shop's staff, waiting for an answer."""
        return merchants.invitations_for(access.current_actor())


@blp.route(f"/staff-invitations/<{ID}:invitation_id>/<any(accept, decline):answer>")
class AnswerStaffInvitation(ApiView):
    @requires("staff_invitations.answer", target=merchants.invitation_target)
    @blp.response(200, StaffInvitationSchema)
    def post(self, invitation_id, answer):
        """Accept (one becomes the shop's staff) or decline an invitation; only the
        member invited answers, once (409 ``invitation_decided``)."""
        if answer == "accept":
            return merchants.accept_staff_invitation(invitation_id, member=access.current_actor())
        return merchants.decline_staff_invitation(invitation_id, member=access.current_actor())


# ---------------------------------------------------------------- offers


@blp.route(f"{MERCHANT}/offers")
class MerchantOffers(ApiView):
    @requires("merchants.view", target=SHOP)
    @blp.response(200, OfferSchema(many=True))
    def get(self, merchant_id):
        """The shop's active offers, cheapest first."""
        return merchants.merchant_offers(merchants.get_merchant(merchant_id).id)

    @requires("merchants.manage", target=OWNED)
    @blp.arguments(OfferSchema)
    @blp.response(201, OfferSchema)
    def post(self, data, merchant_id):
        """Publish an offer: points cost; a fixed discount (``discount_fen``), a
        percentage up to a cap (``percent_off``, ``cap_fen``) or an item (``item_name``);
        validity; stock or budget; per-member limits; units or minimum service."""
        merchant = merchants.get_merchant(merchant_id)
        return merchants.create_offer(merchant, actor=access.current_actor(), **data)


@blp.route("/offers")
class OffersForMe(ApiView):
    @requires("me.redeem")
    @blp.response(200, OfferForMemberSchema(many=True))
    def get(self):
        """Current offers of shops near the caller (or the ward named by
        ``X-On-Behalf-Of``): those they can afford and may redeem first."""
        member = access.acting_member()
        available = ledger.balances(member.id)["POINTS"]["available"]
        return merchants.offers_for_member(member, available_points=available)


@blp.route(OFFER)
class OfferById(ApiView):
    @requires("merchants.view", target=merchants.offer_target)
    @blp.response(200, OfferSchema)
    def get(self, offer_id):
        """One offer, whatever its status."""
        return merchants.get_offer(offer_id)

    @requires("merchants.manage", target=merchants.offer_owner_target)
    @blp.arguments(OfferUpdateSchema, required=False)
    @blp.response(200, OfferSchema)
    def patch(self, data, offer_id):
        """Change an active offer: stock, limits, conditions and end at any time; what it
        gives and costs (title, points, benefit, start) only until someone redeemed it
        (``offer_redeemed``). The stock and budget never drop below what is taken."""
        return merchants.update_offer(offer_id, actor=access.current_actor(), **data)


@blp.route(f"{OFFER}/withdraw")
class WithdrawOffer(ApiView):
    @requires("merchants.manage", target=merchants.offer_owner_target)
    @blp.response(200, OfferSchema)
    def post(self, offer_id):
        """Stop the offer (idempotent); held redemptions of it may still be confirmed."""
        return merchants.withdraw_offer(merchants.get_offer(offer_id))


@blp.route(f"{UNIT}/merchants")
class UnitMerchants(ApiView):
    @requires("merchants.oversee", target=units.unit_target)
    @blp.arguments(UnitMerchantArgs, location="query")
    @blp.response(200, MerchantSchema(many=True))
    def get(self, args, unit_id):
        """Every shop of the subtree, those waiting for approval first (organizers)."""
        return merchants.merchants_in_unit(unit_id, status=args.get("status"))


@blp.route(f"{UNIT}/offers")
class UnitOffers(ApiView):
    @requires("merchants.oversee", target=units.unit_target)
    @blp.response(200, OfferSchema(many=True))
    def get(self, unit_id):
        """Every offer of the subtree's shops, active first (organizers' oversight)."""
        return merchants.offers_in_unit(unit_id)


# ---------------------------------------------------------------- the member's side


@blp.route("/me/redeem-code")
class MyRedeemCode(ApiView):
    @requires("me.redeem")
    @blp.response(200, RedeemCodeSchema)
    def get(self):
        """The caller's personal redeem code (or a ward's, with ``X-On-Behalf-Of``): signed,
        rotating every 30 seconds, valid for that step and the next; redeems once."""
        code = merchants.issue_redeem_code(access.acting_member().id)
        return {**code.__dict__, "svg": qr_svg(code.token)}


@blp.route("/me/redemptions")
class MyRedemptions(ApiView):
    @requires("me.redeem")
    @blp.response(200, RedemptionSchema(many=True))
    def get(self):
        """The caller's redemptions, newest first: those waiting for the shop, and receipts."""
        return merchants.member_redemptions(access.acting_member().id)


# ---------------------------------------------------------------- the counter


@blp.route("/redemptions")
class Redemptions(ApiView):
    @requires("redemptions.counter")
    @blp.arguments(RedeemRequestSchema)
    @blp.response(201, RedemptionSchema)
    @blp.alt_response(200, schema=RedemptionSchema, description="a replay of the same key")
    def post(self, data):
        """Staff scanned a member's code (or typed its digits) and chose an offer: the
        offer's points are held on the member's account until ``/confirm`` or ``/void``,
        or until the hold times out. A retry with the same ``idempotency_key`` returns the
        first answer (200). Refusals: ``redeem_code_invalid``, ``redeem_code_expired``,
        ``redeem_code_not_yet_valid``, ``redeem_code_used``, ``insufficient_balance``,
        ``offer_out_of_stock``, ``daily_limit_reached``, ``not_enough_service``, ..."""
        actor = access.current_actor()
        # the key is the caller's own: another counter's same key is a new request
        key = scoped_key("api", actor.id, data.pop("idempotency_key"))
        result = merchants.redeem(staff=actor, idempotency_key=key, **data)
        return result.redemption, 200 if result.replayed else 201


@blp.route(REDEMPTION)
class RedemptionById(ApiView):
    @requires("redemptions.counter", target=merchants.redemption_target)
    @blp.response(200, RedemptionSchema)
    def get(self, redemption_id):
        """One redemption of the caller's shop."""
        return merchants.get_redemption(redemption_id)


@blp.route(f"{REDEMPTION}/confirm")
class Confirm(ApiView):
    # the operation asks whether the caller is staff of the redemption's shop, of the row
    # it locks (404 when there is none, then 403): no read of the edge's own
    @requires("redemptions.counter")
    @blp.response(200, RedemptionSchema)
    @blp.alt_response(404, description="no such redemption")
    def post(self, redemption_id):
        """Take the held points: they move to the shop's account (one ``redeem`` transfer).
        409 ``redemption_not_held`` or ``redemption_expired`` (the points were released)."""
        return merchants.confirm_redemption(redemption_id, staff=access.current_actor())


@blp.route(f"{REDEMPTION}/void")
class Void(ApiView):
    # asked of the locked row, as Confirm's
    @requires("redemptions.counter")
    @blp.response(200, RedemptionSchema)
    @blp.alt_response(404, description="no such redemption")
    def post(self, redemption_id):
        """Cancel a held redemption: the points are released in full."""
        return merchants.void_redemption(redemption_id, staff=access.current_actor())


@blp.route(f"{REDEMPTION}/refund")
class Refund(ApiView):
    @requires("redemptions.refund", target=merchants.redemption_target)
    @blp.arguments(RefundSchema)
    @blp.response(200, RedemptionSchema)
    def post(self, data, redemption_id):
        """Give a confirmed redemption's points back (within the refund period) by a
        correcting transfer linked to the original; 409 ``refund_period_over``,
        ``redemption_settled``, ``redemption_not_confirmed``."""
        return merchants.refund_redemption(
            redemption_id, staff=access.current_actor(), reason=data["reason"]
        )


@blp.route(f"{MERCHANT}/redemptions")
class MerchantRedemptions(ApiView):
    @requires("redemptions.counter", target=SHOP)
    @blp.arguments(RedemptionListArgs, location="query")
    @blp.response(200, RedemptionSchema(many=True))
    def get(self, args, merchant_id):
        """The shop's redemptions, newest first (the counter shows the last ten)."""
        return merchants.merchant_redemptions(merchant_id, **args)


@blp.route(f"{MERCHANT}/summary")
class MerchantSummary(ApiView):
    @requires("redemptions.counter", target=SHOP)
    @blp.response(200, SummarySchema)
    def get(self, merchant_id):
        """Today and this month (confirmed, local time), the unsettled balance, and how
        many redemptions wait at the counter."""
        return merchants.merchant_summary(merchant_id)


# ---------------------------------------------------------------- settlement


@blp.route(f"{MERCHANT}/statements")
class MerchantStatements(ApiView):
    @requires("merchants.statements", target=OWNED)
    @blp.response(200, StatementSchema(many=True))
    def get(self, merchant_id):
        """The shop's monthly statements, newest first (its owner, or organizers)."""
        return merchants.merchant_statements(merchants.get_merchant(merchant_id).id)

    @requires("merchants.settle", target=SHOP)
    @blp.arguments(MonthSchema)
    @blp.response(200, StatementSchema)
    def post(self, data, merchant_id):
        """Build (or rebuild from the ledger) the shop's statement of ``month``; a paid
        one is checked against the ledger, never changed."""
        merchant = merchants.get_merchant(merchant_id)
        return merchants.build_statement(merchant, merchants.parse_month(data["month"]))


@blp.route(f"{UNIT}/statements")
class UnitStatements(ApiView):
    @requires("merchants.settle", target=units.unit_target)
    @blp.arguments(MonthArgs, location="query")
    @blp.response(200, StatementSchema(many=True))
    def get(self, args, unit_id):
        """The statements of ``month`` (default: last month) of the subtree's shops."""
        month = args.get("month")
        period = merchants.parse_month(month) if month else merchants.previous_month(utcnow())
        return merchants.unit_statements(unit_id, period)

    @requires("merchants.settle", target=units.unit_target)
    @blp.arguments(MonthSchema)
    @blp.response(200, StatementSchema(many=True))
    def post(self, data, unit_id):
        """Build (or rebuild) ``month``'s statement of every shop of the subtree."""
        return merchants.build_unit_statements(unit_id, merchants.parse_month(data["month"]))


@blp.route(f"{UNIT}/statements/pay")
class PaySeveral(ApiView):
    @requires("merchants.settle", target=units.unit_target)
    @blp.arguments(PaySeveralSchema)
    @blp.response(200, StatementSchema(many=True))
    def post(self, data, unit_id):
        """The unit paid several shops with one payment: each statement as ``/pay``, all
        or none; a statement outside the subtree is 404."""
        return merchants.pay_statements(
            unit_id, data["statement_ids"], actor=access.current_actor(),
            reference=data["reference"],
        )  # fmt: skip


@blp.route(STATEMENT)
class StatementById(ApiView):
    @requires("merchants.statements", target=merchants.statement_target)
    @blp.response(200, StatementSchema)
    def get(self, statement_id):
        """One statement."""
        return merchants.get_statement(statement_id)


@blp.route(f"{STATEMENT}/pay")
class Pay(ApiView):
    @requires("merchants.settle", target=merchants.statement_target)
    @blp.arguments(PaySchema)
    @blp.response(200, StatementSchema)
    def post(self, data, statement_id):
        """The unit paid the shop: one ``settle`` transfer of the points owed, from the
        shop's account to the unit's settlement account; the statement is closed for good.
        409 ``statement_period_open`` before the month ends, ``statement_paid``."""
        return merchants.mark_statement_paid(
            statement_id, actor=access.current_actor(), reference=data["reference"]
        )
