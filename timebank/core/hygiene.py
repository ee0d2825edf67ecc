"""What arrives at the door is checked once, before any endpoint parses it.

Hostile input must get a clear 400 or 422, never a 500: JSON nested hundreds deep (a
RecursionError in the parser), numbers of thousands of digits (Python refuses to turn
them into ints), text with NUL or a lone surrogate (neither PostgreSQL nor UTF-8 can
store it), and ids written in other scripts' digits ("１２" is not 12).
"""

from __future__ import annotations

import json

from flask import request
from werkzeug.routing import IntegerConverter

from timebank.core.errors import N_, InvalidInput, NulCharacter

#: deeper JSON than any of our schemas needs is refused before it is parsed
MAX_JSON_DEPTH = 32
#: longer integers than an amount, an id or a count can be are refused
MAX_INT_DIGITS = 20


class BadJson(InvalidInput):
    code = "invalid_json"
    status = 400
    default_message = N_("The request body is not valid JSON.")


class InvalidText(InvalidInput):
    code = "invalid_text"
    default_message = N_("Text must be valid Unicode (no lone surrogate characters).")


class AsciiIntegerConverter(IntegerConverter):
    """``<int:...>`` in URLs takes ASCII digits only (werkzeug's takes any script's)."""

    regex = r"[0-9]+"


def _json_depth(raw: bytes) -> int:
    """The deepest nesting of brackets outside strings, without parsing (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadJson("A number in the request has too many digits.")
    return int(text)


def parse_json(raw: bytes):
    """The body as JSON; BadJson for anything our parsers could choke on."""
    # fewer brackets than the limit cannot nest deeper: most bodies skip the byte-by-byte walk
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_JSON_DEPTH and _json_depth(raw) > MAX_JSON_DEPTH:
        raise BadJson("The request body is nested too deeply.")
    try:
        return json.loads(raw, parse_int=_bounded_int)
    except BadJson:
        raise
    except (ValueError, RecursionError):
        raise BadJson() from None


def check_text(value) -> None:
    """NulCharacter or InvalidText for any string inside ``value`` (dicts, lists)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise NulCharacter()
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidText() from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


#: the bodies werkzeug parses into ``request.form`` (any other leaves it empty)
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _has_body() -> bool:
    """Whether the request says it carries a body (a length, or a chunked one)."""
    environ = request.environ
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or (
        "HTTP_TRANSFER_ENCODING" in environ
    )


def check_request() -> None:
    """before_request: refuse what no endpoint could store or parse safely."""
    if request.method in ("GET", "HEAD", "OPTIONS") and not _has_body():
        if "\x00" in request.path:
            raise NulCharacter()
        if request.query_string:
            check_text(request.args.to_dict(flat=False))
        return  # nothing sent but the path and the query: most GETs
    sent = [request.path]
    if request.query_string:
        sent.append(request.args.to_dict(flat=False))
    if request.mimetype in _FORMS:  # only these bodies are parsed into request.form
        sent.append(request.form.to_dict(flat=False))
    if request.is_json:
        raw = request.get_data(cache=True)
        if raw:
            sent.append(parse_json(raw))
    check_text(sent)
