"""Limits written once and used by the API schema, the page form and the operation."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import validate
from wtforms.validators import NumberRange


@dataclass(frozen=True)
class Bounds:
    """An inclusive range of numbers, e.g. an activity's radius of 1 to 50,000 metres."""

    low: int | float
    high: int | float

    def __contains__(self, value) -> bool:
        return value is not None and self.low <= value <= self.high

    def schema(self) -> validate.Range:
        """The marshmallow validator (API schemas)."""
        return validate.Range(min=self.low, max=self.high)

    def form(self) -> NumberRange:
        """The WTForms validator (pages)."""
        return NumberRange(self.low, self.high)

    def message(self) -> str:
        return f"Between {self.low} and {self.high}."
