"""Reminders that look across modules: party members who have not served this quarter,
and organizers whose approvals wait (registrations, attendance held for review, credits
for a second organizer). Reminders about one activity live with activities
(activities/operations/reminders.py). Everything is sent through the inbox, once per key."""
