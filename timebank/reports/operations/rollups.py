"""The roll-up of a unit over a period: the ledger's flows and the evidence, for the unit
as a whole, for each unit directly below it, and month by month.

Sums of the parts equal the whole (each part is a subtree, and members, activities,
needs and shops attached to the unit itself form a part of their own); distinct counts
(volunteers, party members, residents served, shops) are counted over the whole again,
because one person may be active in two parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.activities.models import CATEGORY_NAMES
from timebank.extensions import db
from timebank.reports.operations.evidence import Evidence, evidence
from timebank.reports.operations.ledger_sums import (
    Flows,
    ledger_figures,
    party_members_among,
    units_to_parts,
)
from timebank.reports.periods import Period
from timebank.units.models import Unit

#: the figures of each part, in the order tables show them: (key, label)
PART_FIGURES = (
    ("hours_minutes", _l("Verified hours")),
    ("points", _l("Points earned")),
    ("volunteers", _l("Active volunteers")),
    ("party_members", _l("Active party members")),
    ("activities", _l("Activities held")),
    ("attendances", _l("Attendances")),
    ("needs_filed", _l("Needs filed")),
    ("needs_resolved", _l("Needs resolved")),
    ("projects_done", _l("Projects done")),
    ("redemptions", _l("Redemptions")),
)
#: figures that are sums (a whole is its parts' total); the others are distinct counts
SUMMED = (
    "hours_minutes", "points", "activities", "attendances", "needs_filed", "needs_resolved",
    "projects_done", "redemptions",
)  # fmt: skip


@dataclass
class Part:
    """A unit directly below the one reported on (or that unit itself, ``own=True``)."""

    unit: Unit
    own: bool = False
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(dict(PART_FIGURES), 0))


@dataclass
class Month:
    first: date
    hours: Flows = field(default_factory=Flows)
    points: Flows = field(default_factory=Flows)


@dataclass
class Category:
    code: str
    name: str
    activities: int
    attendances: int
    minutes: int


@dataclass
class Rollup:
    unit: Unit
    period: Period
    hours: Flows
    points: Flows
    volunteers: int
    party_members: int
    parts: list[Part]
    months: list[Month]
    categories: list[Category]
    evidence: Evidence

    @property
    def totals(self) -> dict[str, int]:
        """The whole's figures, keyed as a part's: sums, and distinct counts of the whole."""
        found = {key: sum(p.figures[key] for p in self.parts) for key in SUMMED}
        found["volunteers"] = self.volunteers
        found["party_members"] = self.party_members
        return found


def part_of_units(unit: Unit) -> tuple[list[Part], dict[int, Part]]:
    """The unit's parts (its children by name, then itself) and, for every unit of the
    subtree, the part it belongs to."""
    children = list(
        db.session.scalars(sa.select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.name))
    )
    parts = [Part(unit=child) for child in children] + [Part(unit=unit, own=True)]
    by_id = {p.unit.id: p for p in parts}  # the own part's id is the unit's
    mapping = units_to_parts(unit.id)  # the ledger's figures are summed by the same map
    rows = db.session.execute(sa.select(mapping.c.unit_id, mapping.c.part))
    return parts, {descendant: by_id[part] for descendant, part in rows}


def unit_rollup(unit: Unit, period: Period) -> Rollup:
    """Every figure of ``unit``'s subtree over ``period`` (see the module's docstring)."""
    parts, part_of = part_of_units(unit)
    months = [Month(first=m) for m in period.months()]
    hours, points = Flows(), Flows()
    by_id = {part.unit.id: part for part in parts}  # the own part's id is the unit's
    figures = ledger_figures(unit.id, period)
    for (part_id, bucket, ledger), flows in figures.cells.items():
        part = by_id[part_id]
        if ledger == "HOURS":
            hours.add(flows)
            months[bucket].hours.add(flows)
            part.figures["hours_minutes"] += flows.earned
        else:
            points.add(flows)
            months[bucket].points.add(flows)
            part.figures["points"] += flows.earned
    everyone: set[int] = set().union(*figures.earners.values())
    party = party_members_among(everyone)
    for part in parts:
        members = figures.earners.get(part.unit.id, set())
        part.figures["volunteers"] = len(members)
        part.figures["party_members"] = len(members & party)
    volunteers, party_members = len(everyone), len(everyone & party)
    found = evidence(unit.id, period)
    counters = {
        "activities": found.activities, "attendances": found.attendances,
        "needs_filed": found.needs_filed, "needs_resolved": found.needs_resolved,
        "projects_done": found.projects_done, "redemptions": found.redemptions,
    }  # fmt: skip
    for key, counter in counters.items():
        for unit_id, count in counter.items():
            part_of[unit_id].figures[key] += count
    categories = sorted(
        (
            Category(code, CATEGORY_NAMES.get(code, code), *cell)
            for code, cell in found.categories.items()
        ),
        key=lambda c: (-c.attendances, -c.activities, c.code),
    )
    return Rollup(
        unit=unit, period=period, hours=hours, points=points, volunteers=volunteers,
        party_members=party_members, parts=parts, months=months, categories=categories,
        evidence=found,
    )  # fmt: skip


def chart_data(rollup: Rollup) -> dict:
    """What the page's charts draw (also printed as tables beneath them)."""
    shown = [p for p in rollup.parts if not p.own or any(p.figures.values())]
    return {
        "hours_by_month": {
            "labels": [f"{m.first:%Y-%m}" for m in rollup.months],
            "values": [round(m.hours.earned / 60, 2) for m in rollup.months],
        },
        "services_by_category": {
            "labels": [str(c.name) for c in rollup.categories],
            "values": [c.attendances for c in rollup.categories],
        },
        "volunteers_by_part": {
            "labels": [p.unit.name for p in shown],
            "values": [p.figures["volunteers"] for p in shown],
        },
    }
