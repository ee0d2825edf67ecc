"""The inbox: notifications to members, written in the recipient's language, listed on
/inbox and by GET /api/v1/me/notifications, and sent on through channel adapters (SMS,
WeChat: a logging one by default)."""
