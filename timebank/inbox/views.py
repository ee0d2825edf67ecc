"""Pages: the inbox, marking notifications read, and the unread count in the top bar."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from timebank.core import access
from timebank.core.schemas import MAX_ID
from timebank.core.web import ActionForm, page, safe_next
from timebank.inbox import operations as inbox

bp = Blueprint("inbox", __name__)
PAGE = 50


@bp.app_context_processor
def _unread_count():
    def inbox_unread() -> int | None:
        """The logged-in member's unread notifications: one count on an index."""
        if not current_user.is_authenticated:
            return None
        try:
            return inbox.unread_count(current_user.id)
        except SQLAlchemyError:  # an error page about the database still renders
            return None

    return {"inbox_unread": inbox_unread}


@bp.route("/inbox")
@page("me.inbox")
def index():
    member = access.current_actor()
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before <= MAX_ID:
        before = None  # a number SQLite cannot hold is no cursor
    items = inbox.list_notifications(member.id, before=before, limit=PAGE)
    return render_template(
        "inbox/index.html",
        items=items,
        unread=inbox.unread_count(member.id),
        next_cursor=items[-1].id if len(items) == PAGE else None,
        form=ActionForm(),
    )


@bp.route("/inbox/<int(max=2147483647):notification_id>/read", methods=["POST"])
@page("me.inbox", target=inbox.notification_target)
def mark_read(notification_id: int):
    if ActionForm().validate_on_submit():
        notification = inbox.mark_read(inbox.get_notification(notification_id))
        if request.form.get("open") and notification.link:
            return redirect(safe_next(notification.link) or url_for("inbox.index"))
    return redirect(url_for("inbox.index"))


@bp.route("/inbox/read-all", methods=["POST"])
@page("me.inbox")
def mark_all_read():
    if ActionForm().validate_on_submit():
        marked = inbox.mark_all_read(access.current_actor().id)
        flash(_("Marked read: %(count)s.", count=marked), "success")
    return redirect(url_for("inbox.index"))
