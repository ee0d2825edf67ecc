"""The address people reach this service at, for links that leave the page: join posters,
kiosk QR codes, messages sent by SMS.

``TIMEBANK_BASE_URL`` names it when set. Unset, it is the address of the request being
answered (behind a proxy, set ``TIMEBANK_PROXY_FIX`` so the request knows it), and
outside any request (a job, the CLI) it is the development server's address.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request

DEVELOPMENT_URL = "http://127.0.0.1:5000"


def base_url() -> str:
    """The service's public base address, without a trailing slash."""
    configured = current_app.config.get("TIMEBANK_BASE_URL") or ""
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEVELOPMENT_URL


def public_url(path: str) -> str:
    """``path`` (starting with /) as an absolute address people can open."""
    return f"{base_url()}{path}"
