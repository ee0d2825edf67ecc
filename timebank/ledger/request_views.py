"""Pages that ask the ledger for something: an award or a correction (organizers; a
second organizer approves what creates value), and a donation of one's hours (or a
ward's) to a member or to a community pool.

Each form carries a key made when it is shown, so a double tap or a reload after a slow
answer replays the first request instead of asking twice.
"""

from __future__ import annotations

import re
import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from timebank.core import access
from timebank.core.access import Target
from timebank.core.errors import InvalidInput
from timebank.core.idempotency import scoped_key
from timebank.core.names import names_of
from timebank.core.web import REDISPLAY, Form, flash_form_errors, page
from timebank.ledger import operations as ledger
from timebank.ledger.views import MEMBER, bp

MAX_HOURS = 1000
MAX_POINTS = 100_000


class AmountForm(Form):
    """An amount said as a person says it: hours and minutes, or points; and a key."""

    hours = IntegerField(_l("Hours"), default=0, validators=[Optional(), NumberRange(0, MAX_HOURS)])
    minutes = IntegerField(_l("Minutes"), default=0, validators=[Optional(), NumberRange(0, 59)])
    points = IntegerField(
        _l("Points"), default=0, validators=[Optional(), NumberRange(0, MAX_POINTS)]
    )
    key = HiddenField()

    def amount(self, ledger_name: str) -> int:
        """The amount in the ledger's unit (minutes or points); InvalidInput for none."""
        if ledger_name == "HOURS":
            value = (self.hours.data or 0) * 60 + (self.minutes.data or 0)
            field = "hours"
        else:
            value, field = self.points.data or 0, "points"
        if value <= 0:
            raise InvalidInput("Give an amount above zero.", errors={field: ["Required."]})
        return value

    def idempotency_key(self) -> str:
        """The form's key in the caller's namespace: a key copied from someone else's form
        is a new request, never their replay."""
        key = self.key.data or ""
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            key = secrets.token_hex(16)
        return scoped_key("page", access.current_actor().id, key)


def _fresh_key(form: AmountForm) -> None:
    if request.method == "GET" or not form.key.data:
        form.key.data = secrets.token_hex(16)


class AwardForm(AmountForm):
    ledger = RadioField(
        _l("What to award"),
        choices=[
            SelectChoice("HOURS", _l("Time bank hours")),
            SelectChoice("POINTS", _l("Points")),
        ],
        default="POINTS",
    )
    memo = TextAreaField(_l("Why (the approver and the member read it)"), validators=[
        DataRequired(), Length(max=500)])  # fmt: skip


def _member_target(member_id: int) -> Target:
    return access.target_of("member", member_id)


@bp.route(f"{MEMBER}/award", methods=["GET", "POST"])
@page("ledger.award", target=_member_target, on_error=REDISPLAY)
def award(member_id: int):
    """Ask for an award to a member; it posts when a second organizer approves it."""
    name = names_of("member", [member_id]).get(member_id, "")
    form = AwardForm()
    _fresh_key(form)
    if form.validate_on_submit():
        asked = ledger.ask_award(
            member_id=member_id, ledger=form.ledger.data, amount=form.amount(form.ledger.data),
            memo=form.memo.data, idempotency_key=form.idempotency_key(),
            actor=access.current_actor(),
        )  # fmt: skip
        flash(_("The award to %(name)s waits for a second organizer.", name=name), "success")
        return redirect(url_for("ledger.pending_credits", unit_id=asked.pending.unit_id))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template("ledger/award.html", form=form, member_id=member_id, name=name)


def _transfer_target(transfer_id: int) -> Target:
    return Target(unit=ledger.unit_of_transfer(ledger.get_transfer(transfer_id)))


class CorrectForm(AmountForm):
    memo = TextAreaField(_l("Why is it corrected?"), validators=[DataRequired(), Length(max=500)])


@bp.route("/transfers/<int(max=2147483647):transfer_id>/correct", methods=["GET", "POST"])
@page("ledger.correct", target=_transfer_target, on_error=REDISPLAY)
def correct(transfer_id: int):
    """Correct all or part of a transfer by a linked one: taking back posts at once,
    giving back waits for a second organizer."""
    original = ledger.get_transfer(transfer_id)
    debit = ledger.get_account(original.debit_account_id)
    credit = ledger.get_account(original.credit_account_id)
    names = names_of("member", [debit.member_id, credit.member_id])
    form = CorrectForm()
    _fresh_key(form)
    if form.validate_on_submit():
        result = ledger.correct(
            transfer_id=transfer_id, amount=form.amount(original.ledger), memo=form.memo.data,
            idempotency_key=form.idempotency_key(), actor=access.current_actor(),
        )  # fmt: skip
        if result.pending is not None:
            flash(_("The correction waits for a second organizer."), "success")
            return redirect(url_for("ledger.pending_credits", unit_id=result.pending.unit_id))
        flash(_("The correction was posted."), "success")
        member_id = credit.member_id or debit.member_id
        if member_id is not None:
            return redirect(url_for("ledger.member_statement", member_id=member_id))
        return redirect(url_for("people.home"))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template(
        "ledger/correct.html",
        form=form,
        original=original,
        gives_back=debit.kind == "member",
        member_name=names.get(credit.member_id) or names.get(debit.member_id) or "",
    )


class DonateForm(AmountForm):
    to = RadioField(
        _l("Give to"),
        choices=[
            SelectChoice("member", _l("A family member or neighbour")),
            SelectChoice("pool", _l("A community pool")),
        ],
        default="member",
    )
    phone = StringField(_l("Their phone number"), validators=[Optional(), Length(max=30)])
    pool_unit_id = SelectField(_l("Which pool"), coerce=int, validate_choice=False)
    memo = StringField(_l("A note (optional)"), validators=[Optional(), Length(max=500)])


@bp.route("/me/donate", methods=["GET", "POST"])
@page("ledger.donate", on_error=REDISPLAY)
def donate():
    """Give one's hours (or, with ?for=, a ward's) to a member or to a community pool."""
    member = access.acting_member()
    actor = access.current_actor()
    pools = ledger.donation_pools(member)
    form = DonateForm()
    form.pool_unit_id.choices = [SelectChoice(u.id, u.name) for u in pools]
    _fresh_key(form)
    if form.validate_on_submit() and "change" not in request.form:
        to_pool = form.to.data == "pool"
        if to_pool and not form.pool_unit_id.data:
            raise InvalidInput("Choose a pool.", errors={"pool_unit_id": ["Required."]})
        asked = {
            "donor": member, "actor": actor, "minutes": form.amount("HOURS"),
            "recipient_phone": None if to_pool else (form.phone.data or ""),
            "pool_unit_id": form.pool_unit_id.data if to_pool else None, "memo": form.memo.data,
        }  # fmt: skip
        if request.form.get("confirmed") != "yes":
            # the first tap shows whom the hours go to; the second gives them
            return render_template(
                "ledger/donate_confirm.html", form=form, member=member,
                preview=ledger.preview_donation(**asked),
            )  # fmt: skip
        result = ledger.donate(**asked, idempotency_key=form.idempotency_key())
        flash(_("Thank you: the hours were given."), "success")
        if result.to_pool and not to_pool:
            flash(_("Part went to the community pool: the recipient reached the cap."), "info")
        return redirect(url_for("ledger.statement", **_acting(member, actor)))
    if request.method == "POST" and "change" not in request.form:
        flash_form_errors(form)
    return render_template(
        "ledger/donate.html",
        form=form,
        member=member,
        balances=ledger.balances(member.id),
    )


def _acting(member, actor) -> dict:
    return {"for": member.id} if member.id != actor.id else {}
