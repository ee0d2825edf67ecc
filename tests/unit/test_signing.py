"""The deployment's signing key: where it comes from, what it refuses, what it publishes."""

from __future__ import annotations

import base64

import pytest

from timebank.config import ConfigError, load_config
from timebank.core import signing


def test_a_configured_seed_signs_and_the_published_key_verifies(app, client, monkeypatch):
    seed = signing.generate_seed()
    app.config["TIMEBANK_SIGNING_KEY"] = seed
    app.config["TIMEBANK_SIGNING_NAME"] = "timebank.xiliugou.example"
    signature = signing.sign(b"checkpoint")
    published = client.get("/.well-known/timebank-keys").json
    public = base64.b64decode(published["public_key"])
    assert published["algorithm"] == "Ed25519" and published["name"] == "timebank.xiliugou.example"
    assert signing.verify(public, b"checkpoint", signature)
    assert not signing.verify(public, b"checkpoint!", signature)
    assert not signing.verify(public, b"checkpoint", bytes(64))
    # C2SP signed-note verifier key: name, 4-byte key id, base64(0x01 || key)
    name, key_id, encoded = published["verifier_key"].split("+", 2)
    assert name == "timebank.xiliugou.example" and key_id == published["key_id"]
    assert base64.b64decode(encoded) == b"\x01" + public


def test_without_a_seed_development_derives_one_from_the_secret_key(app):
    config = {"TIMEBANK_ENV": "development", "SECRET_KEY": "one", "TIMEBANK_SIGNING_KEY": ""}
    same = signing.load_signing_key(dict(config))
    other = signing.load_signing_key(dict(config, SECRET_KEY="two"))
    raw = [k.public_key().public_bytes_raw() for k in (signing.load_signing_key(config), same)]
    assert raw[0] == raw[1] != other.public_key().public_bytes_raw()


def test_production_refuses_to_start_without_a_well_formed_key(monkeypatch):
    monkeypatch.setenv("TIMEBANK_ENV", "production")
    monkeypatch.setenv("TIMEBANK_SECRET_KEY", "s" * 48)
    monkeypatch.delenv("TIMEBANK_SIGNING_KEY", raising=False)
    with pytest.raises(ConfigError, match="TIMEBANK_SIGNING_KEY is not set"):
        load_config()
    monkeypatch.setenv("TIMEBANK_SIGNING_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(ConfigError, match="32-byte"):
        load_config()
    monkeypatch.setenv("TIMEBANK_SIGNING_KEY", "not base64!")
    with pytest.raises(ConfigError, match="not base64"):
        load_config()
    monkeypatch.setenv("TIMEBANK_SIGNING_KEY", signing.generate_seed())
    assert load_config()["TIMEBANK_ENV"] == "production"


def test_the_cli_generates_a_seed_and_shows_the_public_key(app):
    runner = app.test_cli_runner()
    seed = runner.invoke(args=["keys", "generate"]).output.strip()
    assert len(base64.b64decode(seed)) == 32
    shown = runner.invoke(args=["keys", "show"])
    assert shown.exit_code == 0 and '"algorithm": "Ed25519"' in shown.output
