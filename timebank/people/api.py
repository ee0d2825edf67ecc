"""/api/v1: tokens, /me, members, party registration, joining, roster import."""

from __future__ import annotations

from flask import g, request

from timebank.core import access
from timebank.core.access import requires
from timebank.core.errors import Forbidden, InvalidInput
from timebank.core.qr import qr_svg
from timebank.core.uow import reads_before_writes
from timebank.core.web import ApiBlueprint, ApiView
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.schemas import (
    GuardianSchema,
    JoinLinkSchema,
    JoinSchema,
    JoinStartedSchema,
    LoginCodeRequestSchema,
    LoginCodeSentSchema,
    MemberListArgs,
    MemberPageSchema,
    MemberSchema,
    MeSchema,
    PartySchema,
    PasswordChangeSchema,
    RejectSchema,
    RoleGrantSchema,
    RosterFileSchema,
    RosterReportSchema,
    TokenRequestSchema,
    TokenSchema,
    VerifyPhoneSchema,
)
from timebank.privacy import operations as privacy
from timebank.units import operations as units

blp = ApiBlueprint("people_api", __name__, url_prefix="/api/v1", description="People and login")
MEMBER = "/members/<int(max=2147483647):member_id>"
UNIT = "/units/<int(max=2147483647):unit_id>"


@blp.route("/auth/token")
class Token(ApiView):
    @requires("site.public")
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    def post(self, data):
        """Exchange a phone and its password (or a login code) for a bearer token.

        Wrong tries are limited per phone and per address: 429 with Retry-After."""
        address = request.remote_addr
        if "code" in data:
            member = people.login_with_code(
                data["phone"], data["code"], new_password=data.get("new_password"),
                address=address,
            )  # fmt: skip
        else:
            member = people.authenticate(data["phone"], data["password"], address=address)
        token, row = people.issue_token(member)
        body = {"token": token, "expires_at": row.expires_at, "member_id": member.id}
        return body, 201, {"Cache-Control": "no-store"}  # no cache keeps a bearer token

    @requires("me.session")
    @blp.response(204)
    def delete(self):
        """Revoke the token this request carries."""
        people.revoke_token(g.api_token)


@blp.route("/auth/code")
class LoginCode(ApiView):
    @requires("site.public")
    @blp.arguments(LoginCodeRequestSchema)
    @blp.response(202, LoginCodeSentSchema)
    def post(self, data):
        """Text a login code to a member's phone: a first login, or a new password. The
        answer is the same whether the phone is registered or not."""
        people.send_login_code(data["phone"], address=request.remote_addr)
        return {"sent": True}


@blp.route("/me/password")
class MyPassword(ApiView):
    @requires("me.session")
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data):
        """Change one's password (the current one proves it is you), or set a first one
        (a member who logs in by SMS code has none: no ``current``); every other session
        and token ends, this one too: log in again."""
        people.change_password(access.current_actor(), current=data["current"], new=data["new"])


@blp.route("/me/sessions/end")
class EndSessions(ApiView):
    @requires("me.session")
    @blp.response(204)
    def post(self):
        """Log out everywhere: every page session and bearer token of the caller ends."""
        people.end_all_sessions(access.current_actor())


@blp.route("/me")
class Me(ApiView):
    @requires("me.view")
    @blp.response(200, MeSchema)
    def get(self):
        """The caller (or, with X-On-Behalf-Of, the member a guardian acts for)."""
        return access.acting_member()


@blp.route("/members")
class Members(ApiView):
    @requires("members.create")
    @blp.arguments(MemberSchema)
    @blp.response(201, MemberSchema)
    def post(self, data):
        """An organizer adds a member directly (active volunteer of the home unit)."""
        actor = access.current_actor()
        # the role check reads before the write lock, which then waits for no argon2 hash
        with reads_before_writes():
            access.authorize(actor, "members.create", units.unit_target(data["home_unit_id"]))
        return people.create_member(
            phone=data["phone"],
            name=data["name"],
            home_unit_id=data["home_unit_id"],
            password=data["password"],
            has_smartphone=data["has_smartphone"],
            roles=[("volunteer", data["home_unit_id"])],
            actor=actor,
        )


@blp.route(MEMBER)
class MemberById(ApiView):
    @requires("members.view", target=people.member_target)
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """One member: themself, or anyone in an organizer's subtree."""
        return people.get_member(member_id)

    @requires("members.remove", target=people.member_target)
    @blp.response(200, MemberSchema)
    def delete(self, member_id):
        """Remove a member: the profile is pseudonymised (name, phone, password, party
        details, roles, guardianships, sessions); ledger rows stay and still verify.
        409 ``member_removed`` when already removed, ``cannot_remove_self`` for oneself."""
        return privacy.remove_member(people.get_member(member_id), actor=access.current_actor())


@blp.route(f"{MEMBER}/party-registration")
class PartyRegistration(ApiView):
    @requires("party.manage", target=people.member_target)
    @blp.arguments(PartySchema)
    @blp.response(200, PartySchema)
    def post(self, data, member_id):
        """Record party data and the dual report (双报到): self, guardian or organizer."""
        actor, member = access.current_actor(), people.get_member(member_id)
        ward = member if people.is_guardian(actor, member) else None
        return people.register_party(member, actor=actor, on_behalf_of=ward, **data)


@blp.route(f"{MEMBER}/approve")
class Approve(ApiView):
    @requires("members.approve", target=people.member_target)
    @blp.response(200, MemberSchema)
    def post(self, member_id):
        """Approve a pending volunteer (organizer of their unit)."""
        return people.approve_member(people.get_member(member_id), actor=access.current_actor())


@blp.route(f"{MEMBER}/reject")
class Reject(ApiView):
    @requires("members.approve", target=people.member_target)
    @blp.arguments(RejectSchema)
    @blp.response(200, MemberSchema)
    def post(self, data, member_id):
        """Turn down a pending registration, with a reason."""
        member = people.get_member(member_id)
        return people.reject_member(member, actor=access.current_actor(), reason=data["reason"])


@blp.route(f"{MEMBER}/guardians")
class Guardians(ApiView):
    @requires("guardians.manage", target=people.member_target)
    @blp.arguments(GuardianSchema)
    @blp.response(201, GuardianSchema)
    def post(self, data, member_id):
        """Ask that a guardian may act for the member (organizer of their unit); it acts only
        once the member, or for a member without a phone a second organizer, confirms."""
        guardian = people.get_member(data["guardian_id"])
        return people.add_guardian(
            people.get_member(member_id),
            guardian,
            relation=data["relation"],
            actor=access.current_actor(),
        )


@blp.route(f"{MEMBER}/guardians/<int(max=2147483647):guardian_id>/<any(confirm, decline):decision>")
class GuardianDecision(ApiView):
    @requires("guardians.decide", target=people.member_target)
    @blp.response(200, GuardianSchema)
    def post(self, member_id, guardian_id, decision):
        """The member confirms (or declines) a guardian; for a member without a phone, a
        second organizer does."""
        row = people.get_guardianship(member_id, guardian_id)
        actor = access.current_actor()
        return people.decide_guardianship(row, confirm=decision == "confirm", actor=actor)


@blp.route(f"{MEMBER}/roles")
class Roles(ApiView):
    @requires("roles.grant")
    @blp.arguments(RoleGrantSchema)
    @blp.response(201, MemberSchema)
    def post(self, data, member_id):
        """Grant a role over a unit subtree (organizers grant volunteer; admins any role)."""
        actor, member = access.current_actor(), people.get_member(member_id)
        target = units.unit_target(data["unit_id"])
        access.authorize(actor, people.action_to_grant(data["role"]), target)
        people.grant_role(member, data["role"], data["unit_id"], granted_by=actor)
        return member


@blp.route(f"{UNIT}/members")
class UnitMembers(ApiView):
    @requires("members.view", target=units.unit_target)
    @blp.arguments(MemberListArgs, location="query")
    @blp.response(200, MemberPageSchema)
    def get(self, args, unit_id):
        """Members in the unit's subtree; ``party=not_reported``: who has not reported in."""
        page, per_page = args.pop("page"), args.pop("per_page")
        query = people.members_in_unit_select(unit_id, **args)
        result = db.paginate(query, page=page, per_page=per_page, error_out=False)
        return {"items": result.items, "page": page, "per_page": per_page, "total": result.total}


@blp.route(f"{UNIT}/members/import")
class RosterImport(ApiView):
    @requires("members.import", target=units.unit_target)
    @blp.arguments(RosterFileSchema, location="files")
    @blp.response(200, RosterReportSchema)
    def post(self, files, unit_id):
        """Import a CSV or XLSX roster; the report lists each rejected row and why."""
        upload = files["file"]
        if not hasattr(upload, "read"):
            raise InvalidInput("Send the roster as a file upload named 'file'.")
        rows = people.read_roster(upload.filename or "", upload.read())
        return people.import_roster(unit_id, rows, actor=access.current_actor()).as_dict()


def _join_link_body(link) -> dict:
    url = people.join_url(link)
    return {"code": link.code, "unit_id": link.unit_id, "url": url, "qr_svg": qr_svg(url)}


@blp.route(f"{UNIT}/join-link")
class JoinLinkResource(ApiView):
    @requires("join_links.manage", target=units.unit_target)
    @blp.response(200, JoinLinkSchema)
    def get(self, unit_id):
        """The unit's live join link, its URL and QR poster SVG; 404 until one is made."""
        return _join_link_body(people.current_join_link(unit_id))

    @requires("join_links.manage", target=units.unit_target)
    @blp.response(201, JoinLinkSchema)
    def post(self, unit_id):
        """Make a new join link for the unit; the previous one stops working."""
        return _join_link_body(people.renew_join_link(unit_id, actor=access.current_actor()))


@blp.route("/join")
class Join(ApiView):
    @requires("site.public")
    @blp.arguments(JoinSchema)
    @blp.response(202, JoinStartedSchema)
    def post(self, data):
        """Register through a join link; an SMS code is sent to the phone. The password
        is chosen with the code (``/join/verify``). While a registration for the phone
        waits for its code, joining again only sends that code again; the answer is the
        same and names nobody."""
        if request.headers.get("Authorization"):
            raise Forbidden("Log out before registering a new member.")
        return people.start_registration(**data)


@blp.route("/join/resend")
class JoinResend(ApiView):
    @requires("site.public")
    @blp.arguments(LoginCodeRequestSchema)
    @blp.response(202, LoginCodeSentSchema)
    def post(self, data):
        """Send a registration waiting for its phone to be proved a new code (same answer
        for any phone)."""
        people.resend_join_code(data["phone"], address=request.remote_addr)
        return {"sent": True}


@blp.route("/join/verify")
class JoinVerify(ApiView):
    @requires("site.public")
    @blp.arguments(VerifyPhoneSchema)
    @blp.response(200, MemberSchema)
    def post(self, data):
        """Confirm the phone with the SMS code and choose the password (and, optionally,
        the name); the member then waits for approval. 409 ``phone_taken`` once proved."""
        return people.verify_phone(**data)
