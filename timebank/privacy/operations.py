"""Everything the time bank keeps about one member, gathered from every module.

Each module's rows are read whole (every column), less secrets (password and token
hashes) and less other people's personal data: a row names other members by id only.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa

from timebank.activities.models import Attendance, CheckIn, Signup
from timebank.core.audit import AuditEvent
from timebank.core.clock import utcnow
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.inbox.models import Notification
from timebank.ledger.models import Account, Entry, Transfer
from timebank.merchants.models import Merchant, Redemption
from timebank.people import operations as people
from timebank.people.models import Guardianship, Member, PartyProfile, RoleAssignment
from timebank.projects.models import Claim, HourLog, Need, Resource
from timebank.units import operations as units
from timebank.units.models import Organization

#: columns never exported: secrets, and counters that mean nothing to the member
HIDDEN = frozenset({"password_hash", "token_hash", "session_epoch", "body_hash", "nonce"})

FORMAT_VERSION = 1


def _row(obj) -> dict:
    return {
        column.key: getattr(obj, column.key)
        for column in sa.inspect(type(obj)).columns
        if column.key not in HIDDEN
    }


def _rows(model, *where, order=None) -> list[dict]:
    query = sa.select(model).where(*where).order_by(order if order is not None else model.id)
    return [_row(obj) for obj in db.session.scalars(query)]


def _ledger(member_id: int) -> list[dict]:
    """Each of the member's accounts with every line: amount, balance after, transfer."""
    accounts = []
    for account in db.session.scalars(
        sa.select(Account).where(Account.member_id == member_id).order_by(Account.id)
    ):
        lines = db.session.execute(
            sa.select(Entry, Transfer)
            .join(Transfer, Transfer.id == Entry.transfer_id)
            .where(Entry.account_id == account.id)
            .order_by(Entry.version)
        ).all()
        accounts.append(
            {
                **_row(account),
                "lines": [
                    {
                        **_row(entry),
                        "code": transfer.code,
                        "memo": transfer.memo,
                        "reference_type": transfer.reference_type,
                        "reference_id": transfer.reference_id,
                    }
                    for entry, transfer in lines
                ],
            }
        )
    return accounts


def export_member_data(member: Member) -> dict:
    """The member's profile, roles, units, guardianships, party record, sign-ups,
    attendance and check-ins, claims and hour logs, ledger accounts with every line and
    balance, redemptions, inbox messages, and the audit rows about them."""
    mid = member.id
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": utcnow(),
        "profile": _row(member),
        "home": [_row(unit) for unit in units.line_of(member.home_unit_id)],
        "roles": _rows(RoleAssignment, RoleAssignment.member_id == mid),
        "guardianships": _rows(
            Guardianship, sa.or_(Guardianship.member_id == mid, Guardianship.guardian_id == mid)
        ),
        "party": _rows(PartyProfile, PartyProfile.member_id == mid, order=PartyProfile.member_id),
        "signups": _rows(Signup, Signup.member_id == mid),
        "attendance": _rows(Attendance, Attendance.member_id == mid),
        "checkins": _rows(CheckIn, CheckIn.member_id == mid),
        "project_claims": _rows(Claim, Claim.member_id == mid),
        "hour_logs": _rows(HourLog, HourLog.member_id == mid),
        "ledger": _ledger(mid),
        "redemptions": _rows(Redemption, Redemption.member_id == mid),
        "inbox": _rows(Notification, Notification.member_id == mid),
        "audit": _audit_rows(member),
    }


def _role_of(actor_id: int | None, member: Member, wards: set[int]) -> str:
    """How an audit row's actor stands to the member: self, their guardian, or the role
    they act in (admin, organizer, merchant staff, member); system for the CLI and jobs."""
    if actor_id is None:
        return "system"
    if actor_id == member.id:
        return "self"
    if actor_id in wards:
        return "guardian"
    roles = set(
        db.session.scalars(
            sa.select(RoleAssignment.role).where(RoleAssignment.member_id == actor_id)
        )
    )
    return next((r for r in ("admin", "organizer", "merchant_staff") if r in roles), "member")


def _audit_rows(member: Member) -> list[dict]:
    """The audit rows about the member. Someone else's act names them by id and role
    only: their address (and nothing else of theirs) is not the member's to download."""
    guardians = set(
        db.session.scalars(
            sa.select(Guardianship.guardian_id).where(Guardianship.member_id == member.id)
        )
    )
    rows, roles = [], {}
    query = sa.or_(
        AuditEvent.subject_member_id == member.id, AuditEvent.on_behalf_of_id == member.id
    )
    for row in _rows(AuditEvent, query):
        actor_id = row["actor_id"]
        if actor_id not in roles:
            roles[actor_id] = _role_of(actor_id, member, guardians)
        row["actor_role"] = roles[actor_id]
        if actor_id != member.id:
            row["ip"] = None
        rows.append(row)
    return rows


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def export_json(member: Member) -> str:
    """``export_member_data`` as JSON text (UTF-8, Chinese kept readable)."""
    return json.dumps(export_member_data(member), ensure_ascii=False, indent=2, default=_plain)


def export_filename(member: Member, today: date) -> str:
    return f"timebank-my-data-{member.id}-{today.isoformat()}.json"


# ---------------------------------------------------------------- removal

#: text columns that may hold a copy of a member's name or phone, outside the append-only
#: records (the ledger, the audit trail, project and need histories keep what they said)
_COPIES = (
    (Need, ("title", "description", "contact_name", "contact_phone")),
    (Resource, ("contact", "description")),
    (HourLog, ("description",)),
    (Merchant, ("contact_name", "contact_phone")),
    (Organization, ("contact",)),
    (Notification, ("title", "body")),
)


@use_case
def remove_member(member: Member, *, actor: Member | None) -> Member:
    """Remove a member: their profile is pseudonymised (people.remove_member), and every
    other copy of their name and phone that is not an append-only record is replaced by
    the pseudonym (a phone by nothing): needs they filed or are named in, resources,
    hour logs, shops' contacts, partner organizations' contacts and every inbox message;
    their own inbox goes. Raises what people.remove_member raises."""
    old_name, old_phone = member.name, member.phone
    people.remove_member(member, actor=actor)
    db.session.execute(sa.delete(Notification).where(Notification.member_id == member.id))
    for old, new in ((old_phone, ""), (old_name, member.name)):
        if len(old or "") < 2:
            continue  # a one-character name would replace too much
        for model, columns in _COPIES:
            for name in columns:
                column = getattr(model, name)
                db.session.execute(
                    sa.update(model)
                    .where(column.contains(old, autoescape=True))
                    .values({name: sa.func.replace(column, old, new)})
                    .execution_options(synchronize_session=False)
                )
    db.session.execute(
        sa.update(Need)
        .where(Need.resident_id == member.id)
        .values(contact_name=member.name, contact_phone=None)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return member
