"""What people ask the ledger for, one use case each: a donation of one's hours, an award,
a correction. Each owns its lookups and checks beyond the registry's role check, so the
page and the API (and anything else) ask through the same function and get the same
answer: a donation the page refused can no longer be one the API accepts.

The ledger knows no people or units: it asks ``access`` (the registry) and
``core.names.lookup`` (who has a phone, a unit's line) what their owners registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from timebank.core import access
from timebank.core.access import Target
from timebank.core.errors import InvalidInput
from timebank.core.names import lookup, names_of
from timebank.core.privacy import mask_name, mask_phone
from timebank.core.usecases import use_case
from timebank.ledger.errors import InsufficientBalance, InvalidAmount
from timebank.ledger.operations.accounts import unit_of_transfer
from timebank.ledger.operations.corrections import CorrectionResult, correct_transfer
from timebank.ledger.operations.donations import DonationResult, check_donation, donate_hours
from timebank.ledger.operations.history import balances
from timebank.ledger.operations.manual import ManualCreditResult, request_manual_credit
from timebank.ledger.operations.posting import get_transfer

#: run after a donation reached a member (not a replay), with the recipient's and the
#: donor's ids, the minutes the recipient got, the note and the transfer: their news
_after_donation: list[Callable[..., object]] = []


def register_after_donation(hook: Callable[..., object]) -> None:
    """Run ``hook(recipient_id=, donor_id=, minutes=, memo=, transfer_id=)`` after each
    donation to a member (the ledger knows no inbox: its owner registers the news)."""
    if hook not in _after_donation:
        _after_donation.append(hook)


def donation_pools(donor) -> list:
    """The community pools ``donor`` (a member: ``id``, ``home_unit_id``) may give to:
    the units of their home's line above the building (grid, community, street)."""
    return [u for u in lookup("line_of_unit", donor.home_unit_id) if u.kind != "building"]


@dataclass(frozen=True)
class DonationPreview:
    """What a donation would do, shown for the donor to confirm before it is done: the
    recipient masked as anyone who is not an organizer sees them (``王**``, ``139****0001``),
    enough to catch a mistyped phone."""

    minutes: int
    recipient_id: int | None
    recipient_name: str
    recipient_phone: str
    pool_unit_id: int | None
    pool_name: str
    memo: str | None


def _recipient(donor, actor, recipient_id, recipient_phone, pool_unit_id):
    """(recipient id, their home unit) of a donation, checked: see ``donate``."""
    access.authorize(actor, "ledger.donate", Target(member=donor.id))
    if recipient_phone is not None:
        recipient_id = lookup("member_by_phone", recipient_phone)
        if recipient_id is None:
            raise InvalidInput(
                "Nobody active has this phone number.", errors={"phone": ["Not found."]}
            )
    recipient_unit_id = None
    if recipient_id is not None:
        recipient_unit_id = access.target_of("member", recipient_id).unit
    if pool_unit_id is not None and pool_unit_id not in {u.id for u in donation_pools(donor)}:
        raise InvalidInput(
            "Give to the pool of your own grid, community or street.",
            errors={"pool_unit_id": ["Not one of your pools."]},
        )
    check_donation(
        donor_id=donor.id, recipient_id=recipient_id, pool_unit_id=pool_unit_id,
        actor_id=actor.id,
    )  # fmt: skip
    return recipient_id, recipient_unit_id


def preview_donation(
    *,
    donor,
    actor,
    minutes: int,
    recipient_id: int | None = None,
    recipient_phone: str | None = None,
    pool_unit_id: int | None = None,
    memo: str | None = None,
) -> DonationPreview:
    """What ``donate`` with the same values would do, without doing it. Raises what
    ``donate`` raises before it posts, and InsufficientBalance when the donor's available
    hours are fewer than ``minutes`` (the donation checks that again under its lock)."""
    recipient_id, _unit = _recipient(donor, actor, recipient_id, recipient_phone, pool_unit_id)
    if minutes <= 0:
        raise InvalidAmount("The amount must be a positive whole number.")
    if balances(donor.id)["HOURS"]["available"] < minutes:
        raise InsufficientBalance("You do not have that many hours to give.")
    name = names_of("member", [recipient_id]).get(recipient_id, "") if recipient_id else ""
    pool = names_of("unit", [pool_unit_id]).get(pool_unit_id, "") if pool_unit_id else ""
    return DonationPreview(
        minutes=minutes,
        recipient_id=recipient_id,
        recipient_name=mask_name(name),
        recipient_phone=mask_phone(recipient_phone) if recipient_phone else "",
        pool_unit_id=pool_unit_id,
        pool_name=pool,
        memo=(memo or "").strip() or None,
    )


@use_case
def donate(
    *,
    donor,
    actor,
    minutes: int,
    idempotency_key: str,
    recipient_id: int | None = None,
    recipient_phone: str | None = None,
    pool_unit_id: int | None = None,
    memo: str | None = None,
) -> DonationResult:
    """``actor`` gives ``donor``'s hours (their own, or as guardian a ward's) to a member,
    named by id or by phone, or to one of the donor's community pools. Pages show
    ``preview_donation`` first, for the donor to confirm.

    Raises Forbidden unless the actor may give the donor's hours, InvalidInput
    (``phone``: nobody active has it; ``pool_unit_id``: not a pool of the donor's line,
    such as another community's or a building's), NotFound for a member id, and what
    ``donate_hours`` raises.
    """
    recipient_id, recipient_unit_id = _recipient(
        donor, actor, recipient_id, recipient_phone, pool_unit_id
    )
    memo = (memo or "").strip() or None
    result = donate_hours(
        donor_id=donor.id, donor_unit_id=donor.home_unit_id, minutes=minutes,
        idempotency_key=idempotency_key, recipient_id=recipient_id,
        recipient_unit_id=recipient_unit_id, pool_unit_id=pool_unit_id,
        memo=memo, actor_id=actor.id,
    )  # fmt: skip
    if recipient_id is not None and result.to_member and not result.replayed:
        for hook in _after_donation:
            hook(
                recipient_id=recipient_id, donor_id=donor.id, minutes=result.to_member,
                memo=memo, transfer_id=result.transfers[0].id,
            )  # fmt: skip
    return result


@use_case
def ask_award(
    *, member_id: int, ledger: str, amount: int, memo: str, idempotency_key: str, actor
) -> ManualCreditResult:
    """An organizer asks for an award to a member of their subtree, drawn from the
    member's unit's issuance account; it posts when a second organizer approves it.
    Raises NotFound, Forbidden, and what ``request_manual_credit`` raises."""
    target = access.target_of("member", member_id)
    access.authorize(actor, "ledger.award", target)
    return request_manual_credit(
        ledger=ledger, code="award", member_id=member_id, member_unit_id=target.unit,
        unit_id=target.unit, amount=amount, memo=memo, idempotency_key=idempotency_key,
        requested_by_id=actor.id,
    )  # fmt: skip


@use_case
def correct(
    *, transfer_id: int, amount: int, memo: str, idempotency_key: str, actor
) -> CorrectionResult:
    """An organizer of the unit that answers for a transfer corrects it (taking back posts
    at once; giving back waits for a second organizer). Raises TransferNotFound,
    Forbidden, and what ``correct_transfer`` raises."""
    original = get_transfer(transfer_id)
    unit_id = unit_of_transfer(original)
    access.authorize(actor, "ledger.correct", Target(unit=unit_id))
    return correct_transfer(
        original.id, amount=amount, memo=memo, idempotency_key=idempotency_key,
        actor_id=actor.id, unit_id=unit_id,
    )  # fmt: skip
