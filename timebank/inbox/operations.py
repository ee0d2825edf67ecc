"""Writing notifications in the recipient's language, once per key; reading and marking
them read. Delivery through the channels follows the commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.exc import IntegrityError

from timebank import LOCALES
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.core.db import insert_unless_taken
from timebank.core.formats import duration, points
from timebank.core.uow import after_commit
from timebank.core.urls import public_url
from timebank.core.usecases import use_case
from timebank.extensions import db
from timebank.inbox.channels import OutgoingMessage, deliver
from timebank.inbox.errors import NotificationNotFound
from timebank.inbox.kinds import KINDS
from timebank.inbox.models import LINK_MAX, TITLE_MAX, Notification
from timebank.people.models import Member

PAGE_MAX = 200


def language_of(member: Member) -> str:
    """The member's chosen language, else the deployment's default."""
    if member.locale in LOCALES:
        return member.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _in_words(params: dict) -> dict:
    """The parameters as the reader reads them, in the current locale: ``minutes`` (an
    int) also as ``time`` (1 h 30 min, 1小时30分钟), ``earned_points`` (an int) also as
    ``earned`` (10 points, 10 积分)."""
    shown = dict(params)
    if isinstance(params.get("minutes"), int):
        shown["time"] = duration(params["minutes"])
    if isinstance(params.get("earned_points"), int):
        shown["earned"] = points(params["earned_points"])
    return shown


def render(kind: str, params: dict, locale: str) -> tuple[str, str]:
    """(headline, message) of ``kind`` in ``locale``."""
    words = KINDS[kind]
    with force_locale(locale):
        shown = _in_words(params)
        title = gettext(words.title, **shown)
        body = gettext(words.body, **shown)
        # Chinese sentences follow one another without a space
        sep = "" if locale.startswith("zh") else " "
        if words.extra is not None and params.get(words.extra[0]):
            body = f"{body}{sep}{gettext(words.extra[1], **shown)}"
        for name, msgid in words.parts:
            if params.get(name):
                body = f"{body}{sep}{gettext(msgid, **shown)}"
    return title[:TITLE_MAX], body


@dataclass(frozen=True)
class Notice:
    """A notification to write: to ``member``, of ``kind``, once per ``key``."""

    member: Member
    kind: str
    key: str
    params: dict = field(default_factory=dict)
    link: str | None = None


def _written(notice: Notice, now: datetime) -> tuple[dict, OutgoingMessage]:
    """The notification's row, rendered in the member's language, and its message for the
    channels."""
    _check_kind(notice.kind)
    locale = language_of(notice.member)
    title, body = render(notice.kind, notice.params, locale)
    link = notice.link[:LINK_MAX] if notice.link else None
    row = {
        "member_id": notice.member.id, "kind": notice.kind, "key": notice.key, "title": title,
        "body": body, "link": link, "locale": locale, "created_at": now, "read_at": None,
    }  # fmt: skip
    message = OutgoingMessage(
        member_id=notice.member.id, phone=notice.member.phone, kind=notice.kind, title=title,
        body=body, url=public_url(notice.link) if notice.link else None,
    )  # fmt: skip
    return row, message


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; add it to inbox/kinds.py")


def _send_after_commit(message: OutgoingMessage) -> None:
    by_sms = KINDS[message.kind].by_sms
    after_commit(db.session, lambda: deliver(message, by_sms=by_sms))


def notify(
    member: Member,
    kind: str,
    *,
    key: str,
    params: dict | None = None,
    link: str | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """Write a notification to ``member`` in their language, once per ``key``, and send it
    through the channels after the commit.

    Returns the new notification, or None when ``key`` was used before (nothing changes:
    a job run twice, or a reminder already sent when the activity was cancelled).
    """
    _check_kind(kind)
    if db.session.scalar(sa.select(Notification.id).where(Notification.key == key)) is not None:
        return None
    row, message = _written(Notice(member, kind, key, params or {}, link), now or utcnow())
    notification = Notification(**row)
    try:
        with db.session.begin_nested():
            db.session.add(notification)
    except IntegrityError:
        return None  # written by a concurrent transaction with the same key
    _send_after_commit(message)
    return notification


def notify_many(notices: Sequence[Notice], *, now: datetime | None = None) -> list[str]:
    """``notify`` for many at once (a batch approval): the keys used before are read in
    one query and the others written in one ``INSERT ... ON CONFLICT DO NOTHING`` (a key a
    concurrent transaction wrote meanwhile is skipped, as ``notify`` skips it), each sent
    after the commit. Returns the keys written."""
    now = now or utcnow()
    written = {notice.key: _written(notice, now) for notice in notices}
    for key in used_keys(written):
        del written[key]
    if not written:
        return []
    insert = insert_unless_taken(Notification.__table__, Notification.__table__.c.key)
    keys = list(db.session.scalars(insert.values([row for row, _ in written.values()])))
    for key in keys:
        _send_after_commit(written[key][1])
    return keys


def used_keys(keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` already have a notification (one query per 500 keys)."""
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            db.session.scalars(sa.select(Notification.key).where(Notification.key.in_(chunk)))
        )
    return found


#: built once: every page's top bar asks it
_UNREAD = (
    sa.select(sa.func.count())
    .select_from(Notification)
    .where(Notification.member_id == sa.bindparam("member_id"), Notification.read_at.is_(None))
)


def unread_count(member_id: int) -> int:
    """How many of the member's notifications are unread (the top bar's count)."""
    return db.session.scalar(_UNREAD, {"member_id": member_id})


def list_notifications(
    member_id: int, *, unread_only: bool = False, before: int | None = None, limit: int = 50
) -> list[Notification]:
    """The member's notifications, newest first; ``before`` an id to page on."""
    query = (
        sa.select(Notification)
        .where(Notification.member_id == member_id)
        .order_by(Notification.id.desc())
        .limit(min(limit, PAGE_MAX))
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    return list(db.session.scalars(query))


def get_notification(notification_id: int) -> Notification:
    """The notification, or NotificationNotFound."""
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        raise NotificationNotFound(
            "Notification %(id)s does not exist.", params={"id": notification_id}
        )
    return notification


def notification_target(notification_id: int) -> Target:
    """What an action on a notification is done to: its recipient. NotFound if none."""
    return Target(member=get_notification(notification_id).member_id)


@use_case
def mark_read(notification: Notification, *, now: datetime | None = None) -> Notification:
    """Mark one notification read; marking it again keeps the first time."""
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        db.session.flush()
    return notification


@use_case
def mark_all_read(member_id: int, *, now: datetime | None = None) -> int:
    """Mark every unread notification of the member read; returns how many."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount
