"""People: members, roles and the one permission check, login and tokens, joining,
party registration (双报到), guardians and roster import."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.exc import IntegrityError

from timebank.core.access import Target
from timebank.core.db import utcnow
from timebank.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NulCharacter,
    RateLimited,
)
from timebank.core.sms import load_sms_adapter
from timebank.core.uow import after_commit
from timebank.extensions import db
from timebank.people.errors import (
    AccountNotActive,
    CodeExpired,
    CodeInvalid,
    GuardianExists,
    GuardianSelf,
    IncompleteDualReport,
    InvalidCredentials,
    InvalidPhone,
    JoinLinkInvalid,
    JoinLinkMissing,
    MemberNotFound,
    NotGuardian,
    NotPending,
    PhoneTaken,
    RosterColumns,
    RosterEmpty,
    RosterFormat,
    RosterUnreadable,
    TokenAccountNotActive,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    WeakPassword,
    WrongCode,
)
from timebank.people.models import (
    ROLES,
    ApiToken,
    AuditEvent,
    Guardianship,
    JoinLink,
    Member,
    PartyProfile,
    PhoneVerification,
    RoleAssignment,
)
from timebank.units import operations as units
from timebank.units.models import UnitClosure

# ---------------------------------------------------------------- passwords, phones

#: ASCII digits only: \d would also take "１３７..." and other scripts' digits
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def _password_hasher() -> PasswordHasher:
    if current_app.config.get("TESTING"):
        # Tests create hundreds of members; production keeps argon2id's defaults.
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_phone(raw: str | None) -> str:
    """Strip spaces, dashes and a +86 prefix; raise InvalidInput unless 11 mobile digits."""
    # NFKC turns full-width digits (a Chinese input method's) into ASCII ones
    phone = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", str(raw or "")))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not _PHONE.match(phone):
        raise InvalidPhone(
            "The phone number must be an 11-digit mainland mobile number starting with 1.",
            errors={"phone": ["Not a valid mobile number."]},
        )
    return phone


def check_password_strength(password: str | None) -> str:
    if not password or len(password) < 8:
        raise WeakPassword(
            "The password must have at least 8 characters.",
            errors={"password": ["At least 8 characters."]},
        )
    if len(password) > 128:
        raise InvalidInput("The password is too long.", errors={"password": ["At most 128."]})
    return password


# ---------------------------------------------------------------- audit


def record_audit(
    action: str,
    *,
    actor: Member | None,
    subject: Member | None = None,
    on_behalf_of: Member | None = None,
    detail: str | None = None,
) -> None:
    db.session.add(
        AuditEvent(
            action=action,
            actor_id=actor.id if actor else None,
            subject_member_id=subject.id if subject else None,
            on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
            detail=detail,
        )
    )


# ---------------------------------------------------------------- members


def get_member(member_id: int) -> Member:
    """Return the member or raise NotFound."""
    member = db.session.get(Member, member_id)
    if member is None:
        raise MemberNotFound("Member %(id)s does not exist.", params={"id": member_id})
    return member


def set_locale(member: Member, locale: str) -> None:
    """The member's page language from now on (zh_CN or en)."""
    member.locale = locale
    db.session.flush()


def member_target(member_id: int) -> Target:
    """What an action on a member is done to: the member, in their home unit."""
    member = get_member(member_id)
    return Target(unit=member.home_unit_id, member=member.id)


def action_to_grant(role: str) -> str:
    """The action that granting ``role`` needs: organizers may make volunteers, only
    admins may grant any other role."""
    return "roles.grant" if role == "volunteer" else "roles.grant_any"


def find_member_by_phone(phone: str) -> Member | None:
    return db.session.scalar(sa.select(Member).where(Member.phone == phone))


def create_member(
    *,
    phone: str,
    name: str,
    home_unit_id: int,
    password: str | None = None,
    password_hash: str | None = None,
    status: str = "active",
    has_smartphone: bool = True,
    roles: Iterable[tuple[str, int]] = (),
    actor: Member | None = None,
) -> Member:
    """Create a member (phone unique) with optional roles ``[(role, unit_id), ...]``.

    Raises InvalidInput for a bad phone, name or password, NotFound for a missing
    unit, Conflict (``phone_taken``) when the phone already belongs to someone.
    """
    phone = normalize_phone(phone)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput("A member needs a name of 1 to 60 characters.", errors={"name": ["?"]})
    units.get_unit(home_unit_id)
    if password is not None:
        password_hash = hash_password(check_password_strength(password))
    if find_member_by_phone(phone) is not None:
        raise PhoneTaken(
            "The phone %(phone)s is already registered.",
            params={"phone": phone},
        )
    member = Member(
        phone=phone,
        name=name,
        home_unit_id=home_unit_id,
        password_hash=password_hash,
        status=status,
        has_smartphone=has_smartphone,
        phone_verified_at=utcnow() if status == "active" else None,
    )
    db.session.add(member)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise PhoneTaken(
            "The phone %(phone)s is already registered.",
            params={"phone": phone},
        ) from None
    for role, unit_id in roles:
        grant_role(member, role, unit_id, granted_by=actor)
    record_audit("member.create", actor=actor, subject=member)
    return member


def grant_role(
    member: Member, role: str, unit_id: int, *, granted_by: Member | None = None
) -> RoleAssignment:
    """Give ``member`` a role over ``unit_id``'s subtree; idempotent."""
    if role not in ROLES:
        raise InvalidInput(
            "Unknown role %(role)s.", errors={"role": ["Unknown role."]}, params={"role": role}
        )
    units.get_unit(unit_id)
    for existing in member.roles:
        if existing.role == role and existing.unit_id == unit_id:
            return existing
    assignment = RoleAssignment(
        member=member,
        role=role,
        unit_id=unit_id,
        granted_by_id=granted_by.id if granted_by else None,
    )
    db.session.add(assignment)
    db.session.flush()
    record_audit("role.grant", actor=granted_by, subject=member, detail=f"{role}@{unit_id}")
    return assignment


def members_in_unit_select(
    unit_id: int, *, status: str | None = None, party: str | None = None
) -> sa.Select:
    """Members living in the subtree of ``unit_id``, by name.

    ``party``: ``member`` (any party member), ``reported`` (reported in here or
    below), ``not_reported`` (party member who has not reported in).
    """
    query = (
        sa.select(Member)
        .where(Member.home_unit_id.in_(units.subtree_ids_select(unit_id)))
        .order_by(Member.name, Member.id)
    )
    if status is not None:
        query = query.where(Member.status == status)
    if party is not None:
        query = query.join(PartyProfile, PartyProfile.member_id == Member.id)
        if party == "reported":
            query = query.where(PartyProfile.reported_on.is_not(None))
        elif party == "not_reported":
            query = query.where(PartyProfile.reported_on.is_(None))
        elif party != "member":
            raise InvalidInput(
                "party must be member, reported or not_reported.", errors={"party": ["?"]}
            )
    return query


def count_members(unit_ids: Iterable[int], *, status: str | None = None) -> int:
    """Members living in the subtrees of ``unit_ids`` (each counted once), in one query."""
    roots = list(unit_ids)
    if not roots:
        return 0
    query = sa.select(sa.func.count(Member.id)).where(
        Member.home_unit_id.in_(
            sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id.in_(roots))
        )
    )
    if status is not None:
        query = query.where(Member.status == status)
    return db.session.scalar(query)


def list_members(unit_id: int, **filters) -> list[Member]:
    return list(db.session.scalars(members_in_unit_select(unit_id, **filters)))


# ---------------------------------------------------------------- party members


def register_party(
    member: Member,
    *,
    branch: str,
    reported_unit_id: int | None = None,
    reported_on: date | None = None,
    workplace_org_id: int | None = None,
    workplace_name: str | None = None,
    actor: Member | None = None,
    on_behalf_of: Member | None = None,
) -> PartyProfile:
    """Record party data and (optionally) the dual report (双报到) of ``member``.

    Creates or updates the member's profile. Raises InvalidInput when a report date
    is given without a unit (or the reverse), or lies in the future.
    """
    branch = (branch or "").strip()
    if not branch:
        raise InvalidInput("The party branch is required.", errors={"branch": ["Required."]})
    if (reported_unit_id is None) != (reported_on is None):
        raise IncompleteDualReport(
            "A dual report needs both the community and the date.",
            errors={"reported_on": ["Give both or neither."]},
        )
    if reported_on is not None and reported_on > utcnow().date() + timedelta(days=1):
        raise InvalidInput(
            "The report date cannot be in the future.", errors={"reported_on": ["?"]}
        )
    if reported_unit_id is not None:
        units.get_unit(reported_unit_id)
    if workplace_org_id is not None:
        units.get_organization(workplace_org_id)
    profile = db.session.get(PartyProfile, member.id)
    if profile is None:
        profile = PartyProfile(member_id=member.id, branch=branch)
        db.session.add(profile)
    profile.branch = branch
    profile.workplace_org_id = workplace_org_id
    profile.workplace_name = (workplace_name or "").strip() or None
    profile.reported_unit_id = reported_unit_id
    profile.reported_on = reported_on
    db.session.flush()
    record_audit(
        "party.register",
        actor=actor,
        subject=member,
        on_behalf_of=on_behalf_of,
        detail=f"branch={branch}; reported={reported_on}",
    )
    return profile


# ---------------------------------------------------------------- login and tokens


def authenticate(phone: str, password: str) -> Member:
    """Return the active member with this phone and password.

    Raises AuthenticationRequired (``invalid_credentials``) for a wrong phone or
    password, and DomainError (``account_not_active``) for a pending or suspended one.
    """
    try:
        phone = normalize_phone(phone)
    except InvalidInput:
        raise InvalidCredentials("Wrong phone number or password.") from None
    member = find_member_by_phone(phone)
    if member is None or not password_matches(member.password_hash, password or ""):
        raise InvalidCredentials("Wrong phone number or password.")
    if member.status != "active":
        messages = {
            "unverified": "Your phone number is not verified yet.",
            "pending": "Your registration is waiting for an organizer's approval.",
            "rejected": "Your registration was not approved.",
            "suspended": "Your account is suspended.",
        }
        raise AccountNotActive(messages[member.status])
    return member


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(member: Member) -> tuple[str, ApiToken]:
    """A new bearer token for ``member``; the plain token is returned once, never stored."""
    token = secrets.token_urlsafe(32)
    ttl = timedelta(hours=current_app.config["TIMEBANK_TOKEN_TTL_HOURS"])
    row = ApiToken(member_id=member.id, token_hash=_token_digest(token), expires_at=utcnow() + ttl)
    db.session.add(row)
    db.session.flush()
    return token, row


def member_for_token(token: str) -> tuple[Member, ApiToken]:
    """Resolve a bearer token; AuthenticationRequired if unknown, expired or revoked."""
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None:
        raise TokenInvalid("The token is not valid.")
    if row.revoked_at is not None:
        raise TokenRevoked("The token was revoked.")
    if row.expires_at <= utcnow():
        raise TokenExpired("The token has expired; log in again.")
    if not row.member.is_active:
        raise TokenAccountNotActive("The account is not active.")
    return row.member, row


def revoke_token(row: ApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()


# ---------------------------------------------------------------- guardians


def add_guardian(member: Member, guardian: Member, *, relation: str, actor: Member | None) -> None:
    """Let ``guardian`` act for ``member``; Conflict if already so, InvalidInput for self."""
    if member.id == guardian.id:
        raise GuardianSelf("A member cannot be their own guardian.")
    relation = (relation or "").strip()
    if not relation:
        raise InvalidInput("Say how the guardian is related.", errors={"relation": ["Required."]})
    exists = db.session.scalar(
        sa.select(Guardianship.id).where(
            Guardianship.member_id == member.id, Guardianship.guardian_id == guardian.id
        )
    )
    if exists is not None:
        raise GuardianExists(
            "%(guardian)s already acts for %(member)s.",
            params={"guardian": guardian.name, "member": member.name},
        )
    db.session.add(Guardianship(member_id=member.id, guardian_id=guardian.id, relation=relation))
    db.session.flush()
    record_audit("guardian.add", actor=actor, subject=member, detail=f"guardian={guardian.id}")


def guardian_may_act_for(guardian: Member, member_id: int) -> Member:
    """The member ``guardian`` acts for; Forbidden unless a guardianship exists."""
    exists = db.session.scalar(
        sa.select(Guardianship.id).where(
            Guardianship.member_id == member_id, Guardianship.guardian_id == guardian.id
        )
    )
    if exists is None:
        raise NotGuardian("You are not registered as a guardian of that member.")
    return get_member(member_id)


def is_guardian(guardian: Member, member: Member) -> bool:
    return (
        db.session.scalar(
            sa.select(Guardianship.id).where(
                Guardianship.member_id == member.id, Guardianship.guardian_id == guardian.id
            )
        )
        is not None
    )


def wards_of(guardian: Member) -> list[Member]:
    return list(
        db.session.scalars(
            sa.select(Member)
            .join(Guardianship, Guardianship.member_id == Member.id)
            .where(Guardianship.guardian_id == guardian.id)
            .order_by(Member.name)
        )
    )


# ---------------------------------------------------------------- joining

OTP_MAX_ATTEMPTS = 5
OTP_MAX_PER_HOUR = 5


def current_join_link(unit_id: int) -> JoinLink:
    """The unit's live join link; JoinLinkMissing until one is made."""
    link = db.session.scalar(
        sa.select(JoinLink)
        .where(JoinLink.unit_id == unit_id, JoinLink.revoked_at.is_(None))
        .order_by(JoinLink.id.desc())
        .limit(1)
    )
    if link is None:
        raise JoinLinkMissing("This unit has no join link yet; make one first.")
    return link


def renew_join_link(unit_id: int, *, actor: Member | None) -> JoinLink:
    """A new join link for the unit; the links made before stop working."""
    units.get_unit(unit_id)
    now = utcnow()
    for old in db.session.scalars(
        sa.select(JoinLink).where(JoinLink.unit_id == unit_id, JoinLink.revoked_at.is_(None))
    ):
        old.revoked_at = now
    link = JoinLink(
        unit_id=unit_id, code=secrets.token_urlsafe(9), created_by_id=actor.id if actor else None
    )
    db.session.add(link)
    db.session.flush()
    record_audit("join_link.renew", actor=actor, detail=f"unit {unit_id}")
    return link


def get_join_link(code: str) -> JoinLink:
    """The live join link with this code, or NotFound (``join_link_invalid``)."""
    link = db.session.scalar(sa.select(JoinLink).where(JoinLink.code == code))
    if link is None or link.revoked_at is not None:
        raise JoinLinkInvalid("This join link is not valid any more.")
    return link


def join_url(link: JoinLink) -> str:
    return f"{current_app.config['TIMEBANK_BASE_URL']}/join/{link.code}"


def _otp_digest(phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def send_phone_code(phone: str) -> None:
    """Send a 6-digit one-time code by SMS (after the commit); at most 5 an hour."""
    now = utcnow()
    recent = db.session.scalar(
        sa.select(sa.func.count(PhoneVerification.id)).where(
            PhoneVerification.phone == phone,
            PhoneVerification.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= OTP_MAX_PER_HOUR:
        raise RateLimited("Too many codes sent to this phone; try again in an hour.")
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = timedelta(minutes=current_app.config["TIMEBANK_OTP_TTL_MINUTES"])
    db.session.add(
        PhoneVerification(phone=phone, code_hash=_otp_digest(phone, code), expires_at=now + ttl)
    )
    db.session.flush()
    adapter = load_sms_adapter(current_app)
    message = f"[timebank] 验证码 {code}, {ttl.seconds // 60} 分钟内有效 (verification code)."
    after_commit(db.session, lambda: adapter.send(phone, message))


def start_registration(*, code: str, phone: str, name: str, password: str) -> Member:
    """A resident registers through a join link: an unverified member, and an SMS code.

    Raises NotFound for a dead link, InvalidInput for bad fields, Conflict when the
    phone is registered and already verified (an unverified one may start again).
    """
    link = get_join_link(code)
    phone = normalize_phone(phone)
    check_password_strength(password)
    member = find_member_by_phone(phone)
    if member is not None and member.status != "unverified":
        raise PhoneTaken(
            "The phone %(phone)s is already registered.",
            params={"phone": phone},
        )
    if member is None:
        member = create_member(
            phone=phone,
            name=name,
            home_unit_id=link.unit_id,
            password=password,
            status="unverified",
        )
    else:
        member.name = (name or "").strip() or member.name
        member.home_unit_id = link.unit_id
        member.password_hash = hash_password(password)
    send_phone_code(phone)
    return member


def verify_phone(*, phone: str, code: str) -> Member:
    """Check the SMS code; the member becomes pending (awaiting an organizer's approval).

    Raises InvalidInput (``code_invalid``) for a wrong code, (``code_expired``) for a
    stale one, RateLimited after five wrong guesses.
    """
    phone = normalize_phone(phone)
    member = find_member_by_phone(phone)
    verification = db.session.scalar(
        sa.select(PhoneVerification)
        .where(PhoneVerification.phone == phone, PhoneVerification.consumed_at.is_(None))
        .order_by(PhoneVerification.id.desc())
        .limit(1)
    )
    if member is None or verification is None:
        raise CodeInvalid("No code was sent to this phone.")
    if verification.attempts >= OTP_MAX_ATTEMPTS:
        raise RateLimited("Too many wrong codes; ask for a new one.")
    if verification.expires_at <= utcnow():
        raise CodeExpired("The code has expired; ask for a new one.")
    if not hmac.compare_digest(verification.code_hash, _otp_digest(phone, (code or "").strip())):
        verification.attempts += 1
        db.session.flush()
        raise WrongCode("The code is wrong.", errors={"code": ["Wrong."]})
    verification.consumed_at = utcnow()
    if member.status == "unverified":
        member.status = "pending"
    member.phone_verified_at = utcnow()
    db.session.flush()
    record_audit("member.verify_phone", actor=member, subject=member)
    return member


def approve_member(member: Member, *, actor: Member) -> Member:
    """Make a pending member an active volunteer of their home unit.

    Raises Conflict unless pending.
    """
    if member.status != "pending":
        raise NotPending(
            "%(name)s is not waiting for approval.",
            params={"name": member.name},
        )
    member.status = "active"
    grant_role(member, "volunteer", member.home_unit_id, granted_by=actor)
    record_audit("member.approve", actor=actor, subject=member)
    return member


def reject_member(member: Member, *, actor: Member, reason: str) -> Member:
    if member.status != "pending":
        raise NotPending(
            "%(name)s is not waiting for approval.",
            params={"name": member.name},
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", errors={"reason": ["Required."]})
    member.status = "rejected"
    db.session.flush()
    record_audit("member.reject", actor=actor, subject=member, detail=reason)
    return member


# ---------------------------------------------------------------- roster import

ROSTER_COLUMNS = ("name", "phone", "unit", "party_branch", "reported_on", "workplace")
ROSTER_HEADERS = {
    "name": "name",
    "姓名": "name",
    "phone": "phone",
    "手机": "phone",
    "手机号": "phone",
    "unit": "unit",
    "网格": "unit",
    "楼栋": "unit",
    "单位": "unit",
    "party_branch": "party_branch",
    "党支部": "party_branch",
    "reported_on": "reported_on",
    "报到日期": "reported_on",
    "workplace": "workplace",
    "工作单位": "workplace",
}


@dataclass
class RosterReport:
    created: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created_count": len(self.created),
            "rejected_count": len(self.rejected),
            "created": self.created,
            "rejected": [{k: v for k, v in r.items() if k != "error"} for r in self.rejected],
        }


def read_roster(filename: str, data: bytes) -> list[dict]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX roster as dicts.

    Raises InvalidInput for another format or a file without a name and phone column.
    """
    lower = (filename or "").lower()
    if lower.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif lower.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterUnreadable("The CSV file is neither UTF-8 nor GB18030.")
        if "\x00" in text:  # PostgreSQL text cannot hold it
            raise NulCharacter("Text must not contain NUL characters.")
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise RosterFormat("Upload a .csv or .xlsx file.")
    if not rows:
        raise RosterEmpty("The roster is empty.")
    header = [
        ROSTER_HEADERS.get(str(h or "").strip().lower(), ROSTER_HEADERS.get(str(h or "").strip()))
        for h in rows[0]
    ]
    if "name" not in header or "phone" not in header:
        raise RosterColumns(
            "The first row must name the columns; name (姓名) and phone (手机号) are required.",
        )
    result = []
    for values in rows[1:]:
        if not any(str(v or "").strip() for v in values):
            continue
        record = {}
        for key, value in zip(header, values, strict=False):
            if key:
                record[key] = value
        result.append(record)
    return result


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise RosterUnreadable(
            "The XLSX file cannot be read: %(error)s",
            params={"error": str(error)},
        ) from None
    sheet = workbook.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def import_roster(unit_id: int, rows: list[dict], *, actor: Member) -> RosterReport:
    """Create a member per valid row under ``unit_id``; report each rejected row and why.

    A row's ``unit`` (optional) names or numbers a unit inside ``unit_id``'s subtree.
    Nothing is created for a rejected row; valid rows are created together.
    """
    subtree = units.list_units(within=[unit_id])
    by_id = {str(u.id): u for u in subtree}
    by_name: dict[str, list] = {}
    for unit in subtree:
        by_name.setdefault(unit.name, []).append(unit)
    seen_phones: set[str] = set()
    report = RosterReport()
    for number, raw in enumerate(rows, start=2):
        row = {k: _cell(v) for k, v in raw.items()}
        try:
            phone = normalize_phone(row.get("phone"))
            if phone in seen_phones:
                raise InvalidInput("The phone appears twice in this file.")
            seen_phones.add(phone)
            if find_member_by_phone(phone) is not None:
                raise Conflict("The phone is already registered.")
            unit_key = row.get("unit") or ""
            if not unit_key:
                home = units.get_unit(unit_id)
            elif unit_key in by_id:
                home = by_id[unit_key]
            elif len(by_name.get(unit_key, [])) == 1:
                home = by_name[unit_key][0]
            elif unit_key in by_name:
                raise InvalidInput(
                    "More than one unit is called %(unit)s; use its number.",
                    params={"unit": unit_key},
                )
            else:
                raise InvalidInput("No unit %(unit)s in this subtree.", params={"unit": unit_key})
            reported_on = None
            if row.get("reported_on"):
                try:
                    reported_on = date.fromisoformat(row["reported_on"][:10])
                except ValueError:
                    raise InvalidInput("reported_on must be a date like 2024-03-15.") from None
            if reported_on and not row.get("party_branch"):
                raise InvalidInput("A report date needs a party branch.")
            member = create_member(
                phone=phone,
                name=row.get("name", ""),
                home_unit_id=home.id,
                has_smartphone=True,
                roles=[("volunteer", home.id)],
                actor=actor,
            )
            if row.get("party_branch"):
                register_party(
                    member,
                    branch=row["party_branch"],
                    reported_unit_id=_community_of(home.id) if reported_on else None,
                    reported_on=reported_on,
                    workplace_name=row.get("workplace") or None,
                    actor=actor,
                )
            report.created.append({"row": number, "member_id": member.id, "phone": phone})
        except DomainError as error:
            report.rejected.append(
                {
                    "row": number,
                    "phone": row.get("phone", ""),
                    "name": row.get("name", ""),
                    "reason": error.message,
                    "error": error,
                }
            )
    return report


def _community_of(unit_id: int) -> int:
    """The nearest community above (or at) ``unit_id``; the unit itself if there is none."""
    for ancestor_id in units.ancestor_ids(unit_id):
        if units.get_unit(ancestor_id).kind == "community":
            return ancestor_id
    return unit_id
