"""Certificates sealed in the transparency log, through the API, the signed file, /verify
and the checkpoint job: a certificate issued before any checkpoint holds its entries
awaits its seal, and the job's next signing seals it."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES
from tests.reports_factories import at, quarter_world
from timebank import jobs
from timebank.extensions import db
from timebank.people.models import Member
from timebank.reports import operations as reports
from timebank.reports.models import Certificate
from timebank.transparency import operations as transparency
from timebank.transparency.models import SignedCheckpoint


@pytest.fixture
def w(app, clock):
    world = quarter_world(clock)
    clock.freeze(at("2026-04-02T02:00"))
    return world


def test_the_checkpoint_job_seals_a_certificate_issued_before_it(
    client, login, token_for, w, clock
):
    alice = w["alice"]
    cert = reports.issue_certificate(
        alice, actor=w["organizer_a"], first=date(2026, 1, 1), last=date(2026, 3, 31),
        details=reports.IssueDetails("上坎社区居民委员会", "周主任", "0931-7550000"),
    )  # fmt: skip
    db.session.commit()
    detail = client.get(f"/api/v1/certificates/{cert.serial}", headers=token_for(alice)).json
    assert detail["seal"] == {"status": "awaiting"} and detail["signed"]["seal"] == detail["seal"]
    page = client.get(f"/verify/{cert.serial}").get_data(as_text=True)
    assert 'data-seal="awaiting"' in page and "等待封存" in page and 'id="seal-data"' not in page
    client.post("/lang/en")
    page = client.get(f"/verify/{cert.serial}").get_data(as_text=True)
    assert "Awaiting seal" in page

    clock.freeze(at("2026-04-02T03:05"))
    done = jobs.sign_checkpoints(clock.now())
    db.session.commit()
    assert done["signed"] == 2
    hours = db.session.scalar(db.select(SignedCheckpoint).filter_by(ledger="HOURS"))

    detail = client.get(f"/api/v1/certificates/{cert.serial}", headers=token_for(alice)).json
    seal = detail["seal"]
    assert seal["status"] == "sealed" and seal["checkpoint_id"] == hours.id
    assert seal["tree_size"] == hours.tree_size and seal["checkpoint"].startswith(hours.origin)
    assert len(seal["proofs"]) == len(json.loads(cert.entry_ids)) == 2
    assert all(p["path"] and p["leaf_index"] < hours.tree_size for p in seal["proofs"])

    login(alice)
    signed = json.loads(client.get(f"/certificates/{cert.serial}/signed.json").data)
    assert signed["seal"] == seal
    printed = client.get(f"/certificates/{cert.serial}").get_data(as_text=True)
    assert f"Sealed in checkpoint {hours.tree_size}" in printed

    page = client.get(f"/verify/{cert.serial}").get_data(as_text=True)
    assert 'data-seal="sealed"' in page and 'id="seal-data"' in page
    assert f"checkpoint {hours.tree_size} of the hours log" in page
    assert "js/transparency.js" in page

    # the job's next run finds nothing to seal and signs nothing new
    assert jobs.sign_checkpoints(clock.now())["signed"] == 0


def test_the_verify_page_says_it_in_chinese(client, w, clock):
    transparency.sign_checkpoints(clock.now())
    cert = reports.issue_certificate(
        w["alice"], actor=w["organizer_a"], first=date(2026, 1, 1), last=date(2026, 3, 31),
    )  # fmt: skip
    db.session.commit()
    page = client.get(f"/verify/{cert.serial}").get_data(as_text=True)
    assert "在公开日志中的封存" in page and "时长日志的检查点" in page
    texts = page.split("data-texts='", 1)[1].split("'", 1)[0]
    assert "已在本浏览器中验证" in json.loads(texts)["ok"]  # the browser's verdict, in Chinese


@pytest.mark.concurrent
@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite's one writer serialises the two")
def test_a_revocation_committed_first_is_never_sealed_over(app, w, clock):
    """The seal's write re-checks the row it writes: a sealer that read the certificate
    as issued, then finds it revoked by another connection meanwhile, seals nothing."""
    transparency.sign_checkpoints(clock.now())
    cert = reports.issue_certificate(
        w["alice"], actor=w["organizer_a"], first=date(2026, 1, 1), last=date(2026, 3, 31)
    )
    db.session.commit()
    db.session.execute(
        sa.update(Certificate).where(Certificate.id == cert.id).values(checkpoint_id=None)
    )
    db.session.commit()
    cert_id, organizer_id = cert.id, w["organizer_b"].id
    read, revoked = threading.Event(), threading.Event()
    outcome = {}

    def sealer():
        with app.app_context():
            try:
                stale = db.session.get(Certificate, cert_id)
                assert stale.status == "issued"
                read.set()
                revoked.wait(10)
                outcome["sealed"] = reports.try_seal(stale, clock.now())
                db.session.commit()
            finally:
                db.session.remove()

    def revoker():
        with app.app_context():
            try:
                read.wait(10)
                actor = db.session.get(Member, organizer_id)
                reports.revoke_certificate(cert_id, actor=actor, reason="时长登记有误")
                db.session.commit()
            finally:
                revoked.set()
                db.session.remove()

    threads = [threading.Thread(target=sealer), threading.Thread(target=revoker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    final = db.session.get(Certificate, cert_id)
    assert outcome == {"sealed": False}
    assert final.status == "revoked" and final.checkpoint_id is None
