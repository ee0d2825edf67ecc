"""The transparency log over HTTP, on pages, from the CLI and the job table: public
without a login, hashes and counts only, bad input a 400/422 problem, never a 500."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests import factories
from tests.transparency_factories import ledger_entry_ids, post_entries
from timebank.core import signing
from timebank.extensions import db
from timebank.jobs import JOBS
from timebank.ledger import operations as ledger
from timebank.reports import operations as reports
from timebank.reports import periods
from timebank.scheduling import operations as scheduling
from timebank.scheduling.models import Alert
from timebank.transparency import merkle
from timebank.transparency import operations as transparency
from timebank.transparency.models import Cosignature, SignedCheckpoint
from timebank.transparency.operations import notes


@pytest.fixture
def logged(app, district):
    """Two signed checkpoints of each ledger, and entries since."""
    members = post_entries(30, unit=district["street"])
    transparency.sign_checkpoints()
    post_entries(11, unit=district["street"], members=members)
    transparency.sign_checkpoints()
    post_entries(2, unit=district["street"], members=members)
    transparency.append_entries()
    db.session.commit()
    return district


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_the_public_endpoints_need_no_login_and_prove_what_they_say(client, logged):
    note = client.get("/transparency/checkpoint")
    assert note.status_code == 200 and note.mimetype == "text/plain"
    assert note.headers["Access-Control-Allow-Origin"] == "*"
    parsed = notes.parse_note(note.get_data(as_text=True))
    assert parsed.size == 82 and parsed.origin.endswith("/hours")
    assert notes.verify_note_signature(parsed, signing.key_name(), signing.public_key_bytes())
    listed = client.get("/transparency/checkpoints?ledger=HOURS").json
    assert [c["tree_size"] for c in listed] == [82, 60]
    assert (
        client.get("/transparency/checkpoint?ledger=POINTS").get_data(as_text=True)
        == (client.get("/transparency/checkpoints?ledger=POINTS&limit=1").json[0]["note"])
    )
    proof = client.get("/transparency/proof/consistency?ledger=HOURS&from=60&to=82").json
    assert merkle.verify_consistency(
        60, 82, b64(listed[1]["root_hash"]), b64(listed[0]["root_hash"]),
        [b64(p) for p in proof["proof"]],
    )  # fmt: skip
    head = client.get("/transparency/head").json
    assert head["tree_size"] == 86
    proof = client.get("/transparency/proof/consistency?from=82&to=86").json
    assert merkle.verify_consistency(
        82, 86, b64(listed[0]["root_hash"]), b64(head["root_hash"]),
        [b64(p) for p in proof["proof"]],
    )  # fmt: skip
    ids = ledger_entry_ids("HOURS")
    answer = client.get(f"/transparency/proof/inclusion?entry={ids[5]}&entry={ids[70]}").json
    signed = notes.parse_note(answer["checkpoint"])
    for item, index in zip(answer["proofs"], (5, 70), strict=True):
        leaf = merkle.leaf_hash(bytes.fromhex(item["entry_hash"]))
        assert item["leaf_index"] == index and b64(item["leaf_hash"]) == leaf
        assert merkle.verify_inclusion(
            index, signed.size, leaf, [b64(p) for p in item["path"]], signed.root
        )


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/transparency/proof/consistency?from=10&to=5000", 422, "proof_beyond_tree"),
        ("/transparency/proof/consistency?from=50&to=20", 422, "proof_range_reversed"),
        ("/transparency/proof/consistency?from=ten&to=20", 422, "invalid_input"),
        ("/transparency/proof/consistency?from=1.5&to=20", 422, "invalid_input"),
        ("/transparency/proof/consistency?from=-1&to=20", 422, "invalid_input"),
        ("/transparency/proof/consistency?from=1&to=" + "9" * 40, 422, "invalid_input"),
        ("/transparency/proof/consistency?to=20", 422, "invalid_input"),
        ("/transparency/proof/consistency?ledger=GOLD&from=1&to=2", 422, "invalid_input"),
        ("/transparency/proof/inclusion?entry=x", 422, "invalid_input"),
        ("/transparency/proof/inclusion?entry=" + "9" * 30, 422, "invalid_input"),
        ("/transparency/proof/inclusion?entry=999999", 404, "entry_not_found"),
        ("/transparency/proof/inclusion?entry=1&size=" + "9" * 30, 422, "invalid_input"),
        ("/transparency/checkpoints?limit=abc", 422, "invalid_input"),
        ("/transparency/checkpoint?ledger=hours&x=1", 422, "invalid_input"),
    ],
)
def test_bad_input_is_a_problem_never_a_500(client, logged, url, status, code):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code


def test_a_log_without_checkpoints_says_so(client, app):
    response = client.get("/transparency/checkpoint")
    assert (response.status_code, response.json["code"]) == (404, "no_checkpoint")
    empty = base64.b64encode(merkle.EMPTY_ROOT).decode()
    assert client.get("/transparency/head").json == {
        "ledger": "HOURS", "tree_size": 0, "root_hash": empty,
    }  # fmt: skip


def test_an_entry_not_yet_signed_is_not_logged(client, logged):
    ids = ledger_entry_ids("HOURS")
    response = client.get(f"/transparency/proof/inclusion?entry={ids[-1]}")
    assert (response.status_code, response.json["code"]) == (404, "entry_not_logged")
    response = client.get(f"/transparency/proof/inclusion?entry={ids[0]}&size=3")
    assert (response.status_code, response.json["code"]) == (404, "checkpoint_not_found")
    both = client.get(
        f"/transparency/proof/inclusion?entry={ids[0]}&entry={ledger_entry_ids('POINTS')[0]}"
    )
    assert (both.status_code, both.json["code"]) == (422, "mixed_ledgers")


def _private_key() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return private, base64.b64encode(raw).decode()


def test_admins_sign_and_a_street_office_cosigns_through_the_api(client, logged, token_for):
    street = logged["street"]
    admin = factories.create_member(street, roles=("admin",))
    organizer = factories.create_member(logged["a"], roles=("organizer",))
    db.session.commit()
    signed = client.post("/api/v1/transparency/checkpoints", headers=token_for(admin))
    assert signed.status_code == 200
    assert [(c["ledger"], c["tree_size"]) for c in signed.json["signed"]] == [
        ("HOURS", 86), ("POINTS", 86),
    ]  # fmt: skip
    private, public = _private_key()
    refused = client.post(f"/api/v1/units/{logged['a'].id}/witness-keys",
                          json={"public_key": public}, headers=token_for(admin))  # fmt: skip
    assert (refused.status_code, refused.json["code"]) == (422, "not_a_street_office")
    assert client.post(f"/api/v1/units/{street.id}/witness-keys", json={"public_key": public},
                       headers=token_for(organizer)).status_code == 403  # fmt: skip
    made = client.post(f"/api/v1/units/{street.id}/witness-keys", json={"public_key": public},
                       headers=token_for(admin))  # fmt: skip
    assert made.status_code == 201, made.json
    checkpoint = db.session.get(SignedCheckpoint, signed.json["signed"][0]["id"])
    stamp = int(datetime.now(UTC).timestamp())
    value = notes.encode_cosignature(
        bytes.fromhex(made.json["key_id"]), stamp,
        private.sign(notes.cosigned_message(checkpoint.body, stamp)),
    )  # fmt: skip
    url = f"/api/v1/units/{street.id}/cosignatures"
    body = {"checkpoint_id": checkpoint.id}
    bad = client.post(url, json={**body, "signature": value[:-8] + "AAAAAAA="},
                      headers=token_for(admin))  # fmt: skip
    assert (bad.status_code, bad.json["code"]) == (422, "cosignature_invalid")
    good = client.post(url, json={**body, "signature": value},
                       headers=token_for(admin))  # fmt: skip
    assert good.status_code == 201, good.json
    note = client.get("/transparency/checkpoint").get_data(as_text=True)
    assert note.endswith(f"\u2014 {made.json['name']} {value}\n")
    assert client.get("/transparency/checkpoints").json[0]["cosigners"][0]["unit_name"] == (
        street.name
    )


def test_the_notice_board_shows_totals_and_checkpoints_without_names(client, app, district):
    from tests.unit.test_ledger import earn

    volunteer = factories.create_member(district["building_a"], name="王秀英", phone="13912345678")
    earn(volunteer, district["a"], minutes=90, points=20, key="attendance:1")
    transparency.sign_checkpoints()
    db.session.commit()
    page = client.get(f"/notice/{district['a'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "王秀英" not in html and "13912345678" not in html
    assert 'data-log-check data-ledger="HOURS"' in html and "<svg" in html
    assert f"/notice/{district['a'].id}?h=2." in html
    totals = {t.period: t for t in transparency.community_totals(district["a"].id)}
    assert totals["month"].credited == {"HOURS": 90, "POINTS": 20}
    assert totals["year"].volunteers == 1
    assert client.get(f"/notice/{district['street'].id}").status_code == 404
    assert client.get("/notice/999999").status_code == 404
    index = client.get("/notice").get_data(as_text=True)
    assert district["a"].name in index and "王秀英" not in index


def test_the_totals_count_credits_redemptions_refunds_and_expiry(app, district):
    """Hand-counted: what the notice board says for a community this month and year. Its
    figures are the reports' roll-up (the unit's report page says the same): 12 points
    redeemed, and the shop's refund of 2 is a correction, not a smaller redemption."""
    from tests.unit.test_ledger import earn

    a, b = district["a"], district["b"]
    alice = factories.create_member(district["building_a"])
    bob = factories.create_member(district["building_a"])
    carol = factories.create_member(district["building_b"])  # another community: not counted
    earn(alice, a, minutes=60, points=30, key="attendance:1")
    earn(bob, a, minutes=45, points=10, key="attendance:2")
    earn(carol, b, minutes=500, points=500, key="attendance:3")
    shop = ledger.merchant_account(1, "POINTS")
    alice_points = ledger.member_account(alice.id, "POINTS", unit_id=alice.home_unit_id)
    redeem = ledger.post_transfer(
        ledger="POINTS", debit_account_id=alice_points.id, credit_account_id=shop.id, amount=12,
        code="redeem", idempotency_key="redeem:1",
    )  # fmt: skip
    ledger.post_transfer(
        ledger="POINTS", debit_account_id=shop.id, credit_account_id=alice_points.id, amount=2,
        code="correct", corrects_id=redeem.id, idempotency_key="refund:1",
    )  # fmt: skip
    sink = ledger.system_account(alice.home_unit_id, "POINTS", "expiry")
    ledger.post_transfer(
        ledger="POINTS", debit_account_id=alice_points.id, credit_account_id=sink.id, amount=5,
        code="expire", idempotency_key="expire:1",
    )  # fmt: skip
    db.session.commit()
    month, year = transparency.community_totals(a.id)
    for period in (month, year):
        assert period.credited == {"HOURS": 105, "POINTS": 40}
        assert period.redeemed == {"HOURS": 0, "POINTS": 12}
        assert period.expired == {"HOURS": 0, "POINTS": 5}
        assert (period.volunteers, period.activities_held, period.people_served) == (2, 0, 0)
    later = datetime.now(UTC) + timedelta(days=400)
    assert transparency.community_totals(a.id, later)[1].credited == {"HOURS": 0, "POINTS": 0}
    report = reports.unit_rollup(a, periods.current("year"))
    assert (report.points.earned, report.points.redeemed) == (year.credited["POINTS"], 12)


def test_the_sign_page_and_the_witness_page(client, login, logged):
    street = logged["street"]
    admin = factories.create_member(street, roles=("admin",))
    volunteer = factories.create_member(logged["building_a"])
    db.session.commit()
    login(volunteer)
    assert client.get("/notice/sign").status_code == 403
    assert client.get(f"/units/{street.id}/witness").status_code == 403
    client.post("/logout")
    login(admin)
    page = client.get("/notice/sign").get_data(as_text=True)
    assert "86" in page and 'id="sign-now"' in page
    response = client.post("/notice/sign", follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.max(SignedCheckpoint.tree_size))) == 86
    witness = client.get(f"/units/{street.id}/witness")
    assert witness.status_code == 200 and "data-cosign" in witness.get_data(as_text=True)
    private, public = _private_key()
    client.post(f"/units/{street.id}/witness/key", data={"public_key": public})
    [key] = transparency.witness_keys(street.id)
    checkpoint = transparency.latest_checkpoint("HOURS")
    stamp = int(datetime.now(UTC).timestamp())
    value = notes.encode_cosignature(
        bytes.fromhex(key.key_id), stamp,
        private.sign(notes.cosigned_message(checkpoint.body, stamp)),
    )  # fmt: skip
    done = client.post(f"/units/{street.id}/witness/cosign",
                       data={"checkpoint_id": checkpoint.id, "signature": value},
                       follow_redirects=True)  # fmt: skip
    assert done.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cosignature)) == 1
    forged = client.post(f"/units/{street.id}/witness/cosign",
                         data={"checkpoint_id": checkpoint.id - 1, "signature": value},
                         follow_redirects=True)  # fmt: skip
    assert forged.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cosignature)) == 1


def test_the_cli_signs_and_ledger_verify_checks_the_log(app, logged):
    runner = app.test_cli_runner()
    signed = runner.invoke(args=["transparency", "sign"])
    assert signed.exit_code == 0, signed.output
    assert "/hours\n86\n" in signed.output
    status = runner.invoke(args=["transparency", "status"])
    assert "HOURS: 86 entries in the log" in status.output
    verified = runner.invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "HOURS transparency log: 86 leaves match their entries; 3 signed checkpoints" in (
        verified.output
    )


def test_the_jobs_append_and_sign_and_alert_on_an_inconsistent_log(app, logged):
    from tests.transparency_factories import rebuild_log, rewrite_entry

    now = datetime.now(UTC)
    [run] = scheduling.run_job(scheduling.find_job(JOBS, "sign-checkpoints"), now=now,
                               trigger="manual", runner="test")  # fmt: skip
    assert run.outcome == "ok" and run.counts == {"HOURS": 86, "POINTS": 86, "signed": 2}
    rewrite_entry(ledger_entry_ids("HOURS")[3])
    rebuild_log("HOURS")
    post_entries(1, unit=logged["street"])
    [run] = scheduling.run_job(scheduling.find_job(JOBS, "sign-checkpoints"), now=now,
                               trigger="manual", runner="test")  # fmt: skip
    assert run.outcome == "alert" and run.counts == {"problems": 1}
    alert = db.session.scalar(sa.select(Alert).where(Alert.key.like("alert:sign-checkpoints:%")))
    assert "HOURS" in alert.message and "nothing was signed" in alert.message
    [run] = scheduling.run_job(scheduling.find_job(JOBS, "append-log"), now=now,
                               trigger="manual", runner="test")  # fmt: skip
    assert run.outcome == "ok"
