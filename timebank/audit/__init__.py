"""Admins search and export the audit trail (the table lives in core/audit.py)."""
