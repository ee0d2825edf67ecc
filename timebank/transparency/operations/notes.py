"""C2SP formats: tlog-checkpoint bodies, signed-note signature lines, and
tlog-cosignature/v1 (Ed25519) cosignatures. Pure functions, no database."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from timebank.core import signing

#: the signature line's prefix: an em dash and a space (U+2014 U+0020)
SIGNATURE_PREFIX = "\u2014 "
#: C2SP signature type of timestamped Ed25519 cosignatures
COSIGNATURE_TYPE = b"\x04"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The checkpoint text: origin, tree size, base64 root, each ending in a newline."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def signature_line(name: str, key_id: bytes, signature: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(key_id + signature).decode()}\n"


def signed_note(body: str, name: str, key_id: bytes, signature: bytes) -> str:
    """The note: its text, a blank line, one signature line."""
    return body + "\n" + signature_line(name, key_id, signature)


@dataclass(frozen=True)
class ParsedNote:
    body: str
    origin: str
    size: int
    root: bytes
    #: (name, decoded base64 value) of each signature line
    signatures: list[tuple[str, bytes]]


def parse_note(note: str) -> ParsedNote:
    """Split a signed checkpoint into its body, fields and signatures; ValueError if it
    is not one."""
    text, separator, rest = note.partition("\n\n")
    if not separator:
        raise ValueError("a signed note has a blank line before its signatures")
    lines = text.split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise ValueError("a checkpoint has an origin, a tree size and a root hash")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error as error:
        raise ValueError("the root hash is not base64") from error
    signatures = []
    for line in rest.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise ValueError("a signature line starts with an em dash and a space")
        name, _, value = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        signatures.append((name, base64.b64decode(value, validate=True)))
    return ParsedNote(text + "\n", lines[0], int(lines[1]), root, signatures)


def verify_note_signature(note: ParsedNote, name: str, public_key: bytes) -> bool:
    """The note carries a valid Ed25519 signature of ``name``'s key over its body."""
    wanted = signing.key_id(name, public_key)
    for signer, value in note.signatures:
        matches = signer == name and value[:4] == wanted and len(value) == 68
        if matches and signing.verify(public_key, note.body.encode(), value[4:]):
            return True
    return False


# ---------------------------------------------------------------- cosignatures


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name, newline, 0x04, key)[:4]: a cosignature key's C2SP key id."""
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_TYPE + public_key).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a cosigner signs: the header line, the time line, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class ParsedCosignature:
    key_id: bytes
    timestamp: int
    signature: bytes


def parse_cosignature(value: str) -> ParsedCosignature:
    """A cosignature line's value (or the whole line): base64 of key id (4 bytes),
    timestamp (8, big-endian) and Ed25519 signature (64). ValueError otherwise."""
    value = value.strip()
    if value.startswith(SIGNATURE_PREFIX):
        value = value.rpartition(" ")[2]
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error
    if len(raw) != 76:
        raise ValueError("a cosignature holds 76 bytes")
    timestamp = int.from_bytes(raw[4:12], "big")
    if timestamp >= 2**63:
        raise ValueError("the timestamp is out of range")
    return ParsedCosignature(raw[:4], timestamp, raw[12:])


def encode_cosignature(key_id: bytes, timestamp: int, signature: bytes) -> str:
    return base64.b64encode(key_id + timestamp.to_bytes(8, "big") + signature).decode()
