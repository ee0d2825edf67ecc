"""The DomainError tree and the one mapping from errors to problem+json.

Operations raise DomainError subclasses. Each subclass names its stable ``code`` and
its HTTP ``status`` as class attributes; nothing sets them on an instance. The unit of
work (core/uow.py) turns any of them, and any werkzeug HTTPException, into
``application/problem+json`` for the API, or a flashed message in the user's language
for pages.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar

from flask import jsonify


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message for extraction without translating it here (gettext_noop)."""
    return message


#: every error code and the classes that carry it (a code may come with two statuses,
#: e.g. ``token_expired``: a stale check-in code, 409, or a stale bearer token, 401)
ERROR_CODES: dict[str, list[type[DomainError]]] = {}


class DomainError(Exception):
    """A business rule said no. ``code`` is stable; ``message`` is for people.

    ``message`` is English with ``%(name)s`` placeholders filled from ``params``; it is
    also the msgid of its translations, so pages show ``localized()``.
    """

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    #: the unit of work commits what was flushed before raising (a counted failed attempt)
    commit_anyway: ClassVar[bool] = False
    #: the message when the raise site gives none
    default_message: ClassVar[str] = N_("The request cannot be carried out.")
    #: params whose value is a code said in the reader's words (a ledger: POINTS → 积分);
    #: each code is a msgid (core/words.py)
    word_params: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            ERROR_CODES.setdefault(cls.code, []).append(cls)

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: dict | None = None,
        params: dict | None = None,
        retry_after: int | None = None,
    ):
        #: English text with %(name)s placeholders: the msgid of its translations
        self.template = message or self.default_message
        self.params = params or {}
        self.message = self.template % self.params if self.params else self.template
        super().__init__(self.message)
        #: field name -> list of messages, for forms and the API's ``errors``
        self.errors = errors or {}
        #: seconds until a refused attempt may be tried again (429: the Retry-After header)
        self.retry_after = retry_after

    def __setattr__(self, name, value):
        if name in ("code", "status", "commit_anyway"):
            raise AttributeError(f"{name} belongs to the class {type(self).__name__}")
        super().__setattr__(name, value)

    def localized(self) -> str:
        """The message in the request's language (pages); the API keeps ``message``."""
        from flask_babel import gettext

        params = {
            key: gettext(value) if key in self.word_params and isinstance(value, str) else value
            for key, value in self.params.items()
        }
        return gettext(self.template, **params)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = N_("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = N_("You do not have permission to do that.")


class AuthenticationRequired(DomainError):
    code = "authentication_required"
    status = 401
    default_message = N_("Log in first.")


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    default_message = N_("The request has invalid fields.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = N_("That conflicts with the current state.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = N_("Too many attempts; try again later.")


class FourEyes(Forbidden):
    """Nobody approves what they asked for, or what pays them."""

    code = "four_eyes"


class NulCharacter(InvalidInput):
    code = "nul_character"
    default_message = N_("Text must not contain NUL characters.")


#: paths whose errors answer problem+json: the API, and the public transparency log's JSON
PROBLEM_PREFIXES = ("/api/", "/transparency/")


def wants_problem(path: str) -> bool:
    """Errors on ``path`` answer problem+json, not an HTML page."""
    return path.startswith(PROBLEM_PREFIXES)


def problem(status: int, code: str, detail: str, errors: dict | None = None, headers=None):
    """One JSON error shape for the whole API (RFC 9457 problem details)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {
        "type": f"urn:timebank:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_from_domain_error(error: DomainError):
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return problem(error.status, error.code, error.message, error.errors, headers)


HTTP_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
}


def problem_from_http_exception(error):
    """Map a werkzeug HTTPException (404, 405, 422 from webargs...) to problem+json."""
    status = error.code or 500
    errors = None
    detail = error.description or HTTPStatus(status).phrase
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        # webargs nests messages by location (json, query, ...); flatten to fields.
        errors = {}
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                errors.update(location_messages)
        detail = "The request has invalid fields: " + ", ".join(sorted(map(str, errors)))
    headers = {}
    if status == 405:
        allow = error.get_headers() if hasattr(error, "get_headers") else []
        headers = {k: v for k, v in allow if k.lower() == "allow"}
        if getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return problem(status, HTTP_CODES.get(status, "http_error"), detail, errors, headers)


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (stopped, restarting, a failover): nothing was
    saved; a retry with the same idempotency key is safe."""

    code = "database_unavailable"
    status = 503
    default_message = N_("The service cannot reach its database just now; try again shortly.")


class DatabaseBusy(DomainError):
    """A lock could not be had in time (SQLite's busy timeout, PostgreSQL's lock_timeout,
    a pool with no free connection): nothing was saved; try again."""

    code = "busy"
    status = 503
    default_message = N_("The service is busy just now; try again shortly.")
