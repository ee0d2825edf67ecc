"""Hour-log photos: the bytes are checked (a JPEG, PNG or WebP by its signature, within
the size limit, whatever the file is called), stored under the photo folder with a random
name, and only ever read back from that folder. A photo written by a transaction that
rolls back is removed."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from timebank.core.throttle import PHOTOS_MEMBER
from timebank.core.uow import after_commit
from timebank.extensions import db
from timebank.projects.errors import InvalidPhoto, PhotoNotFound, PhotoTooLarge

#: the names this module gives photos; nothing else is ever opened
_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")
_NEW_FILES = "timebank_projects_new_photos"


def photo_dir() -> Path:
    return Path(current_app.config["TIMEBANK_PHOTO_DIR"]).resolve()


def max_bytes() -> int:
    return int(current_app.config["TIMEBANK_PHOTO_MAX_BYTES"])


def sniff_image(data: bytes) -> tuple[str, str]:
    """(media type, extension) of an image by its first bytes; InvalidPhoto otherwise."""
    if len(data) >= 32:
        if data[:3] == b"\xff\xd8\xff":
            return "image/jpeg", "jpg"
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            return "image/png", "png"
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return "image/webp", "webp"
    raise InvalidPhoto(
        "The photo must be a JPEG, PNG or WebP image.", errors={"photo": ["Not an image."]}
    )


def store_photo(data: bytes, *, member_id: int, replaces: str | None = None) -> tuple[str, str]:
    """Check and store a photo of ``member_id``'s hour log; returns (file name, media
    type). The file goes when the transaction rolls back; the photo it ``replaces`` goes
    once the transaction commits.

    Raises RateLimited past PHOTOS_MEMBER uploads, PhotoTooLarge, InvalidPhoto.
    """
    PHOTOS_MEMBER.take(str(member_id))
    limit = max_bytes()
    if len(data) > limit:
        raise PhotoTooLarge(
            "The photo is larger than %(mb).1f MB.",
            params={"mb": limit / 1_048_576},
            errors={"photo": ["Too large."]},
        )
    media_type, extension = sniff_image(data)
    folder = photo_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    temporary = folder / f".{name}.part"
    temporary.write_bytes(data)
    os.replace(temporary, folder / name)
    db.session.info.setdefault(_NEW_FILES, []).append(folder / name)
    if replaces and _NAME.match(replaces):
        old = folder / replaces
        after_commit(db.session, lambda: old.unlink(missing_ok=True))
    return name, media_type


def photo_path(name: str | None) -> Path:
    """The stored photo's path, never outside the photo folder; PhotoNotFound otherwise."""
    if not name or not _NAME.match(name):
        raise PhotoNotFound("There is no photo.")
    folder = photo_dir()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise PhotoNotFound("There is no photo.")
    return path


@event.listens_for(Session, "after_commit")
def _keep_new_photos(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_new_photos(session: Session, previous_transaction) -> None:
    for path in session.info.pop(_NEW_FILES, []):
        path.unlink(missing_ok=True)
