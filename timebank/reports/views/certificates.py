"""Pages of service records and certificates: one's own record (print it, ask for a
certificate, stay off public lists), a member's record for organizers (issue one), the
unit's queue (issue, turn down, revoke), the printable certificate, and /verify."""

from __future__ import annotations

import json
from decimal import Decimal

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from timebank.core import access
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError
from timebank.core.privacy import mask_name
from timebank.core.qr import qr_svg
from timebank.core.urls import public_url
from timebank.core.web import ActionForm, Form, back, flash_form_errors, page
from timebank.people import operations as people
from timebank.reports import exports, periods
from timebank.reports import operations as reports
from timebank.reports.errors import CertificateDecided, CertificateRevoked
from timebank.reports.models import ID_TYPES
from timebank.reports.views import UNIT, bp, period_from_args
from timebank.units import operations as units

ID = "int(max=2147483647)"
MEMBER = f"/members/<{ID}:member_id>"
CERT = f"/certificates/<{ID}:cert_id>"


def ID_TYPE_NAMES() -> dict[str, str]:  # noqa: N802 - a table, translated when read
    return {
        "resident_id": _("Resident identity card"),
        "passport": _("Passport"),
        "hk_macao_permit": _("Mainland travel permit (Hong Kong, Macao)"),
        "taiwan_permit": _("Mainland travel permit (Taiwan)"),
        "other": _("Other"),
    }


class RequestForm(Form):
    first = DateField(_l("Service from"), validators=[DataRequired()])
    last = DateField(_l("Service until"), validators=[DataRequired()])
    hours = DecimalField(
        _l("Hours needed (optional)"), places=2,
        validators=[Optional(), NumberRange(min=Decimal("0.25"), max=Decimal("100000"))],
    )  # fmt: skip
    purpose = StringField(_l("What it is for (school, employer, court)"), [Length(max=200)])
    id_type = SelectField(_l("ID document"), validate_choice=False)
    id_number = StringField(_l("ID number (stored masked; optional)"), [Length(max=30)])
    national_number = StringField(_l("National volunteer number (optional)"), [Length(max=40)])

    def request_fields(self) -> dict:
        return {
            "first": self.first.data, "last": self.last.data, "purpose": self.purpose.data,
            "minutes_wanted": int(self.hours.data * 60) if self.hours.data else None,
            "id_type": self.id_type.data or None, "id_number": self.id_number.data,
            "national_number": self.national_number.data,
        }  # fmt: skip


class IssueForm(Form):
    issuer_name = StringField(_l("Issuing organization"), [Length(max=120)])
    responsible_person = StringField(_l("Responsible person"), [Length(max=60)])
    contact = StringField(_l("Contact"), [Length(max=60)])

    def details(self) -> reports.IssueDetails:
        return reports.IssueDetails(
            issuer_name=self.issuer_name.data or "",
            responsible_person=self.responsible_person.data or "",
            contact=self.contact.data or "",
        )


class ReasonForm(Form):
    reason = StringField(_l("Reason"), [DataRequired(), Length(max=500)])


class ListForm(Form):
    hidden = BooleanField(_l("Leave me off public lists (the honour roll)"))


def request_form(prefix: str = "c") -> RequestForm:
    form = RequestForm(prefix=prefix)
    form.id_type.choices = [("", _("Not recorded"))] + [
        (code, name) for code, name in ID_TYPE_NAMES().items() if code in ID_TYPES
    ]
    if request.method == "GET" and form.first.data is None:
        year = periods.current("year")
        form.first.data = year.first
        form.last.data = min(year.last, periods.local_date(utcnow()))
    return form


def certificate_target(cert_id: int) -> Target:
    """What an action on a certificate is done to: its holder, in their home unit."""
    cert = reports.get_certificate_by_id(cert_id)
    return Target(unit=cert.member.home_unit_id, member=cert.member_id)


def serial_target(serial: str) -> Target:
    cert = reports.get_certificate(serial)
    return Target(unit=cert.member.home_unit_id, member=cert.member_id)


def _record_page(member, template: str, **extra):
    period = period_from_args("year")
    record = reports.service_record(member.id, period)
    return render_template(
        template, member=member, period=period, record=record,
        table=exports.record_table(record), certificates=reports.certificates_of(member.id),
        kinds=exports.KIND_NAMES(), **extra,
    )  # fmt: skip


@bp.route("/me/record")
@page("me.record")
def my_record():
    """One's verified hours by activity and project over a period, printable; one's
    certificates, and asking for one."""
    member = access.acting_member()
    export_query = {**period_from_args("year").query(), **_for(access.current_actor(), member)}
    return _record_page(
        member, "reports/my_record.html", form=request_form(), export_query=export_query,
        list_form=ListForm(hidden=reports.is_hidden(member.id)),
    )  # fmt: skip


@bp.route("/me/record.<any(csv, xlsx):fmt>")
@page("me.record")
def my_record_export(fmt: str):
    member = access.acting_member()
    period = period_from_args("year")
    table = exports.record_table(reports.service_record(member.id, period))
    return exports.download([table], fmt, f"service-record-{period.key}")


@bp.route("/me/certificates", methods=["POST"])
@page("me.record", on_error=lambda error, kwargs: _back_with(error))
def request_certificate():
    actor, member = access.current_actor(), access.acting_member()
    form = request_form()
    if form.validate_on_submit():
        reports.request_certificate(member, actor=actor, **form.request_fields())
        flash(_("Your request is with your community's organizers."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("reports.my_record", **_for(actor, member)) + "#certificates")


def _back_with(error: DomainError):
    flash(error.localized(), "error")
    return redirect(back())


def _for(actor, member) -> dict:
    return {"for": member.id} if actor.id != member.id else {}


@bp.route("/me/list-preference", methods=["POST"])
@page("me.record")
def list_preference():
    actor, member = access.current_actor(), access.acting_member()
    form = ListForm()
    if form.validate_on_submit():
        reports.set_hidden(member, form.hidden.data)
        if form.hidden.data:
            flash(_("You are left off public lists."), "success")
        else:
            flash(_("You may appear on public lists."), "success")
    return redirect(url_for("reports.my_record", **_for(actor, member)))


@bp.route(f"{MEMBER}/record")
@page("members.record", target=people.member_target)
def member_record(member_id: int):
    """A member's service record, for organizers over their home: issue a certificate."""
    member = people.get_member(member_id)
    issues = access.may(
        access.current_actor(), "certificates.issue", people.member_target(member_id)
    )
    return _record_page(
        member, "reports/member_record.html", issues=issues, form=request_form(),
        issue_form=IssueForm(prefix="i"),
    )  # fmt: skip


@bp.route(f"{MEMBER}/certificates", methods=["POST"])
@page("certificates.issue", target=people.member_target, on_error=lambda e, k: _back_with(e))
def issue_directly(member_id: int):
    member = people.get_member(member_id)
    form, issue = request_form(), IssueForm(prefix="i")
    if form.validate_on_submit() and issue.validate():
        cert = reports.issue_certificate(
            member, actor=access.current_actor(), details=issue.details(), **form.request_fields()
        )
        flash(_("Certificate %(serial)s is issued.", serial=cert.serial), "success")
        return redirect(url_for("reports.certificate", serial=cert.serial))
    flash_form_errors(form)
    return redirect(url_for("reports.member_record", member_id=member_id))


@bp.route(f"{UNIT}/certificates")
@page("certificates.issue", target=units.unit_target)
def unit_certificates(unit_id: int):
    """Requests waiting, and the certificates issued, of the unit's members."""
    return render_template(
        "reports/unit_certificates.html",
        unit=units.get_unit(unit_id),
        waiting=reports.certificates_in_unit(unit_id, status="requested"),
        decided=[c for c in reports.certificates_in_unit(unit_id) if c.status != "requested"][:200],
        issue_form=IssueForm(prefix="i", formdata=None),
        reason_form=ReasonForm(formdata=None),
    )


@bp.route(f"{CERT}/<any(approve, reject, revoke):decision>", methods=["POST"])
@page("certificates.issue", target=certificate_target, on_error=lambda e, k: _back_with(e))
def decide_certificate(cert_id: int, decision: str):
    actor = access.current_actor()
    if decision == "approve":
        form = IssueForm(prefix="i")
        if form.validate_on_submit():
            cert = reports.approve_certificate(cert_id, actor=actor, details=form.details())
            flash(_("Certificate %(serial)s is issued.", serial=cert.serial), "success")
    else:
        form = ReasonForm()
        if form.validate_on_submit():
            act = reports.reject_certificate if decision == "reject" else reports.revoke_certificate
            cert = act(cert_id, actor=actor, reason=form.reason.data)
            flash(_("Certificate %(serial)s: %(status)s.", serial=cert.serial,
                    status=STATUS_NAMES()[cert.status]), "success")  # fmt: skip
        else:
            flash_form_errors(form)
    return redirect(back())


def STATUS_NAMES() -> dict[str, str]:  # noqa: N802 - a table, translated when read
    return {
        "requested": _("Requested"),
        "issued": _("Issued"),
        "rejected": _("Turned down"),
        "revoked": _("Revoked"),
    }


def verify_url(cert) -> str:
    return public_url(url_for("reports.verify", serial=cert.serial, d=reports.content_digest(cert)))


@bp.route("/certificates/<serial>")
@page("certificates.view", target=serial_target)
def certificate(serial: str):
    """The certificate as it prints on A4, with its QR code to /verify."""
    cert = reports.get_certificate(serial)
    url = verify_url(cert) if cert.status == "issued" else None
    svg = qr_svg(url, box_size=4) if url else None
    return render_template(
        "reports/certificate.html", cert=cert, url=url, svg=svg,
        service=json.loads(cert.content or "[]"), digest=reports.content_digest(cert),
        id_types=ID_TYPE_NAMES(), statuses=STATUS_NAMES(), action_form=ActionForm(),
    )  # fmt: skip


@bp.route("/certificates/<serial>/signed.json")
@page("certificates.view", target=serial_target)
def signed_file(serial: str):
    """The signed content and its signature, to check offline with the published key."""
    cert = reports.get_certificate(serial)
    if cert.status != "issued":
        raise CertificateDecided()
    body = json.dumps(reports.signed_document(cert), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.serial}.json"'
    return response


@bp.route("/verify")
@page("site.public")
def verify_form():
    """Type the serial printed on a certificate."""
    serial = request.args.get("serial")
    if serial:
        return redirect(url_for("reports.verify", serial=serial.strip()[:40]))
    return render_template("reports/verify_form.html")


@bp.route("/verify/<serial>")
@page("site.public")
def verify(serial: str):
    """Anyone checks a certificate: a masked name, the hours recomputed from the ledger,
    the period and the issuer, or plainly that it does not match. Revoked: 410 with the
    reason; unknown: 404."""
    try:
        found = reports.verify_certificate(serial, digest=request.args.get("d"))
    except CertificateRevoked as error:
        cert = reports.get_certificate(serial)
        shown = render_template(
            "reports/verify.html", revoked=cert, reason=error.params["reason"],
            name=mask_name(cert.name),
        )  # fmt: skip
        return shown, 410
    seal_data = None
    if found.seal is not None and found.seal.sealed:
        seal_data = reports.signed_document(found.cert, found.seal)
    return render_template(
        "reports/verify.html", found=found, cert=found.cert, name=mask_name(found.cert.name),
        seal_data=seal_data, seal_texts=_seal_texts(),
        entry_count=len(json.loads(found.cert.entry_ids or "[]")),
    )  # fmt: skip


def _seal_texts() -> dict:
    """What the browser's check of a seal says, in the reader's language."""
    return {
        "checkpoint": _(
            "Checkpoint %(size)s of the hours log is signed by this service's key %(key)s.",
            size="{size}",
            key="{key}",
        ),  # fmt: skip
        "certificate": _(
            "The certificate's signature holds, and it names these %(count)s ledger entries.",
            count="{count}",
        ),
        "proofs": _(
            "Each of the %(count)s entries is proven to be in checkpoint %(size)s.",
            count="{count}",
            size="{size}",
        ),  # fmt: skip
        "ok": _(
            "Sealed in checkpoint %(size)s, verified in this browser: its %(count)s ledger "
            "entries are in the public log.",
            size="{size}",
            count="{count}",
        ),  # fmt: skip
        "mismatch": _(
            "The seal does NOT verify: the ledger entries behind this certificate are not "
            "the ones in the signed public log."
        ),
        "unsupported": _(
            "This browser cannot check Ed25519 signatures; open the page in a newer browser."
        ),
        "failed": _("The check could not be finished: %(error)s", error="{error}"),
    }
