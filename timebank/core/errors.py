"""The DomainError tree and the one mapping from errors to HTTP.

Operations raise DomainError subclasses; ``problem_response`` turns any of them (and
any werkzeug HTTPException) into ``application/problem+json``; pages flash
``error.message`` instead.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import jsonify


class DomainError(Exception):
    """A business rule said no. ``code`` is stable; ``message`` is for people."""

    code = "domain_error"
    status = 400
    #: the edge commits what was flushed before raising (e.g. a counted failed attempt)
    commit_anyway = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: dict | None = None,
        params: dict | None = None,
    ):
        #: English text with %(name)s placeholders: the msgid of its translations
        self.template = message
        self.params = params or {}
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        if code:
            self.code = code
        self.errors = errors or {}

    def localized(self) -> str:
        """The message in the request's language (pages); the API keeps ``message``."""
        from flask_babel import gettext

        return gettext(self.template, **self.params)


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class AuthenticationRequired(DomainError):
    code = "authentication_required"
    status = 401


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class Conflict(DomainError):
    code = "conflict"
    status = 409


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


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
    return problem(error.status, error.code, error.message, error.errors)


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
