"""Every kind of notification and its words: msgids rendered in the recipient's language
with the notification's parameters. A module that notifies adds its kinds here."""

from __future__ import annotations

from dataclasses import dataclass

from timebank.core.errors import N_


@dataclass(frozen=True)
class Kind:
    #: the headline's msgid
    title: str
    #: the message's msgid
    body: str
    #: (parameter, msgid): a sentence added to the body when that parameter is not empty
    extra: tuple[str, str] | None = None
    #: (parameter, msgid) of sentences listed after the body, each only when its parameter
    #: is not empty (zero): a list that never announces what is not there
    parts: tuple[tuple[str, str], ...] = ()
    #: texted even where no channel is SMS: it reaches someone who cannot log in yet
    by_sms: bool = False


KINDS: dict[str, Kind] = {
    "staff_invitation": Kind(
        N_("%(shop)s invites you to be its staff"),
        N_(
            "%(shop)s asks you to redeem points at its counter. Accept or decline on your "
            "invitations page; you become staff only if you accept."
        ),
    ),
    "activity_tomorrow": Kind(
        N_("Tomorrow: %(title)s"),
        N_("%(title)s starts at %(starts)s. You signed up; if you cannot come, withdraw."),
    ),
    "activity_soon": Kind(
        N_("In an hour: %(title)s"),
        N_("%(title)s starts at %(starts)s. Check in with the code on the organizer's screen."),
    ),
    "activity_cancelled": Kind(
        N_("Cancelled: %(title)s"),
        N_("%(title)s (%(starts)s), which you signed up for, was cancelled."),
        extra=("reason", N_("Reason: %(reason)s")),
    ),
    "party_not_served": Kind(
        N_("You have not served this quarter"),
        N_(
            "Party members serve in the community where they live. You have no approved "
            "service in %(quarter)s yet (days left: %(days)s): find an activity near you."
        ),
    ),
    "project_assigned": Kind(
        N_("Assigned to you: %(title)s"),
        N_(
            "%(organizer)s assigned you to %(title)s (%(starts)s). Your place is held: "
            "accept or decline on the project's page."
        ),
    ),
    "hours_rejected": Kind(
        N_("Hours not approved: %(title)s"),
        N_("The hours you reported for %(title)s on %(day)s were not approved."),
        extra=("reason", N_("Reason: %(reason)s")),
    ),
    "hours_approved": Kind(
        N_("Hours credited: %(title)s"),
        N_("%(time)s for %(title)s on %(day)s were approved and are in your time bank now."),
        extra=("earned_points", N_("Points credited: %(earned)s.")),
    ),
    "attendance_rejected": Kind(
        N_("Hours not approved: %(title)s"),
        N_("Your attendance at %(title)s on %(day)s was not approved; no hours were credited."),
        extra=("reason", N_("Reason: %(reason)s")),
    ),
    "membership_approved": Kind(
        N_("Welcome to the time bank"),
        N_(
            "%(name)s, your registration with %(unit)s is approved: you are a volunteer now. "
            "Log in with your phone number and password."
        ),
    ),
    "membership_rejected": Kind(
        N_("Your registration was not approved"),
        N_("%(name)s, %(unit)s did not approve your registration."),
        extra=("reason", N_("Reason: %(reason)s")),
    ),
    "member_invited": Kind(
        N_("You are in the %(unit)s time bank"),
        N_(
            "%(name)s, %(unit)s added you as a volunteer. To log in, open %(url)s, enter "
            "this phone number and tap Send me a code; the code comes by SMS. Then choose "
            "a password."
        ),
        by_sms=True,
    ),
    "shop_approved": Kind(
        N_("%(shop)s is approved"),
        N_(
            "%(shop)s may now take points. Publish an offer on your shop's page; you are its "
            "staff, and may invite more."
        ),
    ),
    "shop_rejected": Kind(
        N_("%(shop)s was not approved"),
        N_("The organizer turned down the application of %(shop)s. You may apply again."),
        extra=("reason", N_("Reason: %(reason)s")),
    ),
    "shop_suspended": Kind(
        N_("%(shop)s is suspended"),
        N_(
            "%(shop)s cannot take points for now; what it is owed is still paid. Ask the "
            "organizer what to change."
        ),
        extra=("reason", N_("Reason: %(reason)s")),
    ),
    "shop_reinstated": Kind(
        N_("%(shop)s takes points again"),
        N_("The organizer lifted the suspension: %(shop)s may take points again."),
    ),
    "shop_paid": Kind(
        N_("%(shop)s was paid for %(month)s"),
        N_("The community paid ¥%(yuan)s for the %(points)s points redeemed in %(month)s."),
        extra=("reference", N_("Payment reference: %(reference)s")),
    ),
    "redemption_refunded": Kind(
        N_("Points refunded: %(offer)s"),
        N_("%(shop)s gave back the %(n)s points you paid for %(offer)s."),
        extra=("reason", N_("Reason: %(reason)s")),
    ),
    "donation_received": Kind(
        N_("%(name)s gave you hours"),
        N_("%(name)s gave you %(hours)s of time-bank hours; they are on your statement."),
        extra=("note", N_("Their note: %(note)s")),
    ),
    "approvals_waiting": Kind(
        N_("Approvals waiting"),
        N_("Some of this has waited more than %(days)s days. Your to-do list:"),
        parts=(
            ("checkouts", N_("Check-outs to approve: %(checkouts)s.")),
            ("held", N_("Check-ins held for review: %(held)s.")),
            ("credits", N_("Awards waiting for a second organizer: %(credits)s.")),
            ("hour_logs", N_("Hour logs: %(hour_logs)s.")),
            ("registrations", N_("Member applications: %(registrations)s.")),
            ("shops", N_("Shop applications: %(shops)s.")),
            ("statements_to_build", N_("Statements to build: %(statements_to_build)s.")),
            ("statements_to_pay", N_("Statements to pay: %(statements_to_pay)s.")),
        ),
    ),
}
