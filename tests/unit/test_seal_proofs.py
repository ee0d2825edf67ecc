"""A certificate sealed in the transparency log: its signed file carries the signed HOURS
checkpoint and an inclusion proof of each ledger entry it counts, checked here with RFC
9162's algorithm and nothing of the server's; a tampered entry hash fails."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date

import pytest
import sqlalchemy as sa

from tests.reports_factories import at, credit, quarter_world
from tests.transparency_factories import rewrite_entry
from timebank.core import signing
from timebank.extensions import db
from timebank.ledger.models import Entry
from timebank.reports import operations as reports
from timebank.transparency import merkle
from timebank.transparency import operations as transparency
from timebank.transparency.operations import notes


@pytest.fixture
def w(app, clock):
    world = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    return world


def issue(w):
    cert = reports.issue_certificate(
        w["alice"], actor=w["organizer_a"], first=date(2026, 1, 1), last=date(2026, 3, 31),
        details=reports.IssueDetails("上坎社区居民委员会", "周主任", "0931-7550000"),
    )  # fmt: skip
    db.session.commit()
    return cert


def proofs_hold(document: dict) -> bool:
    """What an offline verifier does with the signed file and the published key alone."""
    seal = document["seal"]
    note = notes.parse_note(seal["checkpoint"])
    key_ok = notes.verify_note_signature(note, signing.key_name(), signing.public_key_bytes())
    ids = sorted(proof["entry_id"] for proof in seal["proofs"])
    named = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    content = json.loads(document["signed_content"])
    return (
        key_ok
        and note.size == seal["tree_size"]
        and named == content["entries_sha256"]
        and all(
            merkle.verify_inclusion(
                proof["leaf_index"], note.size,
                merkle.leaf_hash(bytes.fromhex(proof["entry_hash"])),
                [base64.b64decode(node) for node in proof["path"]], note.root,
            )
            for proof in seal["proofs"]
        )
    )  # fmt: skip


def test_a_certificate_issued_under_a_checkpoint_is_sealed_and_its_proofs_verify(w, clock):
    signed = transparency.sign_checkpoints(clock.now())
    hours = next(c for c in signed if c.ledger == "HOURS")
    cert = issue(w)
    assert cert.checkpoint_id == hours.id and cert.sealed_at == clock.now()
    document = reports.signed_document(cert)
    seal = document["seal"]
    assert seal["status"] == "sealed" and seal["tree_size"] == hours.tree_size
    assert seal["problem"] is None
    assert sorted(p["entry_id"] for p in seal["proofs"]) == sorted(json.loads(cert.entry_ids))
    stored = dict(db.session.execute(sa.select(Entry.id, Entry.hash)).all())
    assert all(p["entry_hash"] == stored[p["entry_id"]] for p in seal["proofs"])
    assert proofs_hold(document)
    found = reports.verify_certificate(cert.serial)
    assert found.matches and found.seal.sealed


def test_a_tampered_entry_hash_fails_the_proof(w, clock):
    transparency.sign_checkpoints(clock.now())
    cert = issue(w)
    document = reports.signed_document(cert)
    forged = json.loads(json.dumps(document))
    proof = forged["seal"]["proofs"][0]
    proof["entry_hash"] = hashlib.sha256(b"another entry").hexdigest()
    assert proofs_hold(document) and not proofs_hold(forged)
    # the proofs name other entries than the signed content does
    dropped = json.loads(json.dumps(document))
    dropped["seal"]["proofs"].pop()
    assert not proofs_hold(dropped)


@pytest.mark.concurrent
def test_an_entry_rewritten_behind_the_triggers_breaks_the_seal(w, clock):
    transparency.sign_checkpoints(clock.now())
    cert = issue(w)
    rewrite_entry(json.loads(cert.entry_ids)[0])
    seal = reports.certificate_seal(reports.get_certificate(cert.serial))
    assert seal.sealed and seal.problem in ("proofs", "log")
    found = reports.verify_certificate(cert.serial)
    assert "seal" in found.problems and not found.matches
    if seal.proofs:
        assert not proofs_hold(reports.signed_document(found.cert, seal))


def test_entries_after_the_newest_checkpoint_await_the_next_one(w, clock):
    transparency.sign_checkpoints(clock.now())
    # a later credit in the period: the checkpoint signed does not hold it yet
    credit(clock, w["alice"], w["grid_a"], w["organizer_a"], minutes=30, points=5,
           when=at("2026-03-30T02:00"), title="助老送餐")  # fmt: skip
    clock.freeze(at("2026-04-02T03:00"))
    cert = issue(w)
    assert cert.checkpoint_id is None
    assert reports.signed_document(cert)["seal"] == {"status": "awaiting"}
    assert reports.verify_certificate(cert.serial).matches
    signed = transparency.sign_checkpoints(clock.now())
    db.session.commit()
    db.session.refresh(cert)
    hours = next(c for c in signed if c.ledger == "HOURS")
    assert cert.checkpoint_id == hours.id
    assert proofs_hold(reports.signed_document(cert))


def test_a_revoked_certificate_is_not_sealed_later(w, clock):
    cert = issue(w)
    assert cert.checkpoint_id is None
    reports.revoke_certificate(cert.id, actor=w["organizer_b"], reason="时长登记有误")
    db.session.commit()
    transparency.sign_checkpoints(clock.now())
    db.session.commit()
    db.session.refresh(cert)
    assert cert.status == "revoked" and cert.checkpoint_id is None
