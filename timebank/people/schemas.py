from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from timebank.core.schemas import Id, PageArgs, StrictSchema
from timebank.people.models import MEMBER_STATUSES, ROLES


class TokenRequestSchema(StrictSchema):
    """A phone with its password, or with a login code sent by SMS (``POST /auth/code``);
    with a code, ``new_password`` also sets a new password (and ends other sessions)."""

    phone = fields.String(required=True, validate=validate.Length(max=30))
    password = fields.String(load_only=True, validate=validate.Length(max=128))
    code = fields.String(load_only=True, validate=validate.Length(min=1, max=10))
    new_password = fields.String(load_only=True, validate=validate.Length(max=128))

    @validates_schema
    def _password_or_code(self, data, **kwargs):
        if ("password" in data) == ("code" in data):
            raise ValidationError("Send a password or a code.", "password")
        if "new_password" in data and "code" not in data:
            raise ValidationError("A new password comes with a login code.", "new_password")


class LoginCodeRequestSchema(StrictSchema):
    phone = fields.String(required=True, validate=validate.Length(max=30))


class LoginCodeSentSchema(StrictSchema):
    sent = fields.Boolean(
        metadata={"description": "always true: whether the phone is registered is not said"}
    )


class PasswordChangeSchema(StrictSchema):
    current = fields.String(
        load_only=True, load_default=None, validate=validate.Length(max=128),
        metadata={"description": "required once the member has a password"},
    )  # fmt: skip
    new = fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class TokenSchema(StrictSchema):
    token = fields.String()
    expires_at = fields.DateTime()
    member_id = fields.Integer()


class RoleSchema(StrictSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    unit_id = Id()
    unit_name = fields.String(attribute="unit.name", dump_only=True)


class PartySchema(StrictSchema):
    branch = fields.String(required=True, validate=validate.Length(min=1, max=120))
    workplace_org_id = Id(allow_none=True, load_default=None)
    workplace_name = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=120)
    )
    reported_unit_id = Id(allow_none=True, load_default=None)
    reported_on = fields.Date(allow_none=True, load_default=None)


class MemberSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    phone = fields.String(required=True, validate=validate.Length(max=30))
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    home_unit_id = Id(required=True)
    status = fields.String(dump_only=True)
    has_smartphone = fields.Boolean(load_default=True)
    password = fields.String(load_only=True, load_default=None, validate=validate.Length(max=128))
    roles = fields.List(fields.Nested(RoleSchema), dump_only=True)
    party = fields.Nested(PartySchema, dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class MeSchema(MemberSchema):
    units = fields.Method("_units", dump_only=True)
    acting_for = fields.Method("_acting_for", dump_only=True)
    has_password = fields.Method(
        "_has_password", dump_only=True,
        metadata={"description": "false: POST /me/password sets a first one, no current one"},
    )  # fmt: skip

    def _has_password(self, member):
        return member.password_hash is not None

    def _units(self, member):
        return [{"id": r.unit_id, "name": r.unit.name, "role": r.role} for r in member.roles]

    def _acting_for(self, member):
        from timebank.people.operations import wards_of

        return [{"id": w.id, "name": w.name} for w in wards_of(member)]


class MemberListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(MEMBER_STATUSES))
    party = fields.String(validate=validate.OneOf(("member", "reported", "not_reported")))


class MemberPageSchema(StrictSchema):
    items = fields.List(fields.Nested(MemberSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class RejectSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class GuardianSchema(StrictSchema):
    member_id = fields.Integer(dump_only=True)
    guardian_id = Id(required=True)
    relation = fields.String(required=True, validate=validate.Length(min=1, max=40))
    status = fields.String(
        dump_only=True,
        metadata={
            "description": "pending until the member (or a second "
            "organizer, for a member without a phone) confirms it"
        },
    )


class RoleGrantSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    unit_id = Id(required=True)


class JoinSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = fields.String(required=True, validate=validate.Length(max=30))
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    #: the building or grid the resident lives in, at or below the link's unit
    unit_id = Id(load_default=None, allow_none=True)


class JoinStartedSchema(StrictSchema):
    """The same answer for a new phone and for one whose registration waits: nobody is
    named."""

    sent = fields.Boolean()
    phone = fields.String(metadata={"description": "the phone the code went to, masked"})


class VerifyPhoneSchema(StrictSchema):
    phone = fields.String(required=True, validate=validate.Length(max=30))
    code = fields.String(required=True, validate=validate.Length(min=1, max=10))
    #: chosen now, by whoever proves the phone
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))
    #: the name to register under, if not the one the join gave
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=60))


class JoinLinkSchema(StrictSchema):
    code = fields.String()
    unit_id = fields.Integer()
    url = fields.String()
    qr_svg = fields.String()


class RosterFileSchema(StrictSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class RosterReportSchema(StrictSchema):
    created_count = fields.Integer()
    rejected_count = fields.Integer()
    created = fields.List(fields.Dict())
    rejected = fields.List(fields.Dict())
