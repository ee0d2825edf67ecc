"""Credits that create value: verified service (evidence), and manual credits (awards, and
corrections in a member's favour), which post only when a second person approves them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from timebank.core import access
from timebank.core.access import Target
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.errors import FourEyes, InvalidInput
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger.errors import (
    AlreadyDecided,
    CorrectionExceedsOriginal,
    IdempotencyInProgress,
    PendingCreditNotFound,
)
from timebank.ledger.models import PendingCredit, Transfer
from timebank.ledger.operations.accounts import (
    check_ledger,
    get_account,
    member_account,
    member_account_ids,
    system_account,
)
from timebank.ledger.operations.posting import (
    Posted,
    TransferRequest,
    get_transfer,
    idempotency_conflict,
    lock_accounts,
    post_groups,
    post_transfer,
    validate,
)
from timebank.ledger.operations.sql import is_postgres


@dataclass(frozen=True)
class Evidence:
    """Verified service to credit: HOURS (``minutes``) and POINTS from the issuance
    accounts of ``unit_id`` to the member (whose accounts open in ``member_unit_id``, their
    home unit), keyed ``<idempotency_key>:HOURS`` / ``:POINTS``."""

    member_id: int
    member_unit_id: int
    unit_id: int
    minutes: int
    points: int
    code: str
    reference_type: str
    reference_id: str
    idempotency_key: str
    actor_id: int | None


def credit_from_evidence(*, now: datetime | None = None, **evidence) -> list[Transfer]:
    """Credit one piece of verified service (check-in, approved hour log); see
    ``credit_evidence``. Returns its transfers."""
    return credit_evidence([Evidence(**evidence)], now=now)[0]


def credit_evidence(evidence: Sequence[Evidence], *, now: datetime | None = None) -> list[Posted]:
    """Credit verified service, each piece its HOURS and POINTS linked, posted at ``now``
    (default: the server clock), the moment the evidence was approved. A batch opens its
    members' accounts in bulk and posts in one step (``post_groups``): the community's
    issuance accounts are locked once, at the end of the caller's transaction, not from
    its first credit on.

    Retrying with the same arguments returns the same transfers; nothing is credited
    twice. Raises what posting raises. Returns each piece's transfers, in order.
    """
    wanted = {
        ledger: {e.member_id: e.member_unit_id for e in evidence if amount(e) > 0}
        for ledger, amount in _AMOUNTS
    }
    members = {ledger: member_account_ids(ledger, homes) if homes else {}
               for ledger, homes in wanted.items()}  # fmt: skip
    sources: dict[tuple[int, str], int] = {}
    groups = []
    for piece in evidence:
        group = []
        for ledger, amount in _AMOUNTS:
            if amount(piece) <= 0:
                continue
            if (piece.unit_id, ledger) not in sources:
                sources[piece.unit_id, ledger] = system_account(
                    piece.unit_id, ledger, "issuance"
                ).id
            group.append(
                TransferRequest(
                    ledger=ledger,
                    debit_account_id=sources[piece.unit_id, ledger],
                    credit_account_id=members[ledger][piece.member_id],
                    amount=amount(piece),
                    code=piece.code,
                    idempotency_key=f"{piece.idempotency_key}:{ledger}",
                    actor_id=piece.actor_id,
                    reference_type=piece.reference_type,
                    reference_id=piece.reference_id,
                )
            )
        groups.append(group)
    posted = iter(post_groups([group for group in groups if group], now=now))
    return [next(posted) if group else Posted() for group in groups]


#: what each ledger credits of a piece of evidence
_AMOUNTS = (("HOURS", lambda e: e.minutes), ("POINTS", lambda e: e.points))


@dataclass(frozen=True)
class ManualCreditResult:
    """A manual credit asked for. ``replayed`` when the key had asked for it before with
    the same body: decided under the accounts' locks, so of concurrent twins exactly one
    is not a replay."""

    pending: PendingCredit
    replayed: bool = False


def check_key_kind(key: str, code: str) -> None:
    """Raise IdempotencyConflict when ``key`` already made a transfer or a manual credit of
    another ``code`` (a donation's key sent again for an award): a key does one thing."""
    made = db.session.scalars(
        sa.union_all(
            sa.select(Transfer.code).where(Transfer.idempotency_key.in_([key, f"{key}:pool"])),
            sa.select(PendingCredit.code).where(PendingCredit.idempotency_key == key),
        )
    )
    if any(found != code for found in made):
        raise idempotency_conflict(key)


def _pending_by_key(key: str) -> PendingCredit | None:
    return db.session.scalar(sa.select(PendingCredit).where(PendingCredit.idempotency_key == key))


def request_manual_credit(
    *,
    ledger: str,
    code: str,
    member_id: int,
    member_unit_id: int,
    unit_id: int,
    amount: int,
    memo: str,
    idempotency_key: str,
    requested_by_id: int,
    corrects_id: int | None = None,
    debit_account_id: int | None = None,
) -> ManualCreditResult:
    """Ask for a credit that creates value (an award, or a correction in a member's favour).

    It posts only when a second organizer or admin of ``unit_id`` approves it; an award is
    drawn from that unit's issuance account. ``member_unit_id`` (the member's home unit)
    opens the member's account on first use. The same key and body return the same
    request (``replayed``); a different body is an IdempotencyConflict. Raises
    InvalidInput for a malformed request, CorrectionExceedsOriginal when a correction
    (``corrects_id``) would take back more than is left of the original.
    """
    check_ledger(ledger)
    if code not in ("award", "correct"):
        raise InvalidInput("Manual credits are awards or corrections.")
    memo = (memo or "").strip()
    if not memo:
        raise InvalidInput("Say why the credit is given.", errors={"memo": ["Required."]})
    credit = member_account(member_id, ledger, unit_id=member_unit_id)
    if debit_account_id is None:
        source = "issuance" if code == "award" else "correction"
        debit_account_id = system_account(unit_id, ledger, source).id
    probe = TransferRequest(
        ledger=ledger,
        debit_account_id=debit_account_id,
        credit_account_id=credit.id,
        amount=amount,
        code=code,
        idempotency_key=idempotency_key,
        actor_id=requested_by_id,
        corrects_id=corrects_id,
        memo=memo,
    )
    validate(probe)
    # Locked before the key is looked up, as a posting does: a twin that committed while
    # we waited is seen, so of concurrent twins exactly one asks anew.
    lock_accounts([debit_account_id, credit.id])
    existing = _pending_by_key(idempotency_key)
    if existing is not None:
        if existing.body_hash != probe.body_hash():
            raise idempotency_conflict(idempotency_key)
        return ManualCreditResult(existing, replayed=True)
    if corrects_id is not None:
        check_correction_room(corrects_id, amount)
    pending = _save_pending(probe, unit_id)
    record_audit(
        "pending_credit.request", actor=requested_by_id, subject=member_id,
        target=f"pending_credit:{pending.id}", after=_summary(pending), detail=memo,
    )  # fmt: skip
    return ManualCreditResult(pending)


def _summary(pending: PendingCredit) -> dict:
    """What an audit row keeps of a manual credit."""
    summary = {"status": pending.status, "code": pending.code, "ledger": pending.ledger}
    summary["amount"] = pending.amount
    if pending.corrects_id is not None:
        summary["corrects"] = pending.corrects_id
    if pending.transfer_id is not None:
        summary["transfer"] = pending.transfer_id
    return summary


def _save_pending(request: TransferRequest, unit_id: int) -> PendingCredit:
    """Add the pending credit of ``request``; IdempotencyInProgress if its key was taken."""
    pending = PendingCredit(
        ledger=request.ledger,
        code=request.code,
        debit_account_id=request.debit_account_id,
        credit_account_id=request.credit_account_id,
        amount=request.amount,
        corrects_id=request.corrects_id,
        memo=request.memo,
        unit_id=unit_id,
        idempotency_key=request.idempotency_key,
        body_hash=request.body_hash(),
        requested_by_id=request.actor_id,
    )
    db.session.add(pending)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise IdempotencyInProgress(
            "A request with this idempotency key is being saved right now; retry it.",
        ) from None
    return pending


def check_correction_room(original_id: int, amount: int) -> None:
    """Raise CorrectionExceedsOriginal when the corrections of a transfer, ``amount``
    included, would exceed it; NotFound when there is no such transfer."""
    corrected = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Transfer.amount), 0)).where(
            Transfer.corrects_id == original_id
        )
    )
    original = get_transfer(original_id)
    if corrected + amount > original.amount:
        raise CorrectionExceedsOriginal(
            "Transfer %(id)s can be corrected by at most %(room)s more.",
            params={"id": original_id, "room": original.amount - corrected},
        )


def _lock_pending(pending_id: int) -> PendingCredit:
    query = sa.select(PendingCredit).where(PendingCredit.id == pending_id)
    if is_postgres():
        query = query.with_for_update()
    pending = db.session.scalar(query.execution_options(populate_existing=True))
    if pending is None:
        raise PendingCreditNotFound(
            "Pending credit %(id)s does not exist.",
            params={"id": pending_id},
        )
    return pending


@use_case
def approve_manual_credit(pending_id: int, *, approver_id: int) -> Transfer:
    """The second person approves: the credit posts, recording requester and approver.

    Nobody approves what they asked for or what pays them: the approver is neither the
    requester, nor the member credited, nor their guardian (access.pays_self_or_ward,
    the one rule for every credit: the ledger asks core, never the people module).
    Raises Forbidden (``four_eyes``) for those, Conflict when it was already decided, and
    whatever posting raises.
    """
    pending = _lock_pending(pending_id)
    if pending.requested_by_id == approver_id:
        raise FourEyes(
            "A manual credit needs a second person: you cannot approve your own request.",
        )
    beneficiary = get_account(pending.credit_account_id).member_id
    if access.pays_self_or_ward(approver_id, beneficiary):
        raise FourEyes("Another organizer must approve a credit that pays you or your ward.")
    if pending.status != "pending":
        raise AlreadyDecided(
            "This credit was already %(status)s.",
            params={"status": pending.status},
        )
    if pending.corrects_id is not None:
        # lock first, as correct_transfer does: two corrections of one transfer approved at
        # once must not both see the room before either posts
        lock_accounts([pending.debit_account_id, pending.credit_account_id])
        check_correction_room(pending.corrects_id, pending.amount)
    transfer = post_transfer(
        ledger=pending.ledger,
        debit_account_id=pending.debit_account_id,
        credit_account_id=pending.credit_account_id,
        amount=pending.amount,
        code=pending.code,
        idempotency_key=f"pending_credit:{pending.id}",
        actor_id=pending.requested_by_id,
        approver_id=approver_id,
        reference_type="pending_credit",
        reference_id=str(pending.id),
        corrects_id=pending.corrects_id,
        memo=pending.memo,
    )
    pending.status = "approved"
    pending.decided_by_id = approver_id
    pending.decided_at = utcnow()
    pending.transfer_id = transfer.id
    db.session.flush()
    record_audit(
        "pending_credit.approve", actor=approver_id, subject=beneficiary,
        target=f"pending_credit:{pending.id}", before={"status": "pending"},
        after=_summary(pending),
    )  # fmt: skip
    return transfer


@use_case
def reject_manual_credit(
    pending_id: int, *, approver_id: int, reason: str | None = None
) -> PendingCredit:
    """Reject a pending credit, optionally saying why (kept for the requester, at most
    500 characters). Conflict (``already_decided``) unless it is pending."""
    pending = _lock_pending(pending_id)
    if pending.status != "pending":
        raise AlreadyDecided(
            "This credit was already %(status)s.",
            params={"status": pending.status},
        )
    pending.status = "rejected"
    pending.decided_by_id = approver_id
    pending.decided_at = utcnow()
    pending.reject_reason = (reason or "").strip()[:500] or None
    db.session.flush()
    record_audit(
        "pending_credit.reject", actor=approver_id,
        subject=get_account(pending.credit_account_id).member_id,
        target=f"pending_credit:{pending.id}", before={"status": "pending"},
        after=_summary(pending), detail=pending.reject_reason,
    )  # fmt: skip
    return pending


def get_pending_credit(pending_id: int) -> PendingCredit:
    """Return the pending credit or raise NotFound."""
    pending = db.session.get(PendingCredit, pending_id)
    if pending is None:
        raise PendingCreditNotFound(
            "Pending credit %(id)s does not exist.",
            params={"id": pending_id},
        )
    return pending


def pending_credit_target(pending_id: int) -> Target:
    """What deciding a pending credit is done to: the unit whose organizers answer for it."""
    return Target(unit=get_pending_credit(pending_id).unit_id)


def count_pending_credits(unit_ids, *, created_before=None, not_requested_by=None) -> int:
    """Manual credits still waiting for a second organizer in ``unit_ids`` (ids, or a
    SELECT of them); ``created_before``: only those asked for before then;
    ``not_requested_by``: leave out what that member asked for (they may not decide it)."""
    query = sa.select(sa.func.count(PendingCredit.id)).where(
        PendingCredit.unit_id.in_(unit_ids), PendingCredit.status == "pending"
    )
    if created_before is not None:
        query = query.where(PendingCredit.created_at < created_before)
    if not_requested_by is not None:
        query = query.where(PendingCredit.requested_by_id != not_requested_by)
    return db.session.scalar(query)


def list_pending_credits(
    unit_ids, *, status: str = "pending", limit: int | None = None
) -> list[PendingCredit]:
    """Manual credits of ``status`` asked for in ``unit_ids`` (ids, or a SELECT of them):
    those waiting oldest first, decided ones newest first; at most ``limit``."""
    order = PendingCredit.id if status == "pending" else PendingCredit.id.desc()
    query = (
        sa.select(PendingCredit)
        .where(PendingCredit.unit_id.in_(unit_ids), PendingCredit.status == status)
        .order_by(order)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def requested_by(member_id: int, *, limit: int = 20) -> list[PendingCredit]:
    """The manual credits ``member_id`` asked for, newest first (their outcome and, for a
    rejected one, the reason)."""
    return list(
        db.session.scalars(
            sa.select(PendingCredit)
            .where(PendingCredit.requested_by_id == member_id)
            .order_by(PendingCredit.id.desc())
            .limit(limit)
        )
    )
