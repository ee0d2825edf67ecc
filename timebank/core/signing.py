"""The deployment's Ed25519 signing key: what signs certificates and checkpoints.

The key comes from TIMEBANK_SIGNING_KEY (the 32-byte private seed, base64; make one with
``timebank keys generate``). Development and testing derive one from the secret key, so
nothing needs setting on one's own machine; production refuses to start without one (two
instances would otherwise sign with different keys, and a rotated secret key would
silently change the published one).

Anyone checks a signature with the public key published at /.well-known/timebank-keys
(``public_key_document``), offline too. Names and key ids follow C2SP's signed-note
format, so a checkpoint signed here can be checked by any note verifier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from flask import Blueprint, Flask, current_app, jsonify

#: C2SP signed-note signature type of Ed25519 keys
ED25519_TYPE = b"\x01"
_CACHE = "timebank.signing_key"


class SigningKeyError(RuntimeError):
    """TIMEBANK_SIGNING_KEY is missing (in production) or not a base64 Ed25519 seed."""


def generate_seed() -> str:
    """A new private seed, base64, for TIMEBANK_SIGNING_KEY."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode()


def load_signing_key(config: dict) -> Ed25519PrivateKey:
    """The key ``config`` describes. Raises SigningKeyError for a malformed seed, or for
    none in production."""
    seed = (config.get("TIMEBANK_SIGNING_KEY") or "").strip()
    if seed:
        try:
            raw = base64.b64decode(seed, validate=True)
        except binascii.Error as error:
            raise SigningKeyError("TIMEBANK_SIGNING_KEY is not base64.") from error
        if len(raw) != 32:
            raise SigningKeyError(
                f"TIMEBANK_SIGNING_KEY must be a 32-byte Ed25519 seed, not {len(raw)} bytes."
            )
        return Ed25519PrivateKey.from_private_bytes(raw)
    if config.get("TIMEBANK_ENV") == "production":
        raise SigningKeyError(
            "TIMEBANK_SIGNING_KEY is not set. Production refuses to sign certificates and "
            "checkpoints with a derived key. Make one with `timebank keys generate` and keep "
            "it as safe as the database backups."
        )
    derived = hashlib.sha256(b"timebank signing key\x00" + config["SECRET_KEY"].encode())
    return Ed25519PrivateKey.from_private_bytes(derived.digest())


def signing_key(app: Flask | None = None) -> Ed25519PrivateKey:
    """The app's key, loaded once."""
    app = app or current_app._get_current_object()
    key = app.extensions.get(_CACHE)
    if key is None:
        key = app.extensions[_CACHE] = load_signing_key(app.config)
    return key


def key_name(app: Flask | None = None) -> str:
    """The name the deployment signs under: TIMEBANK_SIGNING_NAME, else the host of
    TIMEBANK_BASE_URL, else ``timebank``."""
    config = (app or current_app).config
    named = config.get("TIMEBANK_SIGNING_NAME") or urlsplit(config["TIMEBANK_BASE_URL"]).netloc
    return named or "timebank"


def public_key_bytes(app: Flask | None = None) -> bytes:
    """The raw 32-byte public key."""
    return (
        signing_key(app)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def sign(message: bytes, app: Flask | None = None) -> bytes:
    """The 64-byte Ed25519 signature of ``message``."""
    return signing_key(app).sign(message)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_id(name: str, public_key: bytes) -> bytes:
    """C2SP signed-note key id: the first 4 bytes of SHA-256(name, newline, type, key)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """A signed-note verifier key: ``<name>+<key id hex>+<base64(type, key)>``."""
    encoded = base64.b64encode(ED25519_TYPE + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def public_key_document(app: Flask | None = None) -> dict:
    """What /.well-known/timebank-keys publishes about the deployment's key."""
    name, public = key_name(app), public_key_bytes(app)
    return {
        "algorithm": "Ed25519",
        "name": name,
        "public_key": base64.b64encode(public).decode(),
        "key_id": key_id(name, public).hex(),
        "verifier_key": verifier_key(name, public),
    }


from timebank.core.web import page  # noqa: E402 (the blueprint below is its only user)

bp = Blueprint("signing", __name__)


@bp.route("/.well-known/timebank-keys")
@page("site.public")
def published_key():
    """The deployment's public key, for checking certificates and checkpoints offline."""
    response = jsonify(public_key_document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
