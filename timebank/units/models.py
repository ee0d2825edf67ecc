from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.extensions import db

UNIT_KINDS = ("street", "community", "grid", "building", "other")
#: what may be created under a unit of each kind (None: at the top); "other" covers
#: anything a district names differently, below the street office
CHILD_KINDS = {
    None: ("street",),
    "street": ("community", "other"),
    "community": ("grid", "other"),
    "grid": ("building", "other"),
    "building": ("other",),
    "other": ("other",),
}
ORGANIZATION_KINDS = ("company", "school", "government", "hospital", "social_org", "other")


class Unit(db.Model):
    """A node of the grid tree: street office, community, grid, building, any depth."""

    __tablename__ = "units"
    __table_args__ = (
        sa.CheckConstraint("depth >= 0", name="depth_not_negative"),
        sa.UniqueConstraint("parent_id", "name"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the unit this one belongs to; NULL only for a root (a street office)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: display name, e.g. 西柳沟街道, 上坎社区, 第3网格, 5号楼
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: street, community, grid, building or other
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: distance from the root; 0 for a street office
    depth: Mapped[int] = mapped_column(nullable=False, default=0)
    #: latitude of the unit's usual meeting place (WGS-84), offered to its activities
    lat: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: longitude of that place; set together with ``lat``
    lng: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: when it was created (server clock, UTC)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.kind} {self.name!r}>"


class UnitClosure(db.Model):
    """Every (ancestor, descendant) pair of the tree, including (u, u) at depth 0.

    A subtree is one indexed lookup however deep or wide the tree grows.
    """

    __tablename__ = "unit_closure"

    #: the ancestor (or the unit itself)
    ancestor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    #: the descendant (or the unit itself)
    descendant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: edges between them; 0 for the self pair
    depth: Mapped[int] = mapped_column(nullable=False)

    def __repr__(self) -> str:
        return f"<UnitClosure {self.ancestor_id}->{self.descendant_id} d={self.depth}>"


class Organization(db.Model):
    """A partner unit (共建单位 / 驻区单位) that signed a co-building agreement with a unit."""

    __tablename__ = "organizations"
    __table_args__ = (sa.UniqueConstraint("unit_id", "name"),)

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the unit it is attached to
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: e.g. 兰州石化公司
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: company, school, government, hospital, social_org or other
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="company")
    #: contact person, free text
    contact: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    #: when it was added
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"
