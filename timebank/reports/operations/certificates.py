"""Volunteer service certificates (志愿服务证明, 民政部令第67号: whoever records the service
certifies it, 谁记录谁证明).

A member (or their guardian) asks for one over a period; an organizer of the member's
unit issues it, or turns it down with a reason; an organizer may also issue one directly.
Issuing computes the service record from the ledger, stores the highest entry id it
counted (``entry_watermark``) and the ids behind its hours, and signs the canonical
content with the deployment's Ed25519 key (core/signing.py). A mistake is revoked with a
reason, never edited.

The canonical content is the UTF-8 of a JSON object with sorted keys and no spaces
(``json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``),
rebuilt from the stored columns, so a new field can join it later under a new ``v``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from timebank.core import signing
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.errors import FourEyes, InvalidInput
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.people.models import Member, RoleAssignment
from timebank.reports import periods
from timebank.reports.errors import (
    CertificateDecided,
    CertificateNotFound,
    CertificateRevoked,
    NotEnoughHours,
)
from timebank.reports.models import ID_TYPES, Certificate
from timebank.reports.operations.record import ServiceRecord, service_record
from timebank.reports.operations.seals import Seal, certificate_seal, try_seal
from timebank.units.models import Unit, UnitClosure

#: Crockford's base32 without I, L, O, U: nothing to misread on paper
SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CONTENT_VERSION = 1
ISSUERS = ("organizer", "admin")
TEXT_MAX = {"purpose": 200, "issuer_name": 120, "responsible_person": 60, "contact": 60}


def new_serial() -> str:
    """12 random characters in three groups (60 bits): printed, typed, never guessed."""
    raw = "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_serial(text: str) -> str:
    raw = re.sub(r"[^0-9A-Za-z]", "", text or "").upper()
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 12 else raw[:20]


def mask_id_number(number: str | None) -> str | None:
    """``620102199001011234`` → ``620102********1234``; short numbers keep their last 4."""
    number = re.sub(r"\s", "", number or "").upper()
    if not number:
        return None
    if not re.fullmatch(r"[0-9A-Z()\-]{4,30}", number):
        raise InvalidInput(
            "The ID number has characters no ID number has.", errors={"id_number": ["?"]}
        )
    if len(number) >= 15:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * (len(number) - 4) + number[-4:]


def volunteer_number(member: Member) -> str:
    """The deployment's own volunteer number for a member (when no national one is given)."""
    return f"TB{member.id:08d}"


# ---------------------------------------------------------------- the signed content


def content_of(cert: Certificate) -> dict:
    """What the signature covers, from the stored columns."""
    return {
        "v": CONTENT_VERSION,
        "serial": cert.serial,
        "name": cert.name,
        "id_type": cert.id_type,
        "id_number": cert.id_number_masked,
        "volunteer_number": cert.volunteer_number,
        "period": [cert.period_first.isoformat(), cert.period_last.isoformat()],
        "minutes": cert.minutes,
        "manual_minutes": cert.manual_minutes,
        "service": json.loads(cert.content or "[]"),
        "issuer": cert.issuer_name,
        "responsible_person": cert.responsible_person,
        "handler": cert.handler_name,
        "contact": cert.contact,
        "issued_on": cert.issued_on.isoformat() if cert.issued_on else None,
        "entry_watermark": cert.entry_watermark,
        "entries_sha256": entries_digest(json.loads(cert.entry_ids or "[]")),
    }


def canonical_content(cert: Certificate) -> bytes:
    """The documented byte string the signature covers."""
    return canonical(content_of(cert))


def canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entries_digest(entry_ids: list[int]) -> str:
    """SHA-256 of the entry ids, ascending, comma-separated."""
    return hashlib.sha256(",".join(str(i) for i in sorted(entry_ids)).encode()).hexdigest()


def content_digest(cert: Certificate) -> str:
    """The first 16 hex digits of SHA-256 of the canonical content: printed, and in the QR
    code's link, so the page can tell a printed certificate from an altered record."""
    return hashlib.sha256(canonical_content(cert)).hexdigest()[:16]


# ---------------------------------------------------------------- request, issue, revoke


def get_certificate(serial: str) -> Certificate:
    cert = db.session.scalar(
        sa.select(Certificate).where(Certificate.serial == normalize_serial(serial))
    )
    if cert is None:
        raise CertificateNotFound()
    return cert


def get_certificate_by_id(cert_id: int) -> Certificate:
    cert = db.session.get(Certificate, cert_id)
    if cert is None:
        raise CertificateNotFound()
    return cert


def _period(first: date, last: date, now: datetime) -> periods.Period:
    period = periods.custom(first, last)
    if first > periods.local_date(now):
        raise InvalidInput(
            "A certificate covers service already done: the period starts in the future.",
            errors={"from": ["In the future."]},
        )
    return period


def _check_hours(record: ServiceRecord, minutes_wanted: int | None) -> None:
    wanted = minutes_wanted or 1
    if record.minutes < wanted:
        raise NotEnoughHours(
            "That period holds %(have)s verified minutes, fewer than the %(want)s asked for.",
            params={"have": record.minutes, "want": wanted},
            errors={"hours": ["Not that many verified hours."]},
        )


def _clean(text: str | None, name: str) -> str:
    return (text or "").strip()[: TEXT_MAX[name]]


@use_case
def request_certificate(
    member: Member,
    *,
    actor: Member,
    first: date,
    last: date,
    purpose: str = "",
    minutes_wanted: int | None = None,
    id_type: str | None = None,
    id_number: str | None = None,
    national_number: str | None = None,
    now: datetime | None = None,
) -> Certificate:
    """Ask for a certificate of ``member``'s service from ``first`` to ``last`` (local
    dates, inclusive). Raises PeriodBackwards, PeriodTooLong, InvalidInput (a period in
    the future, an unknown ID type) and NotEnoughHours (fewer verified minutes than
    ``minutes_wanted``, or none) before writing anything."""
    now = now or utcnow()
    period = _period(first, last, now)
    if minutes_wanted is not None and minutes_wanted < 1:
        raise InvalidInput("Ask for at least one minute.", errors={"hours": ["?"]})
    if id_type is not None and id_type not in ID_TYPES:
        raise InvalidInput("Unknown ID type.", errors={"id_type": ["?"]})
    masked = mask_id_number(id_number)
    if masked and not id_type:
        id_type = "resident_id"
    _check_hours(service_record(member.id, period), minutes_wanted)
    cert = Certificate(
        serial=new_serial(), status="requested", member_id=member.id,
        unit_id=member.home_unit_id, period_first=period.first, period_last=period.last,
        purpose=_clean(purpose, "purpose"), minutes_wanted=minutes_wanted, id_type=id_type,
        id_number_masked=masked,
        volunteer_number=(national_number or "").strip()[:40] or volunteer_number(member),
        requested_by_id=actor.id, created_at=now,
    )  # fmt: skip
    db.session.add(cert)
    db.session.flush()
    record_audit(
        "certificate.request", actor=actor, subject=member, target=f"certificate:{cert.id}",
        after={"period": [first.isoformat(), last.isoformat()], "minutes_wanted": minutes_wanted},
        on_behalf_of=member if actor.id != member.id else None,
    )  # fmt: skip
    return cert


def _lock(cert_id: int) -> Certificate:
    """The certificate, its row locked (PostgreSQL; SQLite's write lock serialises)."""
    db.session.flush()
    cert = db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.id == cert_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if cert is None:
        raise CertificateNotFound()
    return cert


def issuer_unit(actor: Member, member: Member) -> Unit:
    """The nearest unit at or above the member's home where ``actor`` organizes."""
    line = (
        sa.select(UnitClosure.ancestor_id, UnitClosure.depth)
        .where(UnitClosure.descendant_id == member.home_unit_id)
        .subquery()
    )
    unit_id = db.session.scalar(
        sa.select(RoleAssignment.unit_id)
        .join(line, line.c.ancestor_id == RoleAssignment.unit_id)
        .where(RoleAssignment.member_id == actor.id, RoleAssignment.role.in_(ISSUERS))
        .order_by(line.c.depth)
        .limit(1)
    )
    return db.session.get(Unit, unit_id if unit_id is not None else member.home_unit_id)


@dataclass
class IssueDetails:
    """What the issuing organizer fills in (the organization's side of the certificate)."""

    issuer_name: str = ""
    responsible_person: str = ""
    contact: str = ""


def _issue(cert: Certificate, actor: Member, details: IssueDetails, now: datetime) -> None:
    """Compute, fill in and sign ``cert`` (locked, requested). Raises FourEyes for one's
    own certificate, NotEnoughHours."""
    member = cert.member
    if member.id == actor.id:
        raise FourEyes("Another organizer issues your own certificate.")
    period = periods.Period("custom", cert.period_first, cert.period_last)
    record = service_record(member.id, period)
    _check_hours(record, cert.minutes_wanted)
    unit = issuer_unit(actor, member)
    cert.status = "issued"
    cert.name = member.name
    cert.minutes, cert.manual_minutes = record.minutes, record.manual_minutes
    cert.content = json.dumps(
        [[line.kind, line.title, line.minutes, line.times] for line in record.lines],
        ensure_ascii=False,
    )
    cert.entry_watermark = record.watermark
    cert.entry_ids = json.dumps(record.entry_ids)
    cert.issuer_name = _clean(details.issuer_name, "issuer_name") or unit.name
    cert.issuer_unit_id = unit.id
    cert.responsible_person = _clean(details.responsible_person, "responsible_person") or None
    cert.handler_name = actor.name
    cert.contact = _clean(details.contact, "contact") or None
    cert.issued_on = periods.local_date(now)
    cert.decided_by_id, cert.decided_at = actor.id, now
    cert.key_id = signing.key_id(signing.key_name(), signing.public_key_bytes()).hex()
    cert.signature = base64.b64encode(signing.sign(canonical_content(cert))).decode()
    db.session.flush()
    try_seal(cert, now)  # else the next checkpoint signed seals it
    record_audit(
        "certificate.issue", actor=actor, subject=member, target=f"certificate:{cert.id}",
        after={"serial": cert.serial, "minutes": cert.minutes, "watermark": cert.entry_watermark},
    )  # fmt: skip


@use_case
def approve_certificate(
    cert_id: int, *, actor: Member, details: IssueDetails | None = None, now=None
) -> Certificate:
    """Issue a requested certificate. Raises CertificateDecided (409) unless it is still
    requested, decided under its row's lock: of two organizers at once, one issues it."""
    cert = _lock(cert_id)
    if cert.status != "requested":
        raise CertificateDecided()
    _issue(cert, actor, details or IssueDetails(), now or utcnow())
    return cert


@use_case
def issue_certificate(
    member: Member, *, actor: Member, first: date, last: date,
    details: IssueDetails | None = None, now: datetime | None = None, **request,
) -> Certificate:  # fmt: skip
    """An organizer issues a certificate directly: the request and its approval at once."""
    now = now or utcnow()
    cert = request_certificate(member, actor=actor, first=first, last=last, now=now, **request)
    _issue(_lock(cert.id), actor, details or IssueDetails(), now)
    return cert


@use_case
def reject_certificate(cert_id: int, *, actor: Member, reason: str, now=None) -> Certificate:
    """Turn a request down with a reason the member reads. CertificateDecided unless still
    requested; InvalidInput without a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", errors={"reason": ["Required."]})
    cert = _lock(cert_id)
    if cert.status != "requested":
        raise CertificateDecided()
    cert.status, cert.reason = "rejected", reason[:500]
    cert.decided_by_id, cert.decided_at = actor.id, now or utcnow()
    db.session.flush()
    record_audit(
        "certificate.reject", actor=actor, subject=cert.member_id,
        target=f"certificate:{cert.id}", detail=cert.reason,
    )  # fmt: skip
    return cert


@use_case
def revoke_certificate(cert_id: int, *, actor: Member, reason: str, now=None) -> Certificate:
    """Revoke an issued certificate with a reason /verify shows from then on.
    CertificateDecided unless issued; InvalidInput without a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason.", errors={"reason": ["Required."]})
    cert = _lock(cert_id)
    if cert.status != "issued":
        raise CertificateDecided()
    cert.status, cert.reason, cert.revoked_at = "revoked", reason[:500], now or utcnow()
    db.session.flush()
    record_audit(
        "certificate.revoke", actor=actor, subject=cert.member_id,
        target=f"certificate:{cert.id}", detail=cert.reason,
    )  # fmt: skip
    return cert


def certificates_of(member_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.member_id == member_id)
            .order_by(Certificate.created_at.desc(), Certificate.id.desc())
        )
    )


def certificates_in_unit(unit_id: int, *, status: str | None = None) -> list[Certificate]:
    reach = sa.select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)
    query = sa.select(Certificate).where(Certificate.unit_id.in_(reach))
    if status is not None:
        query = query.where(Certificate.status == status)
    return list(
        db.session.scalars(query.order_by(Certificate.created_at.desc(), Certificate.id.desc()))
    )


# ---------------------------------------------------------------- verification


@dataclass
class Verification:
    """What /verify finds. ``problems`` are stable codes; none means it matches."""

    cert: Certificate
    recomputed_minutes: int
    problems: list[str] = field(default_factory=list)
    #: its place in the transparency log (``seal.sealed`` False: awaiting its seal)
    seal: Seal | None = None

    @property
    def matches(self) -> bool:
        return not self.problems


def verify_certificate(serial: str, *, digest: str | None = None) -> Verification:
    """Check a certificate as anyone may: its signature over the content rebuilt from the
    record, its hours recomputed from the ledger up to its watermark, and (``digest``, from
    the QR code's link) that the record is the one printed. Raises CertificateNotFound
    (404: unknown, or only asked for), CertificateRevoked (410, with the reason)."""
    cert = get_certificate(serial)
    if cert.status == "revoked":
        raise CertificateRevoked(
            "This certificate was revoked: %(reason)s", params={"reason": cert.reason or ""}
        )
    if cert.status != "issued":
        raise CertificateNotFound()
    problems = []
    signature = base64.b64decode(cert.signature or "")
    if not signing.verify(signing.public_key_bytes(), canonical_content(cert), signature):
        problems.append("signature")
    period = periods.Period("custom", cert.period_first, cert.period_last)
    record = service_record(cert.member_id, period, watermark=cert.entry_watermark or 0)
    if (record.minutes, record.manual_minutes) != (cert.minutes, cert.manual_minutes):
        problems.append("hours")
    if entries_digest(record.entry_ids) != content_of(cert)["entries_sha256"]:
        problems.append("entries")
    if digest and digest.strip().lower() != content_digest(cert):
        problems.append("printed")
    seal = certificate_seal(cert)
    if seal is not None and seal.problem:
        problems.append("seal")
    return Verification(cert=cert, recomputed_minutes=record.minutes, problems=problems, seal=seal)


def signed_document(cert: Certificate, seal: Seal | None = None) -> dict:
    """The certificate as a file its holder hands over: the exact signed bytes (as text),
    the signature and the key, checkable offline against /.well-known/timebank-keys; and
    its seal: the signed checkpoint of the HOURS log and each counted entry's inclusion
    proof against it (``{"status": "awaiting"}`` until a checkpoint holds them all)."""
    seal = seal or certificate_seal(cert)
    return {
        "signed_content": canonical_content(cert).decode(),
        "signature": cert.signature,
        "algorithm": "Ed25519",
        "key_id": cert.key_id,
        "key_name": signing.key_name(),
        "seal": seal.document() if seal is not None else {"status": "awaiting"},
    }
