"""Factories for the transparency log's tests: many entries at once, and an attacker with
database access who rewrites an entry behind the triggers' back (and, to hide it from
``ledger verify``, the log too)."""

from __future__ import annotations

import hashlib
import itertools

import sqlalchemy as sa

from tests import factories
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Entry
from timebank.transparency import operations as transparency
from timebank.transparency.models import LogHead, LogNode

_keys = itertools.count(1)


def post_entries(count: int, *, unit=None, members=None) -> list:
    """``count`` transfers of each ledger, interleaved (HOURS, POINTS, HOURS, ...), from the
    unit's issuance accounts to its members: 2·count entries per ledger. Returns the
    members, to pass again."""
    if unit is None:
        unit = factories.create_unit(kind="street")
    members = members or [factories.create_member(unit) for _ in range(3)]
    requests = []
    for n in range(count):
        member = members[n % len(members)]
        for name in ("HOURS", "POINTS"):
            issuance = ledger.system_account(unit.id, name, "issuance")
            account = ledger.member_account(member.id, name, unit_id=member.home_unit_id)
            key = next(_keys)
            requests.append(
                ledger.TransferRequest(
                    ledger=name,
                    debit_account_id=issuance.id,
                    credit_account_id=account.id,
                    amount=15 + n % 7,
                    code="earn_checkin",
                    idempotency_key=f"bulk:{key}",
                    reference_type="attendance",
                    reference_id=str(key),
                )  # fmt: skip
            )
    for start in range(0, len(requests), 200):
        ledger.post_linked(requests[start : start + 200])
    db.session.commit()
    return members


def ledger_entry_ids(name: str = "HOURS") -> list[int]:
    query = sa.select(Entry.id).join(ledger.ACCOUNTS, ledger.ACCOUNTS.c.id == Entry.account_id)
    return list(
        db.session.scalars(query.where(ledger.ACCOUNTS.c.ledger == name).order_by(Entry.id))
    )


def behind_triggers(table: str, *statements: str) -> None:
    """Run ``statements`` on ``table`` with its append-only triggers out of the way, as
    someone with the database's password could."""
    dialect = db.session.get_bind().dialect.name
    db.session.commit()
    if dialect == "postgresql":
        db.session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in statements:
            db.session.execute(sa.text(statement))
        db.session.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    else:
        triggers = db.session.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=:t"),
            {"t": table},
        ).all()
        for name, _sql in triggers:
            db.session.execute(sa.text(f"DROP TRIGGER {name}"))
        for statement in statements:
            db.session.execute(sa.text(statement))
        for _name, sql in triggers:
            db.session.execute(sa.text(sql))
    db.session.commit()
    db.session.expire_all()


def rewrite_entry(entry_id: int) -> None:
    """Change an entry's stored hash (as rewriting its amount and its chain would)."""
    old = db.session.get(Entry, entry_id).hash
    new = hashlib.sha256(f"{old} rewritten".encode()).hexdigest()
    behind_triggers("entries", f"UPDATE entries SET hash = '{new}' WHERE id = {entry_id}")


def rebuild_log(name: str = "HOURS") -> None:
    """The attacker's next step: recompute the ledger's log from the (rewritten) entries,
    so the log matches them again. Signed checkpoints cannot be recomputed without the key."""
    head = db.session.get(LogHead, name)
    upto = head.last_entry_id
    behind_triggers("transparency_nodes", f"DELETE FROM transparency_nodes WHERE ledger = '{name}'")
    db.session.execute(sa.delete(LogHead).where(LogHead.ledger == name))
    db.session.flush()
    transparency.append_ledger(name, upto, factories_now())
    db.session.commit()


def factories_now():
    from timebank.core.clock import utcnow

    return utcnow()


def stored_nodes(name: str = "HOURS") -> list[LogNode]:
    return list(db.session.scalars(sa.select(LogNode).where(LogNode.ledger == name)))
