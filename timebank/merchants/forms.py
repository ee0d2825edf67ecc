"""The merchants' page forms: a shop's profile and application, the counter's redeem and
refund forms, an offer, a staff invitation; each turned into an operation's arguments
here (yuan to fen, hours to minutes, local days to UTC moments)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from timebank.core.web import Form
from timebank.merchants.models import (
    ADDRESS_MAX,
    BENEFITS,
    BUDGET_POINTS,
    CATEGORY_NAMES,
    HOURS_MAX,
    LATITUDE,
    LONGITUDE,
    MERCHANT_CATEGORIES,
    NAME_MAX,
    PER_MEMBER,
    PERCENT,
    POINTS_COST,
    REASON_MAX,
    SERVICE_MINUTES,
    STOCK,
    YUAN_FEN,
)
from timebank.merchants.operations.limits import local_midnight, local_zone

BENEFIT_NAMES = {
    "discount": _l("A fixed discount in yuan"),
    "percent": _l("A percentage off, up to a cap"),
    "item": _l("An item"),
}
PROFILE_FIELDS = (
    "name", "category", "address", "opening_hours", "contact_name", "contact_phone", "lat", "lng",
)  # fmt: skip


class ProfileForm(Form):
    name = StringField(_l("Shop name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    category = SelectField(
        _l("Kind of shop"),
        choices=[SelectChoice(c, CATEGORY_NAMES[c]) for c in MERCHANT_CATEGORIES],
    )
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=ADDRESS_MAX)])
    opening_hours = StringField(_l("Opening hours"), validators=[Length(max=HOURS_MAX)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=60)])
    contact_phone = StringField(_l("Contact phone"), validators=[DataRequired(), Length(max=20)])
    lat = FloatField(_l("Latitude (optional)"), validators=[Optional(), LATITUDE.form()])
    lng = FloatField(_l("Longitude (optional)"), validators=[Optional(), LONGITUDE.form()])


class ApplyForm(ProfileForm):
    unit_id = SelectField(_l("Community"), coerce=int)


def profile_fields(form: ProfileForm) -> dict:
    return {name: getattr(form, name).data for name in PROFILE_FIELDS}


class RedeemForm(Form):
    code = StringField(
        _l("Customer's code (scan, or type the digits)"),
        validators=[DataRequired(), Length(max=300)],
    )
    offer_id = IntegerField(_l("Offer"), validators=[DataRequired()])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=120)])


class RefundForm(Form):
    reason = StringField(_l("Reason for the refund"), validators=[Length(max=REASON_MAX)])


class OfferForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=NAME_MAX)])
    points_cost = IntegerField(_l("Points"), validators=[DataRequired(), POINTS_COST.form()])
    benefit = SelectField(
        _l("The customer gets"), choices=[SelectChoice(b, BENEFIT_NAMES[b]) for b in BENEFITS]
    )
    discount_yuan = IntegerField(_l("Discount in yuan"), validators=[Optional(), YUAN_FEN.form()])
    percent_off = IntegerField(_l("Percentage off"), validators=[Optional(), PERCENT.form()])
    cap_yuan = IntegerField(_l("At most, in yuan"), validators=[Optional(), YUAN_FEN.form()])
    item_name = StringField(_l("Item"), validators=[Optional(), Length(max=NAME_MAX)])
    description = TextAreaField(_l("Conditions"), validators=[Length(max=2000)])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until (inclusive)"), validators=[DataRequired()])
    stock = IntegerField(_l("Stock (empty: no limit)"), validators=[Optional(), STOCK.form()])
    budget_points = IntegerField(
        _l("Budget in points (empty: no limit)"), validators=[Optional(), BUDGET_POINTS.form()]
    )
    per_member_daily = IntegerField(
        _l("Per person per day"), validators=[Optional(), PER_MEMBER.form()]
    )
    per_member_monthly = IntegerField(
        _l("Per person per month"), validators=[Optional(), PER_MEMBER.form()]
    )
    min_service_hours = IntegerField(
        _l("Hours of verified service needed first"),
        validators=[Optional(), SERVICE_MINUTES.form()],
    )


def offer_fields(form: OfferForm) -> dict:
    """The operation's arguments from the form (yuan to fen, hours to minutes, local
    days to UTC moments; the last day is included)."""

    def fen(value):
        return value * 100 if value else None

    return {
        "title": form.title.data,
        "points_cost": form.points_cost.data,
        "benefit": form.benefit.data,
        "discount_fen": fen(form.discount_yuan.data),
        "percent_off": form.percent_off.data,
        "cap_fen": fen(form.cap_yuan.data),
        "item_name": form.item_name.data or None,
        "description": form.description.data or "",
        "valid_from": local_midnight(form.valid_from.data),
        "valid_until": local_midnight(form.valid_until.data + timedelta(days=1)),
        "stock": form.stock.data,
        "budget_points": form.budget_points.data,
        "per_member_daily": form.per_member_daily.data,
        "per_member_monthly": form.per_member_monthly.data,
        "min_service_minutes": (form.min_service_hours.data or 0) * 60,
    }


def offer_form_data(offer) -> dict:
    """The form's values of an offer (the reverse of offer_fields: fen to yuan, minutes
    to hours, the exclusive end to the last local day)."""
    zone = local_zone()

    def yuan(fen):
        return fen // 100 if fen else None

    return {
        "title": offer.title,
        "points_cost": offer.points_cost,
        "benefit": offer.benefit,
        "discount_yuan": yuan(offer.discount_fen),
        "percent_off": offer.percent_off,
        "cap_yuan": yuan(offer.cap_fen),
        "item_name": offer.item_name,
        "description": offer.description,
        "valid_from": offer.valid_from.astimezone(zone).date(),
        "valid_until": (offer.valid_until - timedelta(microseconds=1)).astimezone(zone).date(),
        "stock": offer.stock,
        "budget_points": offer.budget_points,
        "per_member_daily": offer.per_member_daily,
        "per_member_monthly": offer.per_member_monthly,
        "min_service_hours": (offer.min_service_minutes or 0) // 60,
    }


#: the form's fields that show what an offer gives and costs (FIXED_ONCE_REDEEMED)
FIXED_FORM_FIELDS = (
    "title", "points_cost", "benefit", "discount_yuan", "percent_off", "cap_yuan", "item_name",
    "valid_from",
)  # fmt: skip


class StaffForm(Form):
    phone = StringField(
        _l("Phone of the new staff member"), validators=[DataRequired(), Length(max=30)]
    )
