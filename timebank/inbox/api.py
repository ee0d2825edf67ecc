"""/api/v1/me/notifications: the caller's inbox, and marking it read."""

from __future__ import annotations

from timebank.core import access
from timebank.core.access import requires
from timebank.core.web import ApiBlueprint, ApiView
from timebank.inbox import operations as inbox
from timebank.inbox.schemas import (
    MarkedSchema,
    NotificationListArgs,
    NotificationPageSchema,
    NotificationSchema,
)

blp = ApiBlueprint("inbox_api", __name__, url_prefix="/api/v1", description="The inbox")
NOTIFICATION = "/me/notifications/<int(max=2147483647):notification_id>"


@blp.route("/me/notifications")
class Notifications(ApiView):
    @requires("me.inbox")
    @blp.arguments(NotificationListArgs, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args):
        """The caller's notifications, newest first, and how many are unread;
        ``unread=true`` for unread ones only, ``before=next_cursor`` for more."""
        member = access.current_actor()
        items = inbox.list_notifications(
            member.id, unread_only=args["unread"], before=args.get("before"), limit=args["limit"]
        )
        return {
            "items": items,
            "unread": inbox.unread_count(member.id),
            "next_cursor": items[-1].id if len(items) == args["limit"] else None,
        }


@blp.route(f"{NOTIFICATION}/read")
class MarkRead(ApiView):
    @requires("me.inbox", target=inbox.notification_target)
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Mark one of the caller's notifications read (again: no change)."""
        return inbox.mark_read(inbox.get_notification(notification_id))


@blp.route("/me/notifications/read-all")
class MarkAllRead(ApiView):
    @requires("me.inbox")
    @blp.response(200, MarkedSchema)
    def post(self):
        """Mark all the caller's notifications read."""
        member = access.current_actor()
        return {"marked": inbox.mark_all_read(member.id), "unread": 0}
