"""Settlement: what a unit owes each merchant per local month, built from the ledger.

A statement counts the ``redeem`` transfers credited to the merchant's POINTS account in
the month and the refunds (correcting transfers) of those same transfers, whenever they
were made; points owed are the difference, yuan owed that times the deployment's rate
(TIMEBANK_POINT_VALUE_FEN). Rebuilding it from the ledger gives the same figures. Marking
it paid posts one ``settle`` transfer from the merchant's account to the unit's settlement
account; a paid statement never changes, so a redemption of a paid month is no longer
refunded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from timebank.core.access import Target
from timebank.core.audit import record_audit
from timebank.core.clock import utcnow
from timebank.core.errors import InvalidInput
from timebank.core.privacy import shown_name
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Account, Transfer
from timebank.merchants.errors import (
    InvalidMonth,
    StatementMismatch,
    StatementNotFound,
    StatementNothingOwed,
    StatementPaid,
    StatementPeriodOpen,
)
from timebank.merchants.models import Merchant, Offer, Redemption, Statement
from timebank.merchants.operations.limits import (
    local_midnight,
    local_zone,
    month_start,
    next_month,
)
from timebank.merchants.operations.news import tell_owner_paid
from timebank.people.models import Member
from timebank.units import operations as units

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIGURES = ("redemptions", "refunds", "points_redeemed", "points_refunded")


def parse_month(text: str | None) -> date:
    """The first day of ``YYYY-MM``; raises InvalidMonth."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) < 9999:
        raise InvalidMonth("Name a month as YYYY-MM.", errors={"month": ["YYYY-MM."]})
    return date(int(match.group(1)), int(match.group(2)), 1)


def current_month(now: datetime) -> date:
    return month_start(now.astimezone(local_zone()).date())


def previous_month(now: datetime) -> date:
    first = current_month(now)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_bounds(period_start: date) -> tuple[datetime, datetime]:
    """The local month starting ``period_start``, as [start, end) in UTC."""
    return local_midnight(period_start), local_midnight(next_month(period_start))


def point_value_fen() -> int:
    return current_app.config["TIMEBANK_POINT_VALUE_FEN"]


def merchant_account_id(merchant_id: int) -> int | None:
    """The merchant's POINTS account, without opening one (reads may not write)."""
    return db.session.scalar(
        sa.select(Account.id).where(
            Account.ledger == "POINTS", Account.owner_key == f"merchant:{merchant_id}"
        )
    )


def merchant_balance(merchant_id: int) -> int:
    """Points the merchant received and has not been settled for."""
    account_id = merchant_account_id(merchant_id)
    return db.session.get(Account, account_id).balance if account_id else 0


@dataclass(frozen=True)
class Figures:
    """A month of one merchant, as the ledger says."""

    redemptions: int = 0
    refunds: int = 0
    points_redeemed: int = 0
    points_refunded: int = 0

    @property
    def points_net(self) -> int:
        return self.points_redeemed - self.points_refunded


def _redeems_between(account_id: int, start: datetime, end: datetime):
    return (
        Transfer.credit_account_id == account_id,
        Transfer.code == "redeem",
        Transfer.created_at >= start,
        Transfer.created_at < end,
    )


def _redeems_in(account_id: int, period_start: date):
    return _redeems_between(account_id, *month_bounds(period_start))


def statement_figures(merchant_id: int, period_start: date) -> Figures:
    """The merchant's redeem transfers in the month and their refunds, from the ledger."""
    return figures_between(merchant_id, *month_bounds(period_start))


def figures_between(merchant_id: int, start: datetime, end: datetime) -> Figures:
    """The merchant's redeem transfers in [start, end) and their refunds, whenever made:
    a statement's figures, and the dashboard's day and month (so the two agree)."""
    account_id = merchant_account_id(merchant_id)
    if account_id is None:
        return Figures()
    redeemed = db.session.execute(
        sa.select(
            sa.func.count(Transfer.id), sa.func.coalesce(sa.func.sum(Transfer.amount), 0)
        ).where(*_redeems_between(account_id, start, end))
    ).one()
    refund = aliased(Transfer)
    refunded = db.session.execute(
        sa.select(sa.func.count(refund.id), sa.func.coalesce(sa.func.sum(refund.amount), 0))
        .join(Transfer, Transfer.id == refund.corrects_id)
        .where(*_redeems_between(account_id, start, end), refund.code == "correct")
    ).one()
    return Figures(
        redemptions=redeemed[0],
        refunds=refunded[0],
        points_redeemed=int(redeemed[1]),
        points_refunded=int(refunded[1]),
    )


@dataclass(frozen=True)
class StatementLine:
    """One redeem transfer of the month, with its redemption and any refund."""

    transfer_id: int
    at: datetime
    redemption_id: int
    member_name: str
    offer_title: str
    points: int
    refunded: int


class _Customer(NamedTuple):
    id: int
    home_unit_id: int
    name: str


def statement_lines(merchant_id: int, period_start: date) -> list[StatementLine]:
    """The month's redeem transfers, oldest first, each with what was refunded of it.
    Customers are named as the reader may see them (core/privacy.py): masked for the
    shop, as at its counter."""
    return lines_between(merchant_id, *month_bounds(period_start))


def lines_between(merchant_id: int, start: datetime, end: datetime) -> list[StatementLine]:
    """The redeem transfers of [start, end), as statement_lines (a day's close-out)."""
    account_id = merchant_account_id(merchant_id)
    if account_id is None:
        return []
    refund = aliased(Transfer)
    refunded = (
        sa.select(sa.func.coalesce(sa.func.sum(refund.amount), 0))
        .where(refund.corrects_id == Transfer.id, refund.code == "correct")
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            Transfer.id,
            Transfer.created_at,
            Redemption.id,
            Member.id,
            Member.home_unit_id,
            Member.name,
            Offer.title,
            Transfer.amount,
            refunded,
        )  # fmt: skip
        .join(Redemption, Redemption.transfer_id == Transfer.id)
        .join(Member, Member.id == Redemption.member_id)
        .join(Offer, Offer.id == Redemption.offer_id)
        .where(*_redeems_between(account_id, start, end))
        .order_by(Transfer.id)
    )
    return [
        StatementLine(
            row[0], row[1], row[2], shown_name(_Customer(*row[3:6])), row[6], row[7], row[8]
        )
        for row in rows
    ]


# ---------------------------------------------------------------- statements


def get_statement(statement_id: int) -> Statement:
    """Return the statement or raise StatementNotFound."""
    statement = db.session.get(Statement, statement_id)
    if statement is None:
        raise StatementNotFound("Statement %(id)s does not exist.", params={"id": statement_id})
    return statement


def statement_target(statement_id: int) -> Target:
    """What an action on a statement is done to: the unit that pays, the merchant paid,
    and its owner (``self_ok``)."""
    statement = get_statement(statement_id)
    return Target(
        unit=statement.unit_id, merchant=statement.merchant_id, member=statement.merchant.owner_id
    )


def _lock_statement(statement_id: int) -> Statement:
    statement = db.session.scalar(
        sa.select(Statement)
        .where(Statement.id == statement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if statement is None:
        raise StatementNotFound("Statement %(id)s does not exist.", params={"id": statement_id})
    return statement


def lock_merchant(merchant_id: int) -> Merchant:
    """The merchant's row, locked (FOR NO KEY UPDATE) by what must not overlap a
    settlement: marking a statement paid, and refunds."""
    return db.session.scalar(
        sa.select(Merchant)
        .where(Merchant.id == merchant_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def _apply(statement: Statement, figures: Figures, now: datetime) -> Statement:
    """Give an open statement the ledger's figures, or check a paid one still has them."""
    if statement.status == "paid":
        if any(getattr(statement, name) != getattr(figures, name) for name in FIGURES):
            raise StatementMismatch(
                "The paid statement %(id)s no longer matches the ledger.",
                params={"id": statement.id},
            )
        return statement
    for name in FIGURES:
        setattr(statement, name, getattr(figures, name))
    statement.points_net = figures.points_net
    statement.point_value_fen = point_value_fen()
    statement.amount_fen = figures.points_net * statement.point_value_fen
    statement.built_at = now
    db.session.flush()
    return statement


@use_case
def build_statement(merchant: Merchant, period_start: date, *, now: datetime | None = None):
    """The merchant's statement for the month starting ``period_start``: created, or
    rebuilt from the ledger while open. A paid one is checked, never changed.

    Raises InvalidMonth for a month that has not begun, StatementMismatch when a paid
    statement no longer matches the ledger.
    """
    now = now or utcnow()
    period_start = month_start(period_start)
    if period_start > current_month(now):
        raise InvalidMonth("%(month)s has not begun.", params={"month": f"{period_start:%Y-%m}"})
    figures = statement_figures(merchant.id, period_start)
    query = sa.select(Statement).where(
        Statement.merchant_id == merchant.id, Statement.period_start == period_start
    )
    statement = db.session.scalar(query.with_for_update())
    if statement is None:
        statement = Statement(
            merchant=merchant,
            unit_id=merchant.unit_id,
            period_start=period_start,
            point_value_fen=point_value_fen(),
            status="open",
            created_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(statement)
                db.session.flush()
        except IntegrityError:  # a twin built it meanwhile
            statement = db.session.scalar(query.with_for_update())
    return _apply(statement, figures, now)


def _worth_a_statement(merchant: Merchant, period_start: date) -> bool:
    """The shop redeemed something in the month, or already has its statement (rebuilt):
    a shop with nothing redeemed gets no ¥0 statement to "pay"."""
    if statement_figures(merchant.id, period_start) != Figures():
        return True
    return (
        db.session.scalar(
            sa.select(Statement.id).where(
                Statement.merchant_id == merchant.id,
                Statement.period_start == month_start(period_start),
            )
        )
        is not None
    )


@use_case
def build_unit_statements(unit_id: int, period_start: date, *, now: datetime | None = None):
    """Build (or rebuild) the month's statement of every shop of a subtree that was ever
    approved and redeemed something that month."""
    merchants = db.session.scalars(
        sa.select(Merchant)
        .where(
            Merchant.unit_id.in_(units.subtree_ids_select(unit_id)),
            Merchant.status.in_(("approved", "suspended")),
        )
        .order_by(Merchant.id)
    )
    return [
        build_statement(m, period_start, now=now)
        for m in list(merchants)
        if _worth_a_statement(m, period_start)
    ]


@use_case
def build_monthly_statements(now: datetime, *, period: date | None = None) -> list[Statement]:
    """Every merchant's statement for the local month before ``now`` (or ``period``), for
    those that redeemed something in it: for the scheduler at the start of each month,
    and ``timebank merchants statements``.
    Running it again rebuilds open statements with the same figures and leaves paid ones
    alone. Raises InvalidMonth for a month that has not begun."""
    period = previous_month(now) if period is None else period
    merchants = db.session.scalars(
        sa.select(Merchant)
        .where(Merchant.status.in_(("approved", "suspended")))
        .order_by(Merchant.id)
    )
    return [
        build_statement(m, period, now=now)
        for m in list(merchants)
        if _worth_a_statement(m, period)
    ]


@use_case
def mark_statement_paid(
    statement_id: int, *, actor: Member, reference: str | None = None, now: datetime | None = None
) -> Statement:
    """The unit paid the merchant: rebuild the figures from the ledger, post one ``settle``
    transfer of the points owed from the merchant's account to the unit's settlement
    account (none when nothing is owed), and close the statement for good.

    Raises StatementPaid, StatementPeriodOpen (the month has not ended),
    StatementNothingOwed (a ¥0 statement records no payment), and what posting raises.
    """
    now = now or utcnow()
    statement = _lock_statement(statement_id)
    if statement.status == "paid":
        raise StatementPaid("This statement was already paid.")
    if month_bounds(statement.period_start)[1] > now:
        raise StatementPeriodOpen(
            "%(month)s has not ended; pay it once it has.", params={"month": statement.month}
        )
    merchant = lock_merchant(statement.merchant_id)
    _apply(statement, statement_figures(merchant.id, statement.period_start), now)
    if statement.points_net <= 0:
        raise StatementNothingOwed(
            "Nothing is owed to %(name)s for %(month)s: there is no payment to record.",
            params={"name": merchant.name, "month": statement.month},
        )
    if statement.points_net > 0:
        transfer = ledger.post_transfer(
            ledger="POINTS",
            debit_account_id=ledger.merchant_account(merchant.id, "POINTS").id,
            credit_account_id=ledger.system_account(statement.unit_id, "POINTS", "settlement").id,
            amount=statement.points_net,
            code="settle",
            idempotency_key=f"statement:{statement.id}:settle",
            actor_id=actor.id,
            reference_type="statement",
            reference_id=str(statement.id),
            memo=f"{statement.month} {merchant.name}",
        )
        statement.settle_transfer_id = transfer.id
    statement.status = "paid"
    statement.paid_at = now
    statement.paid_by_id = actor.id
    statement.payment_reference = (reference or "").strip()[:120] or None
    db.session.flush()
    record_audit(
        "statement.pay", actor=actor, subject=merchant.owner_id, target=f"statement:{statement.id}",
        before={"status": "open"},
        after={"status": "paid", "merchant": merchant.id, "month": statement.month,
               "points": statement.points_net, "transfer": statement.settle_transfer_id},
        detail=statement.payment_reference,
    )  # fmt: skip
    tell_owner_paid(statement, merchant, now)
    return statement


@use_case
def pay_statements(
    unit_id: int,
    statement_ids: list[int],
    *,
    actor: Member,
    reference: str | None = None,
    now: datetime | None = None,
) -> list[Statement]:
    """Mark several statements of the subtree of ``unit_id`` paid with one payment
    reference (one bank transfer to several shops): all or none, each as
    mark_statement_paid, in id order. Each statement's unit is checked on its locked row.

    Raises InvalidInput for none or more than 100, StatementNotFound for one outside the
    subtree, and what mark_statement_paid raises for any of them.
    """
    ids = sorted(set(statement_ids))
    if not ids or len(ids) > 100:
        raise InvalidInput("Choose 1 to 100 statements.", errors={"statement_ids": ["1 to 100."]})
    paid = []
    for statement_id in ids:
        statement = _lock_statement(statement_id)
        if not units.is_within(statement.unit_id, unit_id):
            raise StatementNotFound("Statement %(id)s does not exist.", params={"id": statement_id})
        paid.append(mark_statement_paid(statement_id, actor=actor, reference=reference, now=now))
    return paid


def current_figures(statement: Statement) -> Figures:
    """What a statement says now: a paid one its frozen figures, an open one the ledger's
    as of this moment (it never goes stale waiting for a rebuild)."""
    if statement.status == "paid":
        return Figures(**{name: getattr(statement, name) for name in FIGURES})
    return statement_figures(statement.merchant_id, statement.period_start)


class StatementNow:
    """A statement as pages and exports show it: a paid one as paid, an open one with
    the ledger's figures as of ``as_of`` (the rest is the statement's own)."""

    def __init__(self, statement: Statement, now: datetime):
        self.statement = statement
        self.figures = current_figures(statement)
        paid = statement.status == "paid"
        #: when the figures are from: the payment, or now
        self.as_of = statement.paid_at if paid else now
        rate = statement.point_value_fen if paid else point_value_fen()
        self.point_value_fen = rate
        self.amount_fen = self.figures.points_net * rate
        #: an open statement whose stored figures the ledger has moved past
        self.rebuilt = not paid and any(
            getattr(statement, name) != getattr(self.figures, name) for name in FIGURES
        )

    def __getattr__(self, name):
        if name in FIGURES or name == "points_net":
            return getattr(self.figures, name)
        return getattr(self.statement, name)


def statements_now(statements: list[Statement], now: datetime | None = None) -> list:
    """Each statement as of ``now`` (StatementNow)."""
    now = now or utcnow()
    return [StatementNow(s, now) for s in statements]


def is_settled(merchant_id: int, moment: datetime) -> bool:
    """True when the statement of the month ``moment`` falls in was paid."""
    period = current_month(moment)
    status = db.session.scalar(
        sa.select(Statement.status).where(
            Statement.merchant_id == merchant_id, Statement.period_start == period
        )
    )
    return status == "paid"


def merchant_statements(merchant_id: int) -> list[Statement]:
    """A merchant's statements, newest month first."""
    query = sa.select(Statement).where(Statement.merchant_id == merchant_id)
    return list(db.session.scalars(query.order_by(Statement.period_start.desc())))


def unit_statements(unit_id: int, period_start: date) -> list[Statement]:
    """The month's statements of every shop of a subtree, by shop name."""
    query = (
        sa.select(Statement)
        .join(Merchant, Merchant.id == Statement.merchant_id)
        .where(
            Statement.unit_id.in_(units.subtree_ids_select(unit_id)),
            Statement.period_start == period_start,
        )
        .options(joinedload(Statement.merchant))
        .order_by(Merchant.name)
    )
    return list(db.session.scalars(query))


# ---------------------------------------------------------------- what waits


def _merchant_account_key():
    return sa.literal("merchant:") + sa.cast(Merchant.id, sa.String)


def count_statements_to_build(
    unit_ids, *, now: datetime | None = None, created_before: datetime | None = None
) -> int:
    """Shops of ``unit_ids`` (ids, or a SELECT of them) that redeemed points last month
    and have no statement of it yet; ``created_before``: only when the month ended
    before then (waiting that long)."""
    now = now or utcnow()
    period = previous_month(now)
    start, end = month_bounds(period)
    if created_before is not None and end >= created_before:
        return 0
    redeemed = (
        sa.select(Transfer.id)
        .join(Account, Account.id == Transfer.credit_account_id)
        .where(
            Account.ledger == "POINTS",
            Account.owner_key == _merchant_account_key(),
            Transfer.code == "redeem",
            Transfer.created_at >= start,
            Transfer.created_at < end,
        )
    )
    built = sa.select(Statement.id).where(
        Statement.merchant_id == Merchant.id, Statement.period_start == period
    )
    return db.session.scalar(
        sa.select(sa.func.count(Merchant.id)).where(
            Merchant.unit_id.in_(unit_ids),
            Merchant.status.in_(("approved", "suspended")),
            redeemed.exists(),
            ~built.exists(),
        )
    )


def _to_pay(unit_ids, now: datetime, created_before: datetime | None):
    clauses = [
        Statement.unit_id.in_(unit_ids),
        Statement.status == "open",
        Statement.period_start < current_month(now),
        Statement.points_net > 0,
    ]
    if created_before is not None:
        clauses.append(Statement.created_at < created_before)
    return clauses


def count_statements_to_pay(
    unit_ids, *, now: datetime | None = None, created_before: datetime | None = None
) -> int:
    """Open statements of ``unit_ids`` (ids, or a SELECT of them) of an ended month that
    owe the shop something (a ¥0 statement waits for nobody); ``created_before``: only
    those built before then."""
    now = now or utcnow()
    query = sa.select(sa.func.count(Statement.id)).where(*_to_pay(unit_ids, now, created_before))
    return db.session.scalar(query)


def oldest_month_to_pay(unit_ids, *, now: datetime | None = None) -> date | None:
    """The earliest month with a statement of ``unit_ids`` to pay, or None."""
    now = now or utcnow()
    query = sa.select(sa.func.min(Statement.period_start)).where(*_to_pay(unit_ids, now, None))
    return db.session.scalar(query)
