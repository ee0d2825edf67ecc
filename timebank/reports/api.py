"""/api/v1: roll-ups, the honour roll, the party quarter, certificates. The same
operations as the pages, so the same figures."""

from __future__ import annotations

from flask import url_for

from timebank.activities import operations as activities
from timebank.core import access
from timebank.core.access import requires
from timebank.core.urls import public_url
from timebank.core.web import ApiBlueprint, ApiView
from timebank.people import operations as people
from timebank.reports import operations as reports
from timebank.reports import periods
from timebank.reports.schemas import (
    CertificateDetailSchema,
    CertificateListArgs,
    CertificateReasonSchema,
    CertificateRequestSchema,
    CertificateSchema,
    DirectIssueSchema,
    HonourArgs,
    HonourRollSchema,
    IssueSchema,
    ListPreferenceSchema,
    MyQuarterSchema,
    PartyArgs,
    PartyReportSchema,
    PartyRowSchema,
    PeriodArgs,
    QuarterArgs,
    RollupSchema,
    RosterRowSchema,
    SheetLineSchema,
    VolunteerMonthsSchema,
)
from timebank.reports.views.certificates import certificate_target, serial_target
from timebank.units import operations as units

blp = ApiBlueprint(
    "reports_api", __name__, url_prefix="/api/v1",
    description="Reports: roll-ups, honour roll, dual-report quarter, certificates",
)  # fmt: skip
UNIT = "/units/<int(max=2147483647):unit_id>"


def _period(args: dict) -> periods.Period:
    return periods.parse(args.get("period"), args.get("at"), args.get("first"), args.get("last"))


def _in_scope(action: str, unit_id: int) -> None:
    access.authorize(access.current_actor(), action, units.unit_target(unit_id))


@blp.route("/reports/units/<int(max=2147483647):unit_id>")
class UnitReport(ApiView):
    @requires("reports.view", target=units.unit_target)
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, RollupSchema)
    def get(self, args, unit_id):
        """A unit's roll-up over a period (default: this quarter): ledger flows (HOURS in
        minutes), active volunteers and party members, activities and attendance by
        category, needs, projects, redemptions; by unit below it and by month."""
        return reports.unit_rollup(units.get_unit(unit_id), _period(args))


@blp.route("/reports/units/<int(max=2147483647):unit_id>/roster")
class UnitRoster(ApiView):
    @requires("reports.view", target=units.unit_target)
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, RosterRowSchema(many=True))
    def get(self, args, unit_id):
        """Every member living in the unit's subtree (active or suspended): verified hours
        (minutes) and points earned in the period, balances now; names masked as the
        caller may see them. The figures of the roster page and its XLSX."""
        return reports.unit_roster(unit_id, _period(args))


@blp.route("/reports/units/<int(max=2147483647):unit_id>/hours-by-month")
class UnitHoursByMonth(ApiView):
    @requires("reports.view", target=units.unit_target)
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, VolunteerMonthsSchema)
    def get(self, args, unit_id):
        """Verified minutes of each volunteer of the subtree, per month of the period."""
        return reports.volunteer_months(unit_id, _period(args))


@blp.route("/reports/activities/<int(max=2147483647):activity_id>/attendance-sheet")
class AttendanceSheet(ApiView):
    @requires("reports.attendance_sheet", target=activities.activity_target)
    @blp.response(200, SheetLineSchema(many=True))
    def get(self, activity_id):
        """Who signed up for the activity, checked in and out (times in UTC), the
        attendance's state and the minutes credited (approved attendance only)."""
        return reports.attendance_sheet(activities.get_activity(activity_id))


@blp.route("/reports/honour-roll")
class HonourRoll(ApiView):
    @requires("reports.honour_roll")
    @blp.arguments(HonourArgs, location="query")
    @blp.response(200, HonourRollSchema)
    def get(self, args):
        """The honour roll (光荣榜) of a unit: verified credits (``manual=false`` leaves out
        manual awards), ties broken by who reached the total first, then member id;
        members who opted out are left off; names masked as the caller may see them."""
        _in_scope("reports.honour_roll", args["unit_id"])
        period = _period(args)
        places = reports.honour_roll(
            args["unit_id"], period, by=args["by"], include_manual=args["manual"],
            limit=args["limit"],
        )  # fmt: skip
        return {"unit_id": args["unit_id"], "period": period, "by": args["by"],
                "manual": args["manual"], "places": places}  # fmt: skip


def _party(unit_id: int, quarter: str | None, branch: str | None) -> dict:
    period = periods.parse("quarter", quarter)
    rows = reports.party_report(unit_id, period=period, branch=branch)
    return {"unit_id": unit_id, "period": period, "branch": branch, "rows": rows}


@blp.route("/reports/party")
class PartyReport(ApiView):
    @requires("party.report")
    @blp.arguments(PartyArgs, location="query")
    @blp.response(200, PartyReportSchema)
    def get(self, args):
        """Every party member living in or reported in to the unit, in a quarter
        (``quarter=2026Q2``, default this one; ``branch``: one party branch): reported in
        (双报到), party activities, service minutes (activities, projects, small wishes),
        and what is still due."""
        _in_scope("party.report", args["unit_id"])
        return _party(args["unit_id"], args["quarter"], args["branch"])


@blp.route(f"{UNIT}/party-attendance")
class PartyAttendance(ApiView):
    @requires("party.report", target=units.unit_target)
    @blp.arguments(QuarterArgs, location="query")
    @blp.response(200, PartyRowSchema(many=True))
    def get(self, args, unit_id):
        """The rows of ``/reports/party`` for the unit (kept for existing clients)."""
        return _party(unit_id, args["quarter"], None)["rows"]


@blp.route("/me/party")
class MyParty(ApiView):
    @requires("me.party")
    @blp.arguments(QuarterArgs, location="query")
    @blp.response(200, MyQuarterSchema)
    def get(self, args):
        """The caller's dual-report quarter: their row and every line behind it (a
        member without party data gets an empty quarter)."""
        member = access.acting_member()
        period = periods.parse("quarter", args["quarter"])
        return reports.my_quarter(member, period)


@blp.route("/me/list-preference")
class MyListPreference(ApiView):
    @requires("me.record")
    @blp.response(200, ListPreferenceSchema)
    def get(self):
        """Whether the caller is left off public lists (the honour roll)."""
        return {"hidden": reports.is_hidden(access.acting_member().id)}

    @requires("me.record")
    @blp.arguments(ListPreferenceSchema)
    @blp.response(200, ListPreferenceSchema)
    def put(self, data):
        """Stay off public lists (``true``), or appear on them again (``false``)."""
        return reports.set_hidden(access.acting_member(), data["hidden"])


class CertificateDetail:
    """A certificate with what only an issued one has: its signed file (with its seal in the
    transparency log) and /verify link."""

    def __init__(self, cert):
        self.cert = cert
        issued = cert.status == "issued"
        self.signed = reports.signed_document(cert) if issued else None
        self.seal = self.signed["seal"] if issued else None
        digest = reports.content_digest(cert) if issued else None
        self.verify_url = (
            public_url(url_for("reports.verify", serial=cert.serial, d=digest)) if issued else None
        )

    def __getattr__(self, name):
        return getattr(self.cert, name)


def _detail(cert) -> CertificateDetail:
    return CertificateDetail(cert)


@blp.route("/certificates")
class Certificates(ApiView):
    @requires("me.record")
    @blp.arguments(CertificateListArgs, location="query")
    @blp.response(200, CertificateSchema(many=True))
    def get(self, args):
        """The caller's certificates; with ``unit_id``, an organizer's: those of the
        unit's members (``status`` filters)."""
        if args["unit_id"] is None:
            found = reports.certificates_of(access.acting_member().id)
            return [c for c in found if args["status"] in (None, c.status)]
        _in_scope("certificates.issue", args["unit_id"])
        return reports.certificates_in_unit(args["unit_id"], status=args["status"])

    @requires("me.record")
    @blp.arguments(CertificateRequestSchema)
    @blp.response(201, CertificateDetailSchema)
    def post(self, data):
        """Ask for a certificate of one's verified service ``from`` .. ``to``. 422
        ``not_enough_hours`` when the period holds fewer verified minutes than
        ``minutes_wanted`` (or none)."""
        actor, member = access.current_actor(), access.acting_member()
        return _detail(reports.request_certificate(member, actor=actor, **data))


@blp.route("/members/<int(max=2147483647):member_id>/certificates")
class MemberCertificates(ApiView):
    @requires("certificates.issue", target=people.member_target)
    @blp.arguments(DirectIssueSchema)
    @blp.response(201, CertificateDetailSchema)
    def post(self, data, member_id):
        """An organizer over the member issues a certificate of their service at once (the
        page's "issue" on the member's record); 422 ``not_enough_hours`` as for a request."""
        details = reports.IssueDetails(
            issuer_name=data.pop("issuer_name"),
            responsible_person=data.pop("responsible_person"),
            contact=data.pop("contact"),
        )
        member = people.get_member(member_id)
        cert = reports.issue_certificate(
            member, actor=access.current_actor(), details=details, **data
        )
        return _detail(cert)


@blp.route("/certificates/<serial>")
class CertificateBySerial(ApiView):
    @requires("certificates.view", target=serial_target)
    @blp.response(200, CertificateDetailSchema)
    def get(self, serial):
        """One certificate, with its signed content and signature: check it offline
        with the key at /.well-known/timebank-keys."""
        return _detail(reports.get_certificate(serial))


CERT = "/certificates/<int(max=2147483647):cert_id>"


@blp.route(f"{CERT}/approve")
class ApproveCertificate(ApiView):
    @requires("certificates.issue", target=certificate_target)
    @blp.arguments(IssueSchema)
    @blp.response(200, CertificateDetailSchema)
    def post(self, data, cert_id):
        """Issue a requested certificate (409 ``certificate_decided`` if it was decided)."""
        actor = access.current_actor()
        cert = reports.approve_certificate(
            cert_id, actor=actor, details=reports.IssueDetails(**data)
        )
        return _detail(cert)


@blp.route(f"{CERT}/<any(reject, revoke):decision>")
class DecideCertificate(ApiView):
    @requires("certificates.issue", target=certificate_target)
    @blp.arguments(CertificateReasonSchema)
    @blp.response(200, CertificateDetailSchema)
    def post(self, data, cert_id, decision):
        """Turn a request down, or revoke an issued certificate, with a reason."""
        act = reports.reject_certificate if decision == "reject" else reports.revoke_certificate
        return _detail(act(cert_id, actor=access.current_actor(), reason=data["reason"]))
