"""Pages of merchants for volunteers and shop staff: the offers near one, one's redeem
code (and a ward's, with ``?for=<member id>``) and receipts; the staff counter (scan or
type the code, choose the offer, confirm) and the shop's dashboard.

Organizers' pages (approval, offers oversight, settlement) are in organizer_views.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.idempotency import scoped_key
from timebank.core.privacy import shown_name
from timebank.core.qr import qr_svg
from timebank.core.web import (
    REDISPLAY,
    ActionForm,
    back,
    flash_form_errors,
    page,
    redirect_to,
)
from timebank.ledger import operations as ledger
from timebank.merchants import operations as merchants
from timebank.merchants.forms import (
    FIXED_FORM_FIELDS,
    ApplyForm,
    OfferForm,
    ProfileForm,
    RedeemForm,
    RefundForm,
    StaffForm,
    offer_fields,
    offer_form_data,
    profile_fields,
)
from timebank.merchants.models import category_name
from timebank.units import operations as units

bp = Blueprint("merchants", __name__)
ID = "int(max=2147483647)"
MERCHANT = f"/merchants/<{ID}:merchant_id>"
REDEMPTION = f"/redemptions/<{ID}:redemption_id>"
SHOP = merchants.merchant_target
OWNED = merchants.merchant_owner_target

STATUS_NAMES = {
    "pending": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Turned down"),
    "suspended": _l("Suspended"),
    "active": _l("Active"),
    "withdrawn": _l("Taken down"),
    "held": _l("Waiting for the shop to confirm"),
    "confirmed": _l("Confirmed"),
    "voided": _l("Cancelled"),
    "expired": _l("Timed out"),
    "refunded": _l("Refunded"),
    "open": _l("Not settled yet"),
    "paid": _l("Paid"),
}


@bp.app_template_filter("last_day")
def last_day(end) -> str:
    """The last local day before an exclusive end (an offer's ``valid_until`` is the
    midnight after its last day): the day a person reads as "valid until, inclusive"."""
    if end is None:
        return ""
    return (end - timedelta(microseconds=1)).astimezone(merchants.local_zone()).strftime("%Y-%m-%d")


@bp.app_template_filter("yuan")
def yuan(fen: int | None) -> str:
    """Fen as yuan: 500 -> 5.00."""
    return f"{(fen or 0) / 100:.2f}"


def benefit_text(offer) -> str:
    """What the customer gets, in the page's language."""
    if offer.benefit == "discount":
        return _("¥%(amount)s off", amount=yuan(offer.discount_fen))
    if offer.benefit == "percent":
        return _(
            "%(percent)s%% off, at most ¥%(cap)s",
            percent=offer.percent_off,
            cap=yuan(offer.cap_fen),
        )
    return _("Item: %(item)s", item=offer.item_name)


@bp.app_context_processor
def _names():
    return {
        "MERCHANT_STATUS_NAMES": STATUS_NAMES,
        "merchant_category_name": category_name,
        "benefit_text": benefit_text,
    }


def _for_args() -> dict:
    """``?for=<member id>`` when a guardian acts for a ward, to keep on every link."""
    acting, actor = access.acting_member(), access.current_actor()
    return {"for": acting.id} if acting is not None and acting.id != actor.id else {}


# ---------------------------------------------------------------- volunteers


@bp.route("/offers")
@page("me.redeem")
def offers():
    """Offers of shops near the member: the ones they can afford and may redeem first."""
    member = access.acting_member()
    balances = ledger.balances(member.id)
    return render_template(
        "merchants/offers.html",
        member=member,
        balances=balances,
        offers=merchants.offers_for_member(
            member, available_points=balances["POINTS"]["available"]
        ),
        shops=merchants.merchants_of(access.current_actor()),
        for_args=_for_args(),
    )


def _redeem_state(member_id: int) -> str:
    """What the redeem page shows besides the code: when it changes, the page reloads."""
    pending = merchants.member_pending(member_id)
    latest = merchants.member_redemptions(member_id, limit=1)
    receipt = f"{latest[0].id}:{latest[0].status}" if latest else "-"
    return f"{','.join(str(r.id) for r in pending)}|{receipt}"


@bp.route("/me/redeem")
@page("me.redeem")
def redeem_code():
    """The member's rotating redeem code (QR and digits), what waits for the shop to
    confirm, and the latest receipts."""
    member = access.acting_member()
    code = merchants.issue_redeem_code(member.id)
    # ?done=<ids>: the redemptions this phone was waiting on when the shop decided
    done = request.args.get("done", "").split(",")[:5]
    waited = [int(n) for n in done if n.isascii() and n.isdigit() and len(n) < 10]
    return render_template(
        "merchants/redeem.html",
        outcomes=merchants.member_outcomes(member.id, waited),
        member=member,
        code=code,
        svg=qr_svg(code.token),
        balances=ledger.balances(member.id),
        pending=merchants.member_pending(member.id),
        recent=merchants.member_redemptions(member.id, limit=5),
        state=_redeem_state(member.id),
        for_args=_for_args(),
    )


@bp.route("/me/redeem/state.json")
@page("me.redeem")
def redeem_state():
    """The redeem page polls this: a new pending redemption or receipt reloads it."""
    return jsonify(state=_redeem_state(access.acting_member().id))


@bp.route(f"/me/redemptions/<{ID}:redemption_id>")
@page("me.redeem", target=merchants.redemption_member_target)
def receipt(redemption_id: int):
    """One redemption as its member sees it: waiting, or the receipt."""
    return render_template(
        "merchants/receipt.html",
        redemption=merchants.get_redemption(redemption_id),
        for_args=_for_args(),
    )


@bp.route("/merchants/apply", methods=["GET", "POST"])
@page("merchants.apply", on_error=REDISPLAY)
def apply():
    """A shop applies to accept points; an organizer of its community approves it."""
    actor = access.current_actor()
    form = ApplyForm()
    form.unit_id.choices = [(u.id, u.name) for u in units.visible_units(actor)]
    if form.validate_on_submit():
        merchant = merchants.apply_merchant(
            unit_id=form.unit_id.data, owner=actor, actor=actor, **profile_fields(form)
        )
        flash(_("%(name)s has applied; an organizer will decide.", name=merchant.name), "success")
        return redirect(url_for("merchants.profile", merchant_id=merchant.id))
    flash_form_errors(form)
    return render_template("merchants/apply.html", form=form)


@bp.route(f"{MERCHANT}/edit", methods=["GET", "POST"])
@page("merchants.manage", target=OWNED, on_error=REDISPLAY)
def edit(merchant_id: int):
    """The owner (or an organizer) changes the shop's profile."""
    merchant = merchants.get_merchant(merchant_id)
    form = ProfileForm(obj=merchant)
    if form.validate_on_submit():
        merchants.update_merchant(merchant, actor=access.current_actor(), **profile_fields(form))
        flash(_("The shop's details were saved."), "success")
        return redirect(url_for("merchants.profile", merchant_id=merchant_id))
    flash_form_errors(form)
    return render_template("merchants/edit.html", form=form, merchant=merchant)


@bp.route(f"{MERCHANT}/profile")
@page("merchants.view", target=SHOP)
def profile(merchant_id: int):
    """A shop as any member sees it: where, when, and its offers; its status for the
    owner and the organizers, who decide on it here."""
    actor = access.current_actor()
    merchant = merchants.get_merchant(merchant_id)
    return render_template(
        "merchants/profile.html",
        merchant=merchant,
        offers=merchants.merchant_offers(merchant.id),
        decides=access.may(actor, "merchants.approve", SHOP(merchant_id)),
        manages=access.may(actor, "merchants.manage", OWNED(merchant_id)),
        staff=access.may(actor, "redemptions.counter", SHOP(merchant_id)),
        form=ActionForm(),
    )


# ---------------------------------------------------------------- the counter


@bp.route(f"{MERCHANT}/counter")
@page("redemptions.counter", target=SHOP)
def counter(merchant_id: int):
    """Scan (or type) the customer's code, tap the offer, confirm: the counter's page,
    with the last ten redemptions and their refund buttons."""
    merchant = merchants.get_merchant(merchant_id)
    form = RedeemForm(formdata=None, idempotency_key=uuid.uuid4().hex)
    now = utcnow()
    recent = merchants.merchant_redemptions(merchant.id, limit=10)
    offers_ = merchants.merchant_offers(merchant.id)
    return render_template(
        "merchants/counter.html",
        merchant=merchant,
        form=form,
        offers=offers_,
        left=merchants.offers_left(offers_),
        pending=[
            r
            for r in merchants.merchant_redemptions(merchant.id, status="held", limit=10)
            if r.expires_at > now
        ],
        recent=recent,
        refundable={r.id for r in recent if merchants.refundable(r, now)},
        refunds=access.may(access.current_actor(), "redemptions.refund", SHOP(merchant_id)),
        summary=merchants.merchant_summary(merchant.id, now=now),
        action_form=ActionForm(),
        refund_form=RefundForm(formdata=None),
    )


def _to_counter(error, kwargs):
    flash(error.localized(), "error")
    return redirect(url_for("merchants.counter", merchant_id=kwargs["merchant_id"]))


@bp.route(f"{MERCHANT}/counter", methods=["POST"])
@page("redemptions.counter", target=SHOP, on_error=_to_counter)
def hold(merchant_id: int):
    """The offer tapped: hold its points on the customer's account."""
    form = RedeemForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("merchants.counter", merchant_id=merchant_id))
    result = merchants.redeem(
        code=form.code.data,
        offer_id=form.offer_id.data,
        idempotency_key=scoped_key("page", access.current_actor().id, form.idempotency_key.data),
        staff=access.current_actor(),
        merchant_id=merchant_id,
    )
    redemption = result.redemption
    flash(
        _(
            "%(name)s: %(points)s points held for %(offer)s. Confirm to take them.",
            name=shown_name(redemption.member),
            points=redemption.points,
            offer=redemption.offer.title,
        ),
        "success",
    )
    return redirect(url_for("merchants.counter", merchant_id=merchant_id) + "#pending")


def _counter_of(redemption_id: int) -> str:
    merchant_id = merchants.get_redemption(redemption_id).merchant_id
    return url_for("merchants.counter", merchant_id=merchant_id)


def _back_to_counter(error, kwargs):
    flash(error.localized(), "error")
    return redirect(_counter_of(kwargs["redemption_id"]))


@bp.route(f"{REDEMPTION}/<any(confirm, void):decision>", methods=["POST"])
@page("redemptions.counter", target=merchants.redemption_target, on_error=_back_to_counter)
def decide(redemption_id: int, decision: str):
    """Confirm (take the held points) or cancel (release them)."""
    if ActionForm().validate_on_submit():
        staff = access.current_actor()
        if decision == "confirm":
            redemption = merchants.confirm_redemption(redemption_id, staff=staff)
            flash(
                _(
                    "Confirmed: %(points)s points from %(name)s.",
                    points=redemption.points,
                    name=shown_name(redemption.member),
                ),
                "success",
            )
        else:
            merchants.void_redemption(redemption_id, staff=staff)
            flash(_("Cancelled; the points were released."), "success")
    return redirect(_counter_of(redemption_id))


@bp.route(f"{REDEMPTION}/refund", methods=["POST"])
@page("redemptions.refund", target=merchants.redemption_target, on_error=_back_to_counter)
def refund(redemption_id: int):
    """Give a confirmed redemption's points back (within the refund period)."""
    form = RefundForm()
    if form.validate_on_submit():
        redemption = merchants.refund_redemption(
            redemption_id, staff=access.current_actor(), reason=form.reason.data
        )
        flash(
            _(
                "Refunded: %(points)s points back to %(name)s.",
                points=redemption.points,
                name=shown_name(redemption.member),
            ),
            "success",
        )
    else:
        flash_form_errors(form)
    return redirect(_counter_of(redemption_id))


# ---------------------------------------------------------------- the dashboard


@bp.route(MERCHANT)
@page("redemptions.counter", target=SHOP)
def dashboard(merchant_id: int):
    """The shop's dashboard: today, this month, what is owed, statements, offers, staff."""
    actor = access.current_actor()
    merchant = merchants.get_merchant(merchant_id)
    owned = OWNED(merchant_id)
    manages = access.may(actor, "merchants.manage", owned)
    offers_ = merchants.merchant_offers(merchant.id, include_withdrawn=True)
    today = utcnow().astimezone(merchants.local_zone()).date()
    return render_template(
        "merchants/dashboard.html",
        merchant=merchant,
        summary=merchants.merchant_summary(merchant.id),
        point_value_fen=merchants.point_value_fen(),
        statements=merchants.statements_now(merchants.merchant_statements(merchant.id))
        if access.may(actor, "merchants.statements", owned)
        else None,
        offers=offers_,
        usage=merchants.offer_usage([o.id for o in offers_]),
        left=merchants.offers_left(offers_),
        manages=manages,
        staff=merchants.list_staff(merchant) if manages else [],
        invited=merchants.pending_invitations(merchant) if manages else [],
        offer_form=OfferForm(
            formdata=None, valid_from=today, valid_until=today + timedelta(days=30)
        ),
        staff_form=StaffForm(formdata=None),
        action_form=ActionForm(),
    )


_TO_DASHBOARD = redirect_to("merchants.dashboard", "merchant_id")


@bp.route(f"{MERCHANT}/offers", methods=["POST"])
@page("merchants.manage", target=OWNED, on_error=_TO_DASHBOARD)
def new_offer(merchant_id: int):
    form = OfferForm()
    if form.validate_on_submit():
        offer = merchants.create_offer(
            merchants.get_merchant(merchant_id), actor=access.current_actor(), **offer_fields(form)
        )
        flash(_("%(title)s was published.", title=offer.title), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("merchants.dashboard", merchant_id=merchant_id) + "#offers")


@bp.route(f"/offers/<{ID}:offer_id>/edit", methods=["GET", "POST"])
@page("merchants.manage", target=merchants.offer_owner_target, on_error=REDISPLAY)
def edit_offer(offer_id: int):
    """The owner (or an organizer) changes an offer: its stock, limits and end at any
    time; what it gives and costs until someone redeemed it."""
    offer = merchants.get_offer(offer_id)
    fixed = merchants.offer_redeemed(offer.id)
    current = offer_form_data(offer)
    form = OfferForm(formdata=None, data=current) if request.method == "GET" else OfferForm()
    if fixed:  # shown, not sent: what it gives and costs stays as it was
        for name in FIXED_FORM_FIELDS:
            getattr(form, name).data = current[name]
    if form.validate_on_submit():
        # only what the person changed: an untouched day is not a change of the moment
        was = offer_fields(OfferForm(formdata=None, data=current))
        changes = {k: v for k, v in offer_fields(form).items() if v != was[k]}
        merchants.update_offer(offer.id, actor=access.current_actor(), **changes)
        flash(_("%(title)s was changed.", title=offer.title), "success")
        return redirect(url_for("merchants.dashboard", merchant_id=offer.merchant_id) + "#offers")
    flash_form_errors(form)
    return render_template(
        "merchants/offer_edit.html",
        offer=offer,
        form=form,
        fixed=FIXED_FORM_FIELDS if fixed else (),
    )


@bp.route(f"/offers/<{ID}:offer_id>/withdraw", methods=["POST"])
@page("merchants.manage", target=merchants.offer_owner_target)
def withdraw(offer_id: int):
    offer = merchants.get_offer(offer_id)
    if ActionForm().validate_on_submit():
        merchants.withdraw_offer(offer)
        flash(_("%(title)s was taken down.", title=offer.title), "success")
    return redirect(back())


@bp.route(f"{MERCHANT}/staff", methods=["POST"])
@page("merchants.manage", target=OWNED, on_error=_TO_DASHBOARD)
def invite(merchant_id: int):
    form = StaffForm()
    if form.validate_on_submit():
        invited = merchants.invite_staff(
            merchants.get_merchant(merchant_id), phone=form.phone.data, actor=access.current_actor()
        )
        message = _(
            "If %(phone)s belongs to a member, they are asked; they become staff once they accept.",
            phone=invited["phone"],
        )
        flash(message, "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("merchants.dashboard", merchant_id=merchant_id) + "#staff")


@bp.route(f"{MERCHANT}/staff/<{ID}:member_id>/remove", methods=["POST"])
@page("merchants.manage", target=OWNED, on_error=_TO_DASHBOARD)
def remove(merchant_id: int, member_id: int):
    if ActionForm().validate_on_submit():
        merchants.remove_staff(
            merchants.get_merchant(merchant_id), member_id=member_id, actor=access.current_actor()
        )
        flash(_("The staff member was removed."), "success")
    return redirect(url_for("merchants.dashboard", merchant_id=merchant_id) + "#staff")


@bp.route("/me/staff-invitations")
@page("me.invitations")
def staff_invitations():
    """The shops that asked the caller to be their staff: accept or decline."""
    return render_template(
        "merchants/invitations.html",
        invitations=merchants.invitations_for(access.current_actor()),
        form=ActionForm(),
    )


@bp.route(
    f"/staff-invitations/<{ID}:invitation_id>/<any(accept, decline):answer>", methods=["POST"]
)
@page("staff_invitations.answer", target=merchants.invitation_target)
def answer_invitation(invitation_id: int, answer: str):
    if ActionForm().validate_on_submit():
        member = access.current_actor()
        if answer == "accept":
            invitation = merchants.accept_staff_invitation(invitation_id, member=member)
            flash(_("You are now staff of %(shop)s.", shop=invitation.merchant.name), "success")
            return redirect(url_for("merchants.counter", merchant_id=invitation.merchant_id))
        merchants.decline_staff_invitation(invitation_id, member=member)
        flash(_("You declined the invitation."), "success")
    return redirect(url_for("merchants.staff_invitations"))
