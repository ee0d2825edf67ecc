"""Posting in batches (``post_groups``, ``credit_evidence``): each group decided as
``post_linked`` decides it, the accounts locked once for the whole batch."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.statements import recorded_statements
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.errors import IdempotencyConflict
from timebank.ledger.models import Transfer


@pytest.fixture
def crowd(app):
    d = factories.create_district()
    members = [factories.create_member(d["building_a"], password=None) for _ in range(3)]
    db.session.commit()
    return d, members


def evidence(member, unit, key, minutes=60, points=10):
    return ledger.Evidence(
        member_id=member.id, member_unit_id=member.home_unit_id, unit_id=unit.id,
        minutes=minutes, points=points, code="earn_checkin", reference_type="attendance",
        reference_id=key, idempotency_key=f"attendance:{key}", actor_id=None,
    )  # fmt: skip


def test_a_batch_replays_what_was_posted_before_and_posts_the_rest_once(crowd):
    d, (wang, li, zhao) = crowd
    [earlier] = ledger.credit_evidence([evidence(wang, d["a"], "1")])
    db.session.commit()
    with recorded_statements(raw=True) as statements:
        posted = ledger.credit_evidence([
            evidence(wang, d["a"], "1"), evidence(li, d["a"], "2"),
            evidence(zhao, d["a"], "3", points=0),
        ])  # fmt: skip
    assert [p.replayed for p in posted] == [True, False, False]
    assert [t.id for t in posted[0]] == [t.id for t in earlier]
    assert [t.ledger for t in posted[1]] == ["HOURS", "POINTS"]
    assert [t.ledger for t in posted[2]] == ["HOURS"]  # no points: nothing to post
    # each piece's two transfers are linked to each other, and to nothing else
    assert posted[1][0].link_id == posted[1][1].link_id != earlier[0].link_id
    assert posted[2][0].link_id is None
    # the accounts were locked once for the whole batch
    locks = [s for s in statements if s.startswith("SELECT id, ledger, kind") and "accounts" in s]
    assert len(locks) == 1, statements
    assert {m.id: ledger.balances(m.id)["HOURS"]["balance"] for m in (wang, li, zhao)} == {
        wang.id: 60, li.id: 60, zhao.id: 60,
    }  # fmt: skip
    assert ledger.verify_ledger().ok


def test_a_group_posted_only_in_part_or_with_another_body_posts_nothing(crowd):
    d, (wang, li, _) = crowd
    ledger.credit_evidence([evidence(wang, d["a"], "1", points=0)])  # HOURS only
    db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count(Transfer.id)))
    for batch in (
        [evidence(li, d["a"], "2"), evidence(wang, d["a"], "1")],  # now with POINTS too
        [evidence(li, d["a"], "2"), evidence(wang, d["a"], "1", minutes=90, points=0)],
    ):
        with pytest.raises(IdempotencyConflict):
            ledger.credit_evidence(batch)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Transfer.id))) == count
    assert ledger.balances(li.id)["HOURS"]["balance"] == 0


def test_a_batch_opens_the_accounts_it_lacks_in_one_step(crowd):
    d, members = crowd
    with recorded_statements(raw=True) as statements:
        ledger.credit_evidence([evidence(m, d["a"], str(m.id)) for m in members])
    opened = [s for s in statements if s.startswith("INSERT INTO accounts")]
    # the members' HOURS and POINTS accounts (one statement a ledger), the issuance accounts
    assert len(opened) == 4, opened
    assert all(ledger.balances(m.id)["POINTS"]["balance"] == 10 for m in members)
