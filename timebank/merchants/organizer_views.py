"""Organizers' pages of merchants: approval (and adding a shop), offers oversight, and
settlement (monthly statements, marking them paid, CSV and XLSX exports). A shop's owner
opens its own statements here too."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from timebank.core import access
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError
from timebank.core.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_bytes, xlsx_bytes
from timebank.core.qr import qr_svg
from timebank.core.urls import public_url
from timebank.core.web import ActionForm, Form, back, flash_form_errors, page
from timebank.merchants import exports
from timebank.merchants import operations as merchants
from timebank.merchants.forms import ApplyForm, profile_fields
from timebank.merchants.models import REASON_MAX
from timebank.units import operations as units

bp = Blueprint("merchant_admin", __name__)
ID = "int(max=2147483647)"
UNIT = f"/units/<{ID}:unit_id>"
STATEMENT = f"/statements/<{ID}:statement_id>"
MERCHANT = f"/merchants/<{ID}:merchant_id>"


class AddShopForm(ApplyForm):
    owner_phone = StringField(_l("Owner's phone"), validators=[DataRequired(), Length(max=30)])


class ReasonForm(Form):
    reason = StringField(_l("Reason"), validators=[Length(max=REASON_MAX)])


class PayForm(Form):
    reference = StringField(
        _l("Payment reference (bank transfer, receipt)"), validators=[Length(max=120)]
    )


@bp.route(f"{UNIT}/merchants")
@page("merchants.oversee", target=units.unit_target)
def unit_merchants(unit_id: int):
    """Every shop of the subtree, waiting ones first, with their decisions."""
    form = AddShopForm(formdata=None, unit_id=unit_id)
    form.unit_id.choices = [(u.id, u.name) for u in units.list_units(within=[unit_id])]
    return render_template(
        "merchants/unit_merchants.html",
        unit=units.get_unit(unit_id),
        shops=merchants.merchants_in_unit(unit_id),
        add_form=form,
        reason_form=ReasonForm(formdata=None),
        action_form=ActionForm(),
    )


@bp.route(f"{UNIT}/merchants", methods=["POST"])
@page("merchants.approve", target=units.unit_target)
def add_shop(unit_id: int):
    """An organizer adds a shop, naming its owner; it still waits for approval."""
    form = AddShopForm()
    form.unit_id.choices = [(u.id, u.name) for u in units.list_units(within=[unit_id])]
    if form.validate_on_submit():
        merchant = merchants.apply_merchant(
            unit_id=form.unit_id.data,
            owner_phone=form.owner_phone.data,
            actor=access.current_actor(),
            **profile_fields(form),
        )
        flash(_("%(name)s was added; approve it to open it.", name=merchant.name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("merchant_admin.unit_merchants", unit_id=unit_id))


DECISIONS = {
    "approve": (merchants.approve_merchant, _l("%(name)s is approved.")),
    "reject": (merchants.reject_merchant, _l("%(name)s was turned down.")),
    "suspend": (merchants.suspend_merchant, _l("%(name)s is suspended.")),
    "reinstate": (merchants.reinstate_merchant, _l("%(name)s may redeem again.")),
}


@bp.route(
    f"/merchants/<{ID}:merchant_id>/<any(approve, reject, suspend, reinstate):decision>",
    methods=["POST"],
)
@page("merchants.approve", target=merchants.merchant_target)
def decide(merchant_id: int, decision: str):
    merchant = merchants.get_merchant(merchant_id)
    form = ReasonForm()
    if form.validate_on_submit():
        operation, message = DECISIONS[decision]
        kwargs = {"reason": form.reason.data or ""} if decision in ("reject", "suspend") else {}
        operation(merchant, actor=access.current_actor(), **kwargs)
        flash(str(message) % {"name": merchant.name}, "success")
    return redirect(back())


@bp.route(f"{UNIT}/offers")
@page("merchants.oversee", target=units.unit_target)
def unit_offers(unit_id: int):
    """Every offer of the subtree's shops, with how much of each is used."""
    offers = merchants.offers_in_unit(unit_id)
    return render_template(
        "merchants/unit_offers.html",
        unit=units.get_unit(unit_id),
        offers=offers,
        usage=merchants.offer_usage([o.id for o in offers]),
        left=merchants.offers_left(offers),
        action_form=ActionForm(),
    )


def _month():
    """The month asked for (``?month=YYYY-MM``), else last month."""
    text = request.args.get("month") or request.form.get("month")
    if not text:
        return merchants.previous_month(utcnow())
    try:
        return merchants.parse_month(text)
    except DomainError:
        return merchants.previous_month(utcnow())


@bp.route(f"{UNIT}/settlement")
@page("merchants.settle", target=units.unit_target)
def settlement(unit_id: int):
    """A month's statements of the subtree's shops: build, pay, export."""
    period = _month()
    now = utcnow()
    statements = merchants.statements_now(merchants.unit_statements(unit_id, period), now)
    return render_template(
        "merchants/settlement.html",
        unit=units.get_unit(unit_id),
        period=period,
        month=f"{period:%Y-%m}",
        months=_recent_months(now),
        statements=statements,
        ended=merchants.month_bounds(period)[1] <= now,
        total_fen=sum(s.amount_fen for s in statements),
        total_points=sum(s.points_net for s in statements),
        pay_form=PayForm(formdata=None),
        action_form=ActionForm(),
        now=now,
    )


def _back_to_settlement(error, kwargs):
    flash(error.localized(), "error")
    return redirect(
        url_for("merchant_admin.settlement", unit_id=kwargs["unit_id"], month=f"{_month():%Y-%m}")
    )


@bp.route(f"{UNIT}/settlement/pay", methods=["POST"])
@page("merchants.settle", target=units.unit_target, on_error=_back_to_settlement)
def pay_several(unit_id: int):
    """The unit paid the chosen shops with one payment: all or none (an error rolls
    every one of them back)."""
    period = _month()
    form = PayForm()
    sent = request.form.getlist("statement_ids")
    ids = [int(i) for i in sent if i.isascii() and i.isdigit() and len(i) < 10][:100]
    if not ids:
        flash(_("Choose the statements that were paid."), "error")
    elif form.validate_on_submit():
        paid = merchants.pay_statements(
            unit_id, ids, actor=access.current_actor(), reference=form.reference.data
        )
        if paid:
            flash(
                _(
                    "%(count)s statements are paid: ¥%(amount)s.",
                    count=len(paid),
                    amount=f"{sum(p.amount_fen for p in paid) / 100:.2f}",
                ),
                "success",
            )
    return redirect(url_for("merchant_admin.settlement", unit_id=unit_id, month=f"{period:%Y-%m}"))


def _recent_months(now, count: int = 12) -> list[str]:
    first = merchants.current_month(now)
    months = []
    for _step in range(count):
        months.append(f"{first:%Y-%m}")
        first = merchants.previous_month(merchants.month_bounds(first)[0])
    return months


@bp.route(f"{UNIT}/settlement", methods=["POST"])
@page("merchants.settle", target=units.unit_target)
def build(unit_id: int):
    """Build (or rebuild from the ledger) the month's statement of every shop."""
    period = _month()
    if ActionForm().validate_on_submit():
        built = merchants.build_unit_statements(unit_id, period)
        flash(_("%(count)s statements built from the ledger.", count=len(built)), "success")
    return redirect(url_for("merchant_admin.settlement", unit_id=unit_id, month=f"{period:%Y-%m}"))


def _download(body: bytes, fmt: str, name: str) -> Response:
    mimetype = CSV_MEDIA_TYPE if fmt == "csv" else XLSX_MEDIA_TYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@bp.route(f"{UNIT}/settlement.<any(csv, xlsx):fmt>")
@page("merchants.settle", target=units.unit_target)
def export_month(unit_id: int, fmt: str):
    period = _month()
    statements = merchants.statements_now(merchants.unit_statements(unit_id, period))
    table = exports.summary_table(statements, f"{period:%Y-%m}")
    body = csv_bytes(table) if fmt == "csv" else xlsx_bytes(table)
    return _download(body, fmt, f"statements-{unit_id}-{period:%Y-%m}")


@bp.route(STATEMENT)
@page("merchants.statements", target=merchants.statement_target)
def statement(statement_id: int):
    """One statement, line by line from the ledger."""
    statement_ = merchants.StatementNow(merchants.get_statement(statement_id), utcnow())
    actor = access.current_actor()
    target = merchants.statement_target(statement_id)
    return render_template(
        "merchants/statement.html",
        statement=statement_,
        lines=merchants.statement_lines(statement_.merchant_id, statement_.period_start),
        settles=access.may(actor, "merchants.settle", target),
        ended=merchants.month_bounds(statement_.period_start)[1] <= utcnow(),
        pay_form=PayForm(formdata=None),
    )


@bp.route(f"{STATEMENT}/print")
@page("merchants.statements", target=merchants.statement_target)
def print_statement(statement_id: int):
    """The statement laid out on paper, with lines for the shop and the community to
    sign and date."""
    statement_ = merchants.StatementNow(merchants.get_statement(statement_id), utcnow())
    return render_template(
        "merchants/statement_print.html",
        statement=statement_,
        lines=merchants.statement_lines(statement_.merchant_id, statement_.period_start),
    )


@bp.route(f"{STATEMENT}.<any(csv, xlsx):fmt>")
@page("merchants.statements", target=merchants.statement_target)
def export_statement(statement_id: int, fmt: str):
    statement_ = merchants.StatementNow(merchants.get_statement(statement_id), utcnow())
    tables = exports.summary_table([statement_], _("Statement")), exports.lines_table(statement_)
    body = csv_bytes(*tables) if fmt == "csv" else xlsx_bytes(*tables)
    return _download(body, fmt, f"statement-{statement_.merchant_id}-{statement_.month}")


def _back_to_statement(error, kwargs):
    flash(error.localized(), "error")
    return redirect(url_for("merchant_admin.statement", statement_id=kwargs["statement_id"]))


@bp.route(f"{STATEMENT}/pay", methods=["POST"])
@page("merchants.settle", target=merchants.statement_target, on_error=_back_to_statement)
def pay(statement_id: int):
    """The unit paid the shop: post the settle transfer and close the statement."""
    form = PayForm()
    if form.validate_on_submit():
        paid = merchants.mark_statement_paid(
            statement_id, actor=access.current_actor(), reference=form.reference.data
        )
        flash(
            _(
                "%(name)s's statement of %(month)s is paid: ¥%(amount)s.",
                name=paid.merchant.name,
                month=paid.month,
                amount=f"{paid.amount_fen / 100:.2f}",
            ),
            "success",
        )
    return redirect(url_for("merchant_admin.statement", statement_id=statement_id))


# ---------------------------------------------------------------- the shop's own paper


def _day():
    """The local day asked for (``?day=YYYY-MM-DD``), else today."""
    today = utcnow().astimezone(merchants.local_zone()).date()
    try:
        day = date.fromisoformat((request.args.get("day") or "")[:10])
    except ValueError:
        return today
    return day if date(2000, 1, 1) <= day <= today else today


@bp.route(f"{MERCHANT}/close-out")
@page("redemptions.counter", target=merchants.merchant_target)
def close_out(merchant_id: int):
    """The day's close-out at the counter: what was redeemed, refunded and is owed."""
    merchant = merchants.get_merchant(merchant_id)
    day = _day()
    return render_template(
        "merchants/close_out.html",
        merchant=merchant,
        close=merchants.close_out(merchant.id, day),
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        today=utcnow().astimezone(merchants.local_zone()).date(),
    )


@bp.route(f"{MERCHANT}/close-out.csv")
@page("redemptions.counter", target=merchants.merchant_target)
def close_out_csv(merchant_id: int):
    merchant = merchants.get_merchant(merchant_id)
    day = _day()
    table = exports.close_out_table(merchant.name, merchants.close_out(merchant.id, day))
    return _download(csv_bytes(table), "csv", f"close-out-{merchant.id}-{day.isoformat()}")


@bp.route(f"{MERCHANT}/sticker")
@page("redemptions.counter", target=merchants.merchant_target)
def sticker(merchant_id: int):
    """A printable 本店接受积分 sticker for the shop's door and counter, with a QR code
    that opens the shop's page of offers."""
    merchant = merchants.get_merchant(merchant_id)
    url = public_url(url_for("merchants.profile", merchant_id=merchant.id))
    return render_template(
        "merchants/sticker.html",
        merchant=merchant,
        url=url,
        svg=qr_svg(url) if merchant.status == "approved" else None,
        offers=merchants.merchant_offers(merchant.id)[:3],
    )
