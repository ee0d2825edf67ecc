"""The edge contract: API views, pages, forms, and the one mapping from errors to HTTP.

- ``ApiView``: the base of every API resource; each request is one unit of work.
- ``page``: the decorator of every page; declares the action and runs one unit of work.
  A business rule that says no on a form is flashed in the user's language and the
  form is shown again with what the user typed, or the browser goes back.
- ``register_error_handlers``: problem+json for /api, a page in the user's language
  otherwise; the only place that maps errors to HTTP.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint as SmorestBlueprint
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from timebank.core import access
from timebank.core.access import Target
from timebank.core.db import SAFE_METHODS
from timebank.core.errors import (
    AuthenticationRequired,
    DomainError,
    problem,
    problem_from_domain_error,
    wants_problem,
)
from timebank.core.hygiene import check_request
from timebank.core.unavailable import database_refusal
from timebank.core.uow import unit_of_work


def is_api_request() -> bool:
    """The API, or the transparency log's public JSON: errors answer problem+json."""
    return wants_problem(request.path)


def uses_bearer_token(request) -> bool:
    """An API request that names its caller by a bearer token: it has no use for the
    cookie session (nor for the language a page session chose)."""
    return "HTTP_AUTHORIZATION" in request.environ and request.path.startswith("/api/")


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, the signer built once per set of keys instead of on
    every request. A bearer-token API request has no cookie session (pages have; the API
    knows its caller by the token alone), and a request whose session stayed empty and
    untouched writes nothing back."""

    def get_signing_serializer(self, app):
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        cached = getattr(self, "_signer", None)
        if cached is None or cached[0] != keys:
            self._signer = cached = (keys, super().get_signing_serializer(app))
        return cached[1]

    def open_session(self, app, request):
        if uses_bearer_token(request):
            return self.session_class()  # the cookie is neither read nor written back
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified and not session.accessed:
            return  # what Flask would do, without working out the cookie's settings first
        if uses_bearer_token(request):
            return  # the cookie was not read: nothing to write back, nothing to vary on
        super().save_session(app, session, response)


class ApiBlueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with one instance of each arguments schema: given a
    class, webargs builds the schema (deep-copying its fields) on every request."""

    def arguments(self, schema, **kwargs):
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, **kwargs)


class ApiView(MethodView):
    """A flask-smorest resource whose every request is one unit of work."""

    def dispatch_request(self, **kwargs):
        with unit_of_work():
            return super().dispatch_request(**kwargs)


# ---------------------------------------------------------------- forms


class Form(FlaskForm):
    """A form that can be shown again after a business rule said no.

    After a DomainError on submit, ``page`` flashes its message and renders the view
    again: the form then reports "not submitted", and keeps what the user typed.
    """

    def validate_on_submit(self, extra_validators=None) -> bool:
        if g.get("form_error") is not None:
            return False
        return super().validate_on_submit(extra_validators)


class ActionForm(Form):
    """Only the CSRF token: the form behind a button."""


def flash_form_errors(form: FlaskForm) -> None:
    """Flash each field's message with the field's own label, never its name."""
    for field_name, messages in form.errors.items():
        field = getattr(form, field_name, None)
        label = field.label.text if field is not None else field_name
        for message in messages:
            flash(f"{label}: {message}", "error")


# ---------------------------------------------------------------- pages

#: on_error value: show the page again, with the form as the user filled it in
REDISPLAY = "redisplay"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    cleaned = re.sub(r"[\x00-\x20\x7f\\]", "", target)
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    return cleaned


def back() -> str:
    """Where the form was (same site only), else the home page."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc == request.host:
        local = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
        if local:
            return local
    return url_for("people.home")


def redirect_to(endpoint: str, *url_args: str, anchor: str | None = None) -> Callable:
    """An ``on_error`` that flashes the refusal and redirects to ``endpoint`` with the
    named URL arguments."""

    def target(error: DomainError, kwargs: dict):
        flash(error.localized(), "error")
        values = {name: kwargs[name] for name in url_args}
        return redirect(url_for(endpoint, **values) + (f"#{anchor}" if anchor else ""))

    return target


def page(name: str, *, target: Callable[..., Target] | None = None, on_error=None):
    """Declare a page's action (core/access.py) and run it as one unit of work.

    A DomainError from the access check (401, 403, 404) or from a GET shows the error
    page. One from the body of a POST is flashed in the user's language, then:
    ``on_error=REDISPLAY`` renders the page again with the user's input; a callable
    ``(error, url_args) -> response`` answers; by default the browser goes back.
    """

    def decorate(view):
        checked = access.requires(name, target=target)(view)

        @functools.wraps(checked)
        def wrapper(**kwargs):
            try:
                with unit_of_work():
                    return checked(**kwargs)
            except DomainError as error:
                if request.method in SAFE_METHODS or not g.get("access_passed"):
                    raise
                if callable(on_error):
                    return on_error(error, kwargs)
                flash(error.localized(), "error")
                if on_error == REDISPLAY:
                    g.form_error = error
                    with unit_of_work():
                        return view(**kwargs)
                return redirect(back())

        return wrapper

    return decorate


# ---------------------------------------------------------------- errors to HTTP


def _rollback() -> None:
    import sqlalchemy as sa

    from timebank.extensions import db

    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:  # the database is gone: its connection is discarded
        db.session.close()


def _domain_error(error: DomainError):
    _rollback()  # an error raised outside a unit of work (e.g. a bad token) ends its reads
    if is_api_request():
        return problem_from_domain_error(error)
    if isinstance(error, AuthenticationRequired):
        return redirect(url_for("people.login", next=request.full_path.rstrip("?")))
    message = error.localized()
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    return (
        render_template("error.html", status=error.status, message=message),
        error.status,
        headers,
    )


def _http_error(error: HTTPException):
    from timebank.extensions import api

    return api.handle_http_exception(error)


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http_error(error)
    refusal = database_refusal(error)
    if refusal is not None:  # down or busy: 503 with Retry-After, nothing was saved
        current_app.logger.warning(
            "%s on %s %s: %s", refusal.code, request.method, request.path, error
        )
        return _domain_error(refusal)
    _rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if is_api_request():
        detail = "Something went wrong on our side; nothing was saved."
        return problem(500, "internal_error", detail)
    message = _("Something went wrong; nothing was saved.")
    return render_template("error.html", status=500, message=message), 500


def _csrf_error(error: CSRFError):
    if is_api_request() or request.is_json:
        return problem(400, "csrf_failed", "The form expired; reload the page and try again.")
    flash(_("The form expired. Please try again."), "error")
    return redirect(back())


#: pages run scripts from this site only (no inline script), and no site may frame them
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


#: the headers of every answer, of pages (HTML), and of answers over https
_ALWAYS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"))
_PAGES = (("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Frame-Options", "DENY"))
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(app) -> Callable:
    """The after-request hook adding the security headers a view did not set itself. They
    are constants, worked out once: whether answers go over https is known from
    TIMEBANK_BASE_URL when it is set (else each request's scheme says)."""
    configured = app.config.get("TIMEBANK_BASE_URL")
    https = configured.startswith("https://") if configured else None
    plain, html = _ALWAYS, _ALWAYS + _PAGES
    secure, secure_html = plain + (_HSTS,), html + (_HSTS,)

    def _security_headers(response):
        headers = response.headers
        is_page = response.mimetype == "text/html"
        if https if https is not None else request.scheme == "https":
            wanted = secure_html if is_page else secure
        else:
            wanted = html if is_page else plain
        present = {name.lower() for name, _ in headers.items()} if headers else ()
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response

    return _security_headers


def register_error_handlers(app) -> None:
    app.after_request(security_headers(app))
    app.before_request(check_request)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(Exception, _unexpected)
