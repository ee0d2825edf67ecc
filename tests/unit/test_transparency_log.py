"""The log as stored: appending the ledger's entries, proofs read back from the database,
signing (never over a tree inconsistent with the last checkpoint), witnesses, and the
log's part of ``ledger verify``."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests import factories
from tests.transparency_factories import (
    behind_triggers,
    ledger_entry_ids,
    post_entries,
    rebuild_log,
    rewrite_entry,
    stored_nodes,
)
from timebank.core import signing
from timebank.core.clock import utcnow
from timebank.core.errors import DomainError
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import Entry
from timebank.transparency import merkle
from timebank.transparency import operations as transparency
from timebank.transparency.models import STRIDE, LogHead, SignedCheckpoint
from timebank.transparency.operations import notes


def expected_root(name: str = "HOURS", size: int | None = None) -> bytes:
    """The root computed here from the entries alone, without the log's code paths."""
    ids = ledger_entry_ids(name)[:size]
    hashes = {e.id: e.hash for e in db.session.scalars(sa.select(Entry).where(Entry.id.in_(ids)))}
    leaves = [merkle.leaf_hash(bytes.fromhex(hashes[i])) for i in ids]

    def mth(items):
        if not items:
            return merkle.EMPTY_ROOT
        if len(items) == 1:
            return items[0]
        k = merkle.split_point(len(items))
        return merkle.node_hash(mth(items[:k]), mth(items[k:]))

    return mth(leaves)


@pytest.fixture
def street(app):
    unit = factories.create_unit(kind="street")
    db.session.commit()
    return unit


def test_appending_takes_every_entry_in_id_order_and_stores_subtree_roots(street):
    post_entries(150, unit=street)  # 300 entries of each ledger
    counts = transparency.append_entries()
    db.session.commit()
    assert counts == {"HOURS": 300, "POINTS": 300}
    for name in ("HOURS", "POINTS"):
        head = db.session.get(LogHead, name)
        assert head.size == 300 and head.root_hash == expected_root(name).hex()
    nodes = stored_nodes("HOURS")
    assert sorted((n.level, n.idx) for n in nodes) == [(4, i) for i in range(18)] + [(8, 0)]
    ids = ledger_entry_ids("HOURS")
    block = next(n for n in nodes if (n.level, n.idx) == (4, 3))
    assert (block.first_entry_id, block.last_entry_id) == (ids[48], ids[63])
    assert transparency.append_entries() == {"HOURS": 0, "POINTS": 0}


def test_appending_in_batches_gives_the_same_log(street):
    members = None
    for count in (1, 7, 9, 16, 40, 3):
        members = post_entries(count, unit=street, members=members)
        transparency.append_entries()
        db.session.commit()
        assert db.session.get(LogHead, "HOURS").root_hash == expected_root().hex()
    assert db.session.get(LogHead, "HOURS").size == 2 * 76
    assert transparency.verify_logs()["HOURS"].problem is None


def test_proofs_read_back_from_the_database_verify(street):
    post_entries(70, unit=street)
    first = transparency.sign_checkpoints()
    post_entries(45, unit=street)
    second = transparency.sign_checkpoints()
    db.session.commit()
    old, new = first[0], second[0]
    assert (old.ledger, old.tree_size, new.tree_size) == ("HOURS", 140, 230)
    proof = transparency.consistency_proof("HOURS", old.tree_size, new.tree_size)
    assert merkle.verify_consistency(
        old.tree_size, new.tree_size, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash),
        proof.path,
    )  # fmt: skip
    for size in range(1, 231, 7):
        path = transparency.consistency_proof("HOURS", size, 230).path
        assert merkle.verify_consistency(
            size, 230, expected_root("HOURS", size), bytes.fromhex(new.root_hash), path
        )
    ids = ledger_entry_ids("HOURS")
    bundle = transparency.inclusion_proofs([ids[0], ids[17], ids[139], ids[229]])
    assert bundle.checkpoint.id == new.id and bundle.verify()
    assert [p.leaf_index for p in bundle.proofs] == [0, 17, 139, 229]
    older = transparency.inclusion_proofs([ids[3]], tree_size=old.tree_size)
    assert older.checkpoint.id == old.id and older.verify()
    assert transparency.checkpoint_covering(ids[139]).id == old.id
    assert transparency.checkpoint_covering(ids[140]).id == new.id


def test_proofs_refuse_what_they_cannot_prove(street):
    post_entries(10, unit=street)
    with pytest.raises(DomainError) as error:
        transparency.inclusion_proofs([ledger_entry_ids()[0]])
    assert error.value.code == "no_checkpoint"
    transparency.sign_checkpoints()
    post_entries(2, unit=street)
    late = ledger_entry_ids()[-1]
    for call, code in (
        (lambda: transparency.inclusion_proofs([late]), "entry_not_logged"),
        (lambda: transparency.checkpoint_covering(late), "entry_not_logged"),
        (lambda: transparency.inclusion_proofs([10**9]), "entry_not_found"),
        (lambda: transparency.inclusion_proofs(ledger_entry_ids("HOURS")[:1]
                                               + ledger_entry_ids("POINTS")[:1]), "mixed_ledgers"),
        (lambda: transparency.consistency_proof("HOURS", 5, 4), "proof_range_reversed"),
        (lambda: transparency.consistency_proof("HOURS", 1, 21), "proof_beyond_tree"),
        (lambda: transparency.inclusion_proofs(ledger_entry_ids()[:1], tree_size=7),
         "checkpoint_not_found"),
    ):  # fmt: skip
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.code == code


def test_checkpoints_are_c2sp_notes_signed_with_the_deployment_key(street):
    post_entries(5, unit=street)
    [hours, points] = transparency.sign_checkpoints()
    db.session.commit()
    name, public = signing.key_name(), signing.public_key_bytes()
    body = f"{name}/hours\n10\n{base64.b64encode(bytes.fromhex(hours.root_hash)).decode()}\n"
    assert hours.note.startswith(body + "\n\u2014 " + name + " ")
    value = base64.b64decode(hours.note.rsplit(" ", 1)[1])
    assert value[:4] == signing.key_id(name, public)
    assert signing.verify(public, body.encode(), value[4:])
    assert points.origin == f"{name}/points"
    # nothing new: nothing signed; a grown log: a new checkpoint
    assert transparency.sign_checkpoints() == []
    post_entries(1, unit=street)
    assert [c.tree_size for c in transparency.sign_checkpoints()] == [12, 12]


def test_signing_refuses_a_tree_inconsistent_with_the_last_checkpoint(street):
    """An attacker rewrites a signed entry and recomputes the log from the entries, so
    ``ledger verify`` would see no difference between them: the service still refuses to
    sign, and the consistency proof from the earlier checkpoint no longer verifies."""
    post_entries(40, unit=street)
    [old, _points] = transparency.sign_checkpoints()
    db.session.commit()
    rewrite_entry(ledger_entry_ids()[21])
    rebuild_log("HOURS")
    assert transparency.verify_logs()["HOURS"].problem is not None  # the checkpoint catches it
    post_entries(5, unit=street)
    with pytest.raises(DomainError) as error:
        transparency.sign_checkpoints()
    assert error.value.code == "log_inconsistent"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignedCheckpoint)) == 2
    transparency.append_entries()
    head = db.session.get(LogHead, "HOURS")
    proof = transparency.consistency_proof("HOURS", old.tree_size, head.size)
    assert not merkle.verify_consistency(
        old.tree_size, head.size, bytes.fromhex(old.root_hash), bytes.fromhex(head.root_hash),
        proof.path,
    )  # fmt: skip


def test_signing_and_appending_refuse_a_tampered_log(street):
    post_entries(40, unit=street)
    transparency.sign_checkpoints()
    db.session.commit()
    behind_triggers(
        "transparency_nodes",
        "UPDATE transparency_nodes SET hash = (SELECT hash FROM transparency_nodes WHERE "
        "ledger = 'HOURS' AND level = 4 AND idx = 0) WHERE ledger = 'HOURS' AND level = 4 "
        "AND idx = 2",
    )
    post_entries(3, unit=street)
    for call in (transparency.sign_checkpoints, transparency.append_entries):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.code == "log_inconsistent"
        db.session.rollback()


@pytest.mark.parametrize("damage", ["changed", "removed", "reordered"])
def test_verify_names_a_changed_missing_or_reordered_leaf(street, damage):
    post_entries(40, unit=street)
    transparency.append_entries()
    db.session.commit()
    ids = ledger_entry_ids()
    if damage == "changed":
        rewrite_entry(ids[20])
    elif damage == "removed":
        behind_triggers("entries", f"DELETE FROM entries WHERE id = {ids[20]}")
    else:
        a, b = db.session.get(Entry, ids[20]).hash, db.session.get(Entry, ids[21]).hash
        behind_triggers(
            "entries",
            f"UPDATE entries SET hash = '{b}' WHERE id = {ids[20]}",
            f"UPDATE entries SET hash = '{a}' WHERE id = {ids[21]}",
        )
    problem = transparency.verify_logs()["HOURS"].problem
    assert problem is not None and "HOURS log" in problem
    assert "16-31" in problem or "leaves" in problem
    report = ledger.verify_ledger()  # the ledger's own check, then the log's: both see it
    assert not report.ok


def test_verify_checks_every_checkpoint_and_cosignature(street):
    post_entries(20, unit=street)
    transparency.sign_checkpoints()
    db.session.commit()
    report = ledger.verify_ledger()
    assert report.ok, report.problem
    assert report.extra["transparency"]["HOURS"] == {
        "leaves": 40, "checkpoints": 1, "cosignatures": 0,
    }  # fmt: skip
    forged = SignedCheckpoint(
        ledger="HOURS", origin="x/hours", tree_size=39, root_hash="00" * 32, key_id="00000000",
        note="x/hours\n39\nAAAA\n\n\u2014 x AAAA\n", signed_at=utcnow(),
    )  # fmt: skip
    db.session.add(forged)
    db.session.commit()
    problem = transparency.verify_logs()["HOURS"].problem
    assert f"checkpoint {forged.id}" in problem and "signature" in problem


def _witness(street):
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = transparency.register_witness_key(
        street.id, base64.b64encode(public).decode(), actor_id=None
    )
    return private, key


def _cosign(private, key, checkpoint, when):
    stamp = int(when.timestamp())
    signature = private.sign(notes.cosigned_message(checkpoint.body, stamp))
    return notes.encode_cosignature(bytes.fromhex(key.key_id), stamp, signature)


def test_a_street_office_cosigns_with_its_own_key(street):
    post_entries(8, unit=street)
    [checkpoint, _] = transparency.sign_checkpoints()
    private, key = _witness(street)
    assert key.name == f"{signing.key_name()}/witness/{street.id}"
    expected_id = hashlib.sha256(
        key.name.encode() + b"\n\x04" + base64.b64decode(key.public_key)
    ).digest()[:4]
    assert key.key_id == expected_id.hex()
    value = _cosign(private, key, checkpoint, utcnow())
    made = transparency.add_cosignature(checkpoint.id, street.id, value, actor_id=None)
    again = transparency.add_cosignature(
        checkpoint.id, street.id, "\u2014 w " + value, actor_id=None
    )
    assert again.id == made.id
    [shown] = transparency.published([checkpoint])
    assert shown.note.endswith(f"\u2014 {key.name} {value}\n")
    db.session.commit()
    assert transparency.verify_logs()["HOURS"].cosignatures == 1
    # forged, from the future, from another key, or for a unit that is no street office
    other, _ = Ed25519PrivateKey.generate(), None
    for bad in (
        value[:-4] + "AAA=",
        _cosign(private, key, checkpoint, utcnow() + timedelta(hours=2)),
        _cosign(other, key, checkpoint, utcnow()),
        "not base64!",
    ):
        with pytest.raises(DomainError) as error:
            transparency.add_cosignature(checkpoint.id, street.id, bad, actor_id=None)
        assert error.value.code == "cosignature_invalid"
    community = factories.create_unit(parent=street)
    for unit_id, public_key, code in (
        (community.id, key.public_key, "not_a_street_office"),
        (street.id, key.public_key, "witness_key_taken"),
        (street.id, "c2hvcnQ=", "witness_key_invalid"),
    ):
        with pytest.raises(DomainError) as error:
            transparency.register_witness_key(unit_id, public_key, actor_id=None)
        assert error.value.code == code


def test_the_horizon_on_sqlite_is_the_newest_entry(street, app):
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL's horizon is tested with open transactions (integration)")
    post_entries(3, unit=street)
    assert transparency.entry_horizon() == max(
        ledger_entry_ids("HOURS") + ledger_entry_ids("POINTS")
    )


def test_stride_blocks_hold_sixteen_leaves():
    assert STRIDE == 4


def test_a_long_backlog_is_appended_over_several_runs(street, monkeypatch):
    from timebank.transparency.operations import log as log_module

    post_entries(50, unit=street)  # 100 entries of each ledger
    monkeypatch.setattr(log_module, "CHUNK", 16)
    assert transparency.append_entries(limit=32) == {"HOURS": 32, "POINTS": 32}
    head = db.session.get(LogHead, "HOURS")
    assert (head.size, head.last_entry_id) == (32, ledger_entry_ids()[31])
    assert head.root_hash == expected_root("HOURS", 32).hex()
    runs = [transparency.append_entries(limit=32)["HOURS"] for _ in range(3)]
    assert runs == [32, 32, 4]
    assert db.session.get(LogHead, "HOURS").root_hash == expected_root().hex()
    assert transparency.verify_logs()["POINTS"].problem is None
