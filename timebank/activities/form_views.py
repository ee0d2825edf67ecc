"""Pages: publishing and editing an activity. Field errors are said next to their field,
with its label, in the reader's language; the place comes from the phone ("use my
location", static/js/place.js) or from the unit's saved place."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.validators import ValidationError as InvalidField

from timebank.activities import operations as activities
from timebank.activities.errors import ActivityLocked, InvalidActivity
from timebank.activities.models import (
    ACTIVITY_KINDS,
    ADDRESS_MAX,
    CAPACITY,
    CHECKIN_MODES,
    DESCRIPTION_MAX,
    LATITUDE,
    LONGITUDE,
    POINTS,
    RADIUS_M,
    TITLE_MAX,
    category_name,
)
from timebank.activities.views import ACTIVITY, KIND_NAMES, MODE_NAMES, TARGET, bp
from timebank.core import access
from timebank.core.errors import N_
from timebank.core.web import REDISPLAY, Form, page
from timebank.units import operations as units

#: the radius a place gets when none is given: a courtyard, a square
DEFAULT_RADIUS_M = 200

#: the operations' field messages, marked for translation (said next to the field)
FIELD_MESSAGES = (
    N_("Required."),
    N_("Unknown category."),
    N_("Unknown kind."),
    N_("Unknown mode."),
    N_("Give a time zone."),
    N_("The end must be after the start."),
    N_("An activity lasts at most 7 days."),
    N_("A place needs latitude, longitude and radius."),
    N_("Fixed after the first check-in."),
)
_PATTERNS = (
    (re.compile(r"Between (\S+) and (\S+)\.$"), N_("Between %(low)s and %(high)s.")),
    (re.compile(r"At most (\d+) characters\.$"), N_("At most %(n)s characters.")),
    (re.compile(r"(\d+) members signed up already\.$"), N_("%(n)s members signed up already.")),
)


def field_message(message: str) -> str:
    """An operation's field message in the reader's language."""
    for pattern, msgid in _PATTERNS:
        found = pattern.match(message)
        if found:
            names = ("low", "high") if "%(low)s" in msgid else ("n",)
            return _(msgid, **dict(zip(names, found.groups(), strict=True)))
    return _(message)


def _a_real_moment(form, field):
    # the local time must exist in UTC too (0001-01-01 in Shanghai does not)
    if field.data is not None and not 1900 <= field.data.year <= 9998:
        raise InvalidField(_l("Give a date between 1900 and 9998."))


class ActivityForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    unit_id = SelectField(_l("Grid or community"), coerce=int)
    category = SelectField(_l("Category"))
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_NAMES[k]) for k in ACTIVITY_KINDS])
    description = TextAreaField(
        _l("Description: what to bring, where to meet"),
        validators=[Length(max=DESCRIPTION_MAX)],
    )
    address = StringField(
        _l("Where (optional): the room, the street and number"),
        validators=[Optional(), Length(max=ADDRESS_MAX)],
    )
    starts_at = DateTimeLocalField(_l("Starts"), validators=[DataRequired(), _a_real_moment])
    ends_at = DateTimeLocalField(_l("Ends"), validators=[DataRequired(), _a_real_moment])
    capacity = IntegerField(
        _l("Places (empty: no limit)"), validators=[Optional(), CAPACITY.form()]
    )
    signup_required = BooleanField(_l("Only members who signed up may check in"))
    points_per_hour = IntegerField(
        _l("Points per hour"), default=0, validators=[Optional(), POINTS.form()]
    )
    checkin_bonus = IntegerField(
        _l("Points for attending"), default=0, validators=[Optional(), POINTS.form()]
    )
    checkin_mode = SelectField(
        _l("Check-in mode"), choices=[SelectChoice(m, MODE_NAMES[m]) for m in CHECKIN_MODES]
    )
    requires_checkout = BooleanField(_l("Volunteers also check out"), default=True)
    use_unit_place = BooleanField(_l("Use the saved place of the grid or community"))
    lat = FloatField(_l("Latitude (optional)"), validators=[Optional(), LATITUDE.form()])
    lng = FloatField(_l("Longitude (optional)"), validators=[Optional(), LONGITUDE.form()])
    radius_m = IntegerField(_l("Radius in metres"), validators=[Optional(), RADIUS_M.form()])

    def show_errors(self, error: InvalidActivity | ActivityLocked) -> None:
        """Put an operation's field errors next to their fields, in the reader's language."""
        for name, messages in (error.errors or {}).items():
            field = getattr(self, name, None)
            if field is not None:
                field.errors = [*field.errors, *(field_message(m) for m in messages)]


def _aware(local: datetime | None) -> datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=activities.local_zone()).astimezone(UTC)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(activities.local_zone()).replace(tzinfo=None)


def _organized_units():
    roots = access.scope_roots(access.current_actor(), "activities.manage")
    return units.list_units(within=roots) if roots else []


def _place(form: ActivityForm, unit) -> tuple[float | None, float | None, int | None]:
    """The place the form asks for: typed or located, else the unit's saved place when
    asked; a place without a radius gets DEFAULT_RADIUS_M."""
    lat, lng, radius = form.lat.data, form.lng.data, form.radius_m.data
    if lat is None and lng is None and form.use_unit_place.data and unit is not None:
        lat, lng = unit.lat, unit.lng
    if lat is not None and lng is not None and radius is None:
        radius = DEFAULT_RADIUS_M
    return lat, lng, radius


def _choices(form: ActivityForm, organized: list) -> None:
    form.unit_id.choices = [SelectChoice(u.id, u.name) for u in organized]
    form.category.choices = [SelectChoice(c, category_name(c)) for c in activities.categories()]


def _rejected(form: ActivityForm, error) -> None:
    form.show_errors(error)
    if isinstance(error, ActivityLocked):
        flash(error.localized(), "error")
    flash(_("Please correct the marked fields."), "error")


@bp.route("/activities/new", methods=["GET", "POST"])
@page("activities.manage", on_error=REDISPLAY)
def new():
    actor = access.current_actor()
    access.authorize_anywhere(actor, "activities.manage")
    organized = _organized_units()
    form = ActivityForm()
    _choices(form, organized)
    if form.validate_on_submit():
        access.authorize(actor, "activities.manage", units.unit_target(form.unit_id.data))
        lat, lng, radius = _place(form, units.get_unit(form.unit_id.data))
        try:
            activity = activities.create_activity(
                actor=actor, unit_id=form.unit_id.data, title=form.title.data,
                description=form.description.data or "", category=form.category.data,
                address=form.address.data or "",
                kind=form.kind.data, starts_at=_aware(form.starts_at.data),
                ends_at=_aware(form.ends_at.data), lat=lat, lng=lng, radius_m=radius,
                capacity=form.capacity.data, signup_required=form.signup_required.data,
                points_per_hour=form.points_per_hour.data or 0,
                checkin_bonus=form.checkin_bonus.data or 0,
                checkin_mode=form.checkin_mode.data,
                requires_checkout=form.requires_checkout.data,
            )  # fmt: skip
        except InvalidActivity as error:
            _rejected(form, error)
        else:
            flash(_("%(title)s was published.", title=activity.title), "success")
            return redirect(url_for("activities.detail", activity_id=activity.id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template(
        "activities/new.html", form=form, places={u.id: u for u in organized if u.lat is not None}
    )


@bp.route(f"{ACTIVITY}/edit", methods=["GET", "POST"])
@page("activities.manage", target=TARGET, on_error=REDISPLAY)
def edit(activity_id: int):
    """Change an activity; once somebody has checked in, only what does not touch hours
    or points (see activities/operations/editing.py)."""
    activity = activities.get_activity(activity_id)
    locked = activities.has_check_ins(activity_id)
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    _choices(form, [activity.unit])
    if request.method == "GET":
        form.starts_at.data, form.ends_at.data = (
            _local(activity.starts_at),
            _local(activity.ends_at),
        )
    form.unit_id.data = activity.unit_id
    if locked:
        for name in activities.COUNTING_FIELDS:
            field = getattr(form, name)
            field.render_kw = {"disabled": True}
            field.validators = [Optional()]
            field.validate_choice = False
    if form.validate_on_submit():
        names = activities.FREE_FIELDS if locked else activities.FREE_FIELDS + (
            activities.COUNTING_FIELDS)  # fmt: skip
        values = {name: getattr(form, name).data for name in names}
        if not locked:
            values["starts_at"], values["ends_at"] = (
                _aware(form.starts_at.data), _aware(form.ends_at.data))  # fmt: skip
            values["lat"], values["lng"], values["radius_m"] = _place(form, activity.unit)
            values["points_per_hour"] = values["points_per_hour"] or 0
            values["checkin_bonus"] = values["checkin_bonus"] or 0
        values["description"] = values["description"] or ""
        values["address"] = values["address"] or ""
        try:
            activities.update_activity(activity, actor=access.current_actor(), **values)
        except (InvalidActivity, ActivityLocked) as error:
            _rejected(form, error)
        else:
            flash(_("The changes were saved."), "success")
            return redirect(url_for("activities.detail", activity_id=activity_id))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render_template(
        "activities/edit.html",
        form=form,
        activity=activity,
        locked=locked,
        places={activity.unit_id: activity.unit} if activity.unit.lat is not None else {},
    )
