"""The address people reach this service at, for links that leave the page: join posters,
kiosk QR codes, messages sent by SMS and the links scheduled jobs write.

``TIMEBANK_BASE_URL`` names it when set. Unset, a page uses the address of the request
being answered (behind a proxy, set ``TIMEBANK_PROXY_FIX`` so the request knows it); a job
or the CLI, outside any request, uses the address ``timebank setup --url`` recorded (``make
run`` passes its own port), so the reminders a job writes open the same site the pages
are served at; with neither, the development server's address.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, has_request_context, request

DEVELOPMENT_URL = "http://127.0.0.1:5000"
#: where ``timebank setup --url`` records the address, in the app's instance folder
SITE_URL_FILE = "site-url"


def _recorded_path() -> Path:
    return Path(current_app.instance_path) / SITE_URL_FILE


def record_site_url(url: str) -> str:
    """Remember where the site answers, for jobs and the CLI (``timebank setup --url``).
    Returns the address as recorded (no trailing slash)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) > 300:
        raise ValueError(f"not a site address: {url!r}")
    path = _recorded_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(url + "\n", encoding="utf-8")
    return url


def recorded_site_url() -> str:
    """The address ``timebank setup --url`` recorded, or empty."""
    try:
        return _recorded_path().read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def base_url() -> str:
    """The service's public base address, without a trailing slash."""
    configured = current_app.config.get("TIMEBANK_BASE_URL") or ""
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return recorded_site_url() or DEVELOPMENT_URL


def public_url(path: str) -> str:
    """``path`` (starting with /) as an absolute address people can open."""
    return f"{base_url()}{path}"
