"""One use case per action: the operation that does one thing a person (or the CLI, or a
job) asks for, owning every rule, lookup and check beyond the registry's role check.

An API view, a page, a CLI command and a job only parse, call the use case and render
what it returns; ``@use_case`` marks the function they call, so a test
(tests/unit/test_use_cases.py) can read every writing endpoint and check that a page and
an API endpoint doing the same thing call the same function, and that no glue (a lookup
of another module's facts, a rule) sits in a view where it could drift.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

#: "module.function" -> the function, for every use case that was imported
USE_CASES: dict[str, Callable] = {}


def use_case(function: F) -> F:
    """Mark ``function`` as a use case; it is returned unchanged (no cost per call)."""
    function.timebank_use_case = True
    USE_CASES[f"{function.__module__}.{function.__qualname__}"] = function
    return function


def is_use_case(function) -> bool:
    return getattr(function, "timebank_use_case", False) is True
