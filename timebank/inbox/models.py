from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.extensions import db

TITLE_MAX = 200
LINK_MAX = 300


class Notification(db.Model):
    """A message to one member, rendered in their language when it was written; sent on
    through the configured channels once, after the transaction that wrote it commits."""

    __tablename__ = "notifications"
    __table_args__ = (
        # the top bar's unread count on every page: one index-only count
        sa.Index("ix_notifications_member_read", "member_id", "read_at"),
    )

    #: primary key; newest first in the inbox
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the recipient (indexed by ix_notifications_member_read, which leads with it)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    #: what it is about: a key of inbox/kinds.py, e.g. activity_tomorrow
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: unique forever: the same key again writes nothing, e.g. remind:12:345:day_before
    key: Mapped[str] = mapped_column(sa.String(200), unique=True, nullable=False)
    #: the headline, in the recipient's language
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX), nullable=False)
    #: the message, in the recipient's language
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: a path on this site to act on it, e.g. /activities/12
    link: Mapped[str | None] = mapped_column(sa.String(LINK_MAX), nullable=True)
    #: the language it was written in: zh_CN or en
    locale: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: when it was written
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when the member marked it read; NULL while unread
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def read(self) -> bool:
        return self.read_at is not None

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} to={self.member_id} read={self.read}>"
