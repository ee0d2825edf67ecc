"""Errors of merchants, offers, redemptions and settlement: each names its stable code
and HTTP status."""

from __future__ import annotations

from timebank.core.errors import N_, Conflict, Forbidden, InvalidInput, NotFound


class MerchantNotFound(NotFound):
    code = "merchant_not_found"


class OfferNotFound(NotFound):
    code = "offer_not_found"


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"


class StatementNotFound(NotFound):
    code = "statement_not_found"


class InvalidMerchant(InvalidInput):
    code = "invalid_merchant"


class InvalidOffer(InvalidInput):
    code = "invalid_offer"


class StaffSelfDealing(Forbidden):
    """Staff redeem their own points, or their ward's, at their own counter."""

    code = "staff_self_dealing"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"


class InvitationDecided(Conflict):
    """An invitation to be staff was already accepted, declined or withdrawn."""

    code = "invitation_decided"


class MerchantExists(Conflict):
    code = "merchant_exists"


class MerchantNotPending(Conflict):
    """Approve or reject a merchant that is not waiting for a decision."""

    code = "merchant_not_pending"


class MerchantWrongStatus(Conflict):
    """Suspend a merchant that is not approved, or reinstate one that is not suspended."""

    code = "merchant_wrong_status"


class MerchantNotApproved(Conflict):
    """A pending, rejected or suspended merchant redeems nothing and publishes nothing."""

    code = "merchant_not_approved"
    default_message = N_("This shop is not approved to accept points.")


class StaffNotMember(NotFound):
    code = "staff_not_member"


class StaffOfAnotherMerchant(Conflict):
    code = "staff_of_another_merchant"


class OwnerStaysStaff(Conflict):
    code = "owner_stays_staff"


# ---------------------------------------------------------------- the redeem code


class RedeemCodeRejected(Conflict):
    """A redeem code was refused; the subclass's ``code`` says exactly why."""

    code = "redeem_code_rejected"


class RedeemCodeInvalid(RedeemCodeRejected):
    """Garbled, forged, another purpose's, or wrong digits."""

    code = "redeem_code_invalid"
    status = 400
    default_message = N_("This is not a valid redeem code.")


class RedeemCodeNotYetValid(RedeemCodeRejected):
    code = "redeem_code_not_yet_valid"
    status = 400
    default_message = N_("This redeem code is not valid yet; check the phone's clock.")


class RedeemCodeExpired(RedeemCodeRejected):
    code = "redeem_code_expired"
    default_message = N_("This redeem code has expired; ask the customer to show the new one.")


class RedeemCodeUsed(RedeemCodeRejected):
    code = "redeem_code_used"
    default_message = N_("This redeem code was already used; ask the customer to show the new one.")


# ---------------------------------------------------------------- offers and limits


class OfferUnavailable(Conflict):
    """The offer cannot be redeemed now; the subclass's ``code`` says why."""

    code = "offer_unavailable"


class OfferWithdrawn(OfferUnavailable):
    code = "offer_withdrawn"


class OfferNotStarted(OfferUnavailable):
    code = "offer_not_started"


class OfferEnded(OfferUnavailable):
    code = "offer_ended"


class OutOfStock(OfferUnavailable):
    code = "offer_out_of_stock"


class BudgetExhausted(OfferUnavailable):
    code = "offer_budget_exhausted"


class DailyLimitReached(OfferUnavailable):
    code = "daily_limit_reached"


class MonthlyLimitReached(OfferUnavailable):
    code = "monthly_limit_reached"


class OfferWrongMerchant(InvalidInput):
    code = "offer_wrong_merchant"


class NotEligible(Forbidden):
    """The member may not redeem this offer; the subclass's ``code`` says why."""

    code = "not_eligible"


class NotInOfferUnits(NotEligible):
    code = "offer_not_for_your_unit"


class NotEnoughService(NotEligible):
    code = "not_enough_service"


class MemberNotActive(NotEligible):
    code = "member_not_active"


# ---------------------------------------------------------------- the redemption


class RedemptionNotHeld(Conflict):
    """Confirm or void a redemption that was already confirmed, voided or expired."""

    code = "redemption_not_held"


class RedemptionExpired(RedemptionNotHeld):
    """Nobody confirmed in time: the hold is released, and that release is kept."""

    code = "redemption_expired"
    commit_anyway = True


class RedemptionNotConfirmed(Conflict):
    code = "redemption_not_confirmed"


class RefundPeriodOver(Conflict):
    code = "refund_period_over"


class RedemptionSettled(Conflict):
    """Its month's statement was paid: the figures paid on may not change."""

    code = "redemption_settled"


# ---------------------------------------------------------------- settlement


class StatementPaid(Conflict):
    code = "statement_paid"


class StatementPeriodOpen(Conflict):
    code = "statement_period_open"


class StatementMismatch(Conflict):
    """A paid statement no longer matches the ledger: something was tampered with."""

    code = "statement_mismatch"


class InvalidMonth(InvalidInput):
    code = "invalid_month"


class OfferRedeemed(Conflict):
    """What a redeemed offer gave stays as it was: receipts and statements name it."""

    code = "offer_redeemed"


class StatementNothingOwed(Conflict):
    """A statement that owes nothing is not paid: there is no payment to record."""

    code = "statement_nothing_owed"
