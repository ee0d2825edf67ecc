"""Factory functions for the three lists (kept apart from factories.py, which other modules
grow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import factories
from timebank.projects import operations as projects

#: a fixed clock: 2026-03-14 01:00 UTC, a Saturday, 09:00 in Asia/Shanghai
T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
#: the smallest valid PNG header and then some: what a phone's photo starts with
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def create_project(
    unit,
    *,
    organizer=None,
    starts_at=None,
    hours: float = 4,
    places: int = 3,
    publish: bool = True,
    **kwargs,
):
    """A project in ``unit`` from ``starts_at`` (default T0) for ``hours``, open for claims
    until it starts (``publish=False``: a draft)."""
    organizer = organizer or factories.create_member(unit, roles=("organizer",))
    starts_at = starts_at or T0
    fields = {"title": "下水管道疏通", "category": "sanitation", "points_per_hour": 10}
    fields.update(kwargs)
    return projects.create_project(
        actor=organizer,
        unit_id=unit.id,
        places=places,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        publish=publish,
        now=starts_at - timedelta(days=3),
        **fields,
    )


def file_need(resident, *, filed_by=None, **kwargs):
    fields = {"title": "污水外溢", "category": "sanitation", "description": "3号楼下水井冒水"}
    fields.update(kwargs)
    return projects.file_need(resident=resident, filed_by=filed_by or resident, **fields)


def running_project(unit, organizer, *, members=(), **kwargs):
    """A project under way (from T0) where each of ``members`` holds a place."""
    project = create_project(unit, organizer=organizer, **kwargs)
    for member in members:
        projects.claim_place(project, member, now=T0 - timedelta(days=1))
    projects.change_project_status(project, "in_progress", actor=organizer, now=T0)
    return project


def merged_needs(district) -> dict:
    """上坎网格长 files a need for 王秀英 (路灯不亮); she files the same one herself
    (三号楼路灯坏了), which he merges into the first; 李四 is her neighbour."""
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    resident = factories.create_member(district["building_a"], name="王秀英")
    neighbour = factories.create_member(district["building_a"], name="李四")
    first = projects.file_need(
        resident=resident, filed_by=organizer, title="路灯不亮", category="facilities"
    )
    second = projects.file_need(
        resident=resident, filed_by=resident, title="三号楼路灯坏了", category="facilities"
    )
    projects.merge_need(second, first, actor=organizer)
    return {"first": first, "second": second, "resident": resident, "neighbour": neighbour,
            "organizer": organizer}  # fmt: skip
