"""/api/v1: tokens, /me, members, party registration, joining, roster import."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from timebank.core.errors import Forbidden, InvalidInput
from timebank.core.qr import qr_svg
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.auth import acting_member, calling_member
from timebank.people.schemas import (
    GuardianSchema,
    JoinLinkSchema,
    JoinSchema,
    MemberListArgs,
    MemberPageSchema,
    MemberSchema,
    MeSchema,
    PartySchema,
    RejectSchema,
    RoleGrantSchema,
    RosterFileSchema,
    RosterReportSchema,
    TokenRequestSchema,
    TokenSchema,
    VerifyPhoneSchema,
)
from timebank.units import operations as units

blp = Blueprint("people_api", __name__, url_prefix="/api/v1", description="People and login")
ID = "<int(max=2147483647):{}>"


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    def post(self, data):
        """Exchange phone and password for a bearer token."""
        member = people.authenticate(data["phone"], data["password"])
        token, row = people.issue_token(member)
        db.session.commit()
        return {"token": token, "expires_at": row.expires_at, "member_id": member.id}

    @blp.response(204)
    def delete(self):
        """Revoke the token this request carries."""
        calling_member()
        people.revoke_token(g.api_token)
        db.session.commit()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The caller (or, with X-On-Behalf-Of, the member a guardian acts for)."""
        member, _guardian = acting_member()
        return member


@blp.route("/members")
class Members(MethodView):
    @blp.arguments(MemberSchema)
    @blp.response(201, MemberSchema)
    def post(self, data):
        """An organizer adds a member directly (active volunteer of the home unit)."""
        actor = calling_member()
        units.get_unit(data["home_unit_id"])
        people.authorize(actor, "members.create", data["home_unit_id"])
        member = people.create_member(
            phone=data["phone"],
            name=data["name"],
            home_unit_id=data["home_unit_id"],
            password=data["password"],
            has_smartphone=data["has_smartphone"],
            roles=[("volunteer", data["home_unit_id"])],
            actor=actor,
        )
        db.session.commit()
        return member


def _member_in_scope(member_id: int, action: str):
    actor = calling_member()
    member = people.get_member(member_id)
    people.authorize(actor, action, member.home_unit_id)
    return actor, member


@blp.route(f"/members/{ID.format('member_id')}")
class MemberById(MethodView):
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """One member: themself, or anyone in an organizer's subtree."""
        actor = calling_member()
        member = people.get_member(member_id)
        if actor.id != member.id:
            people.authorize(actor, "members.view", member.home_unit_id)
        return member


@blp.route(f"/members/{ID.format('member_id')}/party-registration")
class PartyRegistration(MethodView):
    @blp.arguments(PartySchema)
    @blp.response(200, PartySchema)
    def post(self, data, member_id):
        """Record party data and the dual report (双报到): self, guardian or organizer."""
        member, guardian = acting_member()
        actor = guardian or member
        if member.id != member_id:
            target = people.get_member(member_id)
            people.authorize(actor, "party.manage", target.home_unit_id)
            member, guardian = target, None
        profile = people.register_party(
            member, actor=actor, on_behalf_of=member if guardian else None, **data
        )
        db.session.commit()
        return profile


@blp.route(f"/members/{ID.format('member_id')}/approve")
class Approve(MethodView):
    @blp.response(200, MemberSchema)
    def post(self, member_id):
        """Approve a pending volunteer (organizer of their unit)."""
        actor = calling_member()
        member = people.approve_member(people.get_member(member_id), actor=actor)
        db.session.commit()
        return member


@blp.route(f"/members/{ID.format('member_id')}/reject")
class Reject(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, MemberSchema)
    def post(self, data, member_id):
        """Turn down a pending registration, with a reason."""
        actor = calling_member()
        member = people.reject_member(
            people.get_member(member_id), actor=actor, reason=data["reason"]
        )
        db.session.commit()
        return member


@blp.route(f"/members/{ID.format('member_id')}/guardians")
class Guardians(MethodView):
    @blp.arguments(GuardianSchema)
    @blp.response(201, GuardianSchema)
    def post(self, data, member_id):
        """Register a guardian who may act for the member (organizer of their unit)."""
        actor, member = _member_in_scope(member_id, "members.create")
        guardian = people.get_member(data["guardian_id"])
        people.add_guardian(member, guardian, relation=data["relation"], actor=actor)
        db.session.commit()
        return data


@blp.route(f"/members/{ID.format('member_id')}/roles")
class Roles(MethodView):
    @blp.arguments(RoleGrantSchema)
    @blp.response(201, MemberSchema)
    def post(self, data, member_id):
        """Grant a role over a unit subtree (admins; organizers may grant volunteer)."""
        actor = calling_member()
        member = people.get_member(member_id)
        action = "members.create" if data["role"] == "volunteer" else "roles.grant"
        people.authorize(actor, action, data["unit_id"])
        people.grant_role(member, data["role"], data["unit_id"], granted_by=actor)
        db.session.commit()
        return member


@blp.route(f"/units/{ID.format('unit_id')}/members")
class UnitMembers(MethodView):
    @blp.arguments(MemberListArgs, location="query")
    @blp.response(200, MemberPageSchema)
    def get(self, args, unit_id):
        """Members in the unit's subtree; ``party=not_reported``: who has not reported in."""
        actor = calling_member()
        units.get_unit(unit_id)
        people.authorize(actor, "members.view", unit_id)
        page, per_page = args.pop("page"), args.pop("per_page")
        query = people.members_in_unit_select(unit_id, **args)
        result = db.paginate(query, page=page, per_page=per_page, error_out=False)
        return {"items": result.items, "page": page, "per_page": per_page, "total": result.total}


@blp.route(f"/units/{ID.format('unit_id')}/members/import")
class RosterImport(MethodView):
    @blp.arguments(RosterFileSchema, location="files")
    @blp.response(200, RosterReportSchema)
    def post(self, files, unit_id):
        """Import a CSV or XLSX roster; the report lists each rejected row and why."""
        actor = calling_member()
        units.get_unit(unit_id)
        people.authorize(actor, "members.import", unit_id)
        upload = files["file"]
        if not hasattr(upload, "read"):
            raise InvalidInput("Send the roster as a file upload named 'file'.")
        rows = people.read_roster(upload.filename or "", upload.read())
        report = people.import_roster(unit_id, rows, actor=actor)
        db.session.commit()
        return report.as_dict()


@blp.route(f"/units/{ID.format('unit_id')}/join-link")
class JoinLinkResource(MethodView):
    @blp.response(200, JoinLinkSchema)
    def get(self, unit_id):
        """The unit's join link (made on first request), its URL and QR poster SVG."""
        actor = calling_member()
        units.get_unit(unit_id)
        people.authorize(actor, "join_links.manage", unit_id)
        link = people.active_join_link(unit_id) or people.create_join_link(unit_id, actor=actor)
        db.session.commit()
        url = people.join_url(link)
        return {"code": link.code, "unit_id": unit_id, "url": url, "qr_svg": qr_svg(url)}


@blp.route("/join")
class Join(MethodView):
    @blp.arguments(JoinSchema)
    @blp.response(202, MemberSchema)
    def post(self, data):
        """Register through a join link; an SMS code is sent to the phone."""
        if request.headers.get("Authorization"):
            raise Forbidden("Log out before registering a new member.")
        member = people.start_registration(**data)
        db.session.commit()
        return member


@blp.route("/join/verify")
class JoinVerify(MethodView):
    @blp.arguments(VerifyPhoneSchema)
    @blp.response(200, MemberSchema)
    def post(self, data):
        """Confirm the phone with the SMS code; the member then waits for approval."""
        member = people.verify_phone(**data)
        db.session.commit()
        return member
