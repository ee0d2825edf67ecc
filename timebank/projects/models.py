"""The three lists: needs (需求清单, with small wishes 微心愿), resources (资源清单) and service
projects (项目清单); who serves on a project (claims and assignments), what they report
(hour logs), who acts for a partner organization, and the history of every change."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from timebank.core.clock import utcnow
from timebank.core.db import UTCDateTime
from timebank.core.rules import Bounds
from timebank.extensions import db
from timebank.people.models import Member
from timebank.units.models import Organization, Unit

NEED_STATUSES = ("open", "accepted", "merged", "declined", "resolved")
URGENCIES = ("low", "normal", "high", "urgent")
RESOURCE_STATUSES = ("available", "withdrawn")
PROJECT_STATUSES = ("draft", "open", "staffed", "in_progress", "done", "verified", "cancelled")
#: volunteer (claimed a place), organization (named by a partner's contact), assignment
CLAIM_KINDS = ("volunteer", "organization", "assignment")
#: pending (an assignment not yet answered), active, declined, withdrawn
CLAIM_STATUSES = ("pending", "active", "declined", "withdrawn")
#: places counted against a project's capacity
HOLDING = ("pending", "active")
HOUR_LOG_STATUSES = ("pending", "approved", "rejected")
ORGANIZATION_ROLES = ("contact", "member")

#: limits, the same for the API schema, the page form and the operation
PLACES = Bounds(1, 10_000)
POINTS_PER_HOUR = Bounds(0, 10_000)
DAILY_MINUTES = Bounds(15, 1440)
LOG_MINUTES = Bounds(1, 1440)
RATING = Bounds(1, 5)
TITLE_MAX = 120
TEXT_MAX = 5000
REASON_MAX = 500
SKILLS_MAX = 200
AVAILABILITY_MAX = 200

#: what needs and projects are about (the reports' problems and services)
CATEGORY_NAMES = {
    "sanitation": _l("Drains and sanitation"),
    "safety": _l("Safety hazards"),
    "facilities": _l("Public facilities"),
    "elderly_care": _l("Care for the elderly"),
    "health": _l("Health"),
    "children": _l("Children and after-school"),
    "mediation": _l("Neighbour mediation"),
    "errands": _l("Errands"),
    "other": _l("Other"),
}
CATEGORIES = tuple(CATEGORY_NAMES)
#: what partner organizations and members offer
RESOURCE_CATEGORY_NAMES = {
    "venue": _l("Rooms and venues"),
    "vehicle": _l("Vehicles"),
    "medical": _l("Medical services"),
    "skills": _l("Skills"),
    "goods": _l("Goods and equipment"),
    "funds": _l("Funds"),
    "other": _l("Other"),
}
RESOURCE_CATEGORIES = tuple(RESOURCE_CATEGORY_NAMES)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Need(db.Model):
    """A resident's need or problem (需求清单); a small wish (微心愿) one person can fulfil."""

    __tablename__ = "needs"
    __table_args__ = (
        sa.CheckConstraint(_in("status", NEED_STATUSES), name="status_known"),
        sa.CheckConstraint(_in("urgency", URGENCIES), name="urgency_known"),
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        sa.CheckConstraint("rating IS NULL OR confirmed_at IS NOT NULL", name="rated_on_confirm"),
        sa.CheckConstraint("status <> 'merged' OR merged_into_id IS NOT NULL", name="merged_into"),
        sa.CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_into_self"),
        sa.CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL", name="declined_with_reason"
        ),
        sa.CheckConstraint("taker_id IS NULL OR is_wish", name="only_wishes_are_taken"),
        sa.CheckConstraint(
            "taker_id IS NULL OR taker_id <> resident_id", name="taker_not_resident"
        ),
        sa.Index("ix_needs_unit_status", "unit_id", "status"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: where the need is; its organizers handle it
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the resident who has the need
    resident_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: who filed it: the resident, or a guardian or grid worker for a resident without a phone
    filed_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: True for a small wish (微心愿): one person takes it and fulfils it directly
    is_wish: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: a short name for lists, e.g. 污水外溢
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: one of CATEGORIES
    category: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    #: what is wrong or wanted, where, since when
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: low, normal, high or urgent
    urgency: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="normal")
    #: whom to call about it; shown only to those who handle it
    contact_name: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    #: the contact's phone; shown only to those who handle it
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    #: open, accepted (into projects, or a wish taken), merged, declined, resolved
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="open")
    #: why it was declined
    decline_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: the need this duplicate was merged into; it is resolved with it
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("needs.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the member who took a small wish to fulfil it
    taker_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: when it was resolved
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: 1 to 5, given by the resident (or for them) after it was resolved
    rating: Mapped[int | None] = mapped_column(nullable=True)
    #: what the resident said about the result
    feedback: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: who confirmed the result: the resident, their guardian, or the grid worker
    confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: when the result was confirmed
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: when it was filed (server clock)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    unit: Mapped[Unit] = relationship()
    resident: Mapped[Member] = relationship(foreign_keys=[resident_id])
    filed_by: Mapped[Member] = relationship(foreign_keys=[filed_by_id])
    taker: Mapped[Member | None] = relationship(foreign_keys=[taker_id])
    merged_into: Mapped[Need | None] = relationship(remote_side=[id])
    projects: Mapped[list[Project]] = relationship(
        secondary="project_needs", order_by="Project.id", viewonly=True
    )

    @property
    def filed_on_behalf(self) -> bool:
        """True when someone else (a guardian, a grid worker) filed it for the resident."""
        return self.filed_by_id != self.resident_id

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.title!r} {self.status}>"


class Resource(db.Model):
    """What a partner organization or a member offers (资源清单), with its availability."""

    __tablename__ = "resources"
    __table_args__ = (
        sa.CheckConstraint(_in("status", RESOURCE_STATUSES), name="status_known"),
        sa.CheckConstraint(
            "organization_id IS NOT NULL OR offered_by_id IS NOT NULL", name="has_provider"
        ),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the unit it is offered to
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the partner organization (共建单位) that offers it
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the member who offers it, for a member's own offer
    offered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: e.g. 免费健康体检, 周六面包车
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: one of RESOURCE_CATEGORIES
    category: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    #: what it is, how much (e.g. 1,500 m² of rooms), conditions
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: when it can be had, e.g. 每周六 8:00-17:00
    availability: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: whom to ask, free text
    contact: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    #: available or withdrawn
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="available")
    #: who recorded it
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was recorded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was withdrawn
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    unit: Mapped[Unit] = relationship()
    organization: Mapped[Organization | None] = relationship()
    offered_by: Mapped[Member | None] = relationship(foreign_keys=[offered_by_id])

    @property
    def provider_name(self) -> str:
        if self.organization is not None:
            return self.organization.name
        return self.offered_by.name if self.offered_by is not None else ""

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.title!r} {self.status}>"


class Project(db.Model):
    """A service project (服务项目) that volunteers and partner organizations claim."""

    __tablename__ = "projects"
    __table_args__ = (
        sa.CheckConstraint(_in("status", PROJECT_STATUSES), name="status_known"),
        sa.CheckConstraint("ends_at > starts_at", name="window_positive"),
        sa.CheckConstraint("deadline <= ends_at", name="deadline_in_window"),
        sa.CheckConstraint("places > 0", name="places_positive"),
        sa.CheckConstraint("daily_minutes > 0 AND daily_minutes <= 1440", name="daily_minutes"),
        sa.CheckConstraint("points_per_hour >= 0", name="points_not_negative"),
        sa.Index("ix_projects_unit_status", "unit_id", "status"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the unit that runs it; its organizers manage it and approve its hours
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: e.g. 下水管道疏通
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    #: what is to be done, where, what to bring
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: one of CATEGORIES
    category: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    #: members needed
    places: Mapped[int] = mapped_column(nullable=False)
    #: required skills, free text, e.g. 电工证, 会开车
    skills: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: start of the service (UTC); claims can be withdrawn until then
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, nullable=False)
    #: end of the service (UTC); no hours are logged for days after it
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: the most minutes one member may log for one day (the schedule's daily shift)
    daily_minutes: Mapped[int] = mapped_column(nullable=False)
    #: the schedule for people, e.g. 每周六 9:00-11:00
    schedule_note: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: points per full hour of approved service (minutes * rate // 60)
    points_per_hour: Mapped[int] = mapped_column(nullable=False, default=0)
    #: claims close at this time (UTC)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: draft, open, staffed, in_progress, done, verified or cancelled
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="draft")
    #: the organizer who created it
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was created
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    unit: Mapped[Unit] = relationship()
    needs: Mapped[list[Need]] = relationship(
        secondary="project_needs", order_by="Need.id", viewonly=True
    )
    resources: Mapped[list[Resource]] = relationship(
        secondary="project_resources", order_by="Resource.id", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.title!r} {self.status}>"


class ProjectNeed(db.Model):
    """A need a project answers (the need was accepted into it)."""

    __tablename__ = "project_needs"

    #: the project
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="RESTRICT"), primary_key=True
    )
    #: the need it answers
    need_id: Mapped[int] = mapped_column(
        sa.ForeignKey("needs.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    #: when the need was accepted into the project
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<ProjectNeed {self.project_id}/{self.need_id}>"


class ProjectResource(db.Model):
    """A resource a project uses."""

    __tablename__ = "project_resources"

    #: the project
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="RESTRICT"), primary_key=True
    )
    #: the resource it uses
    resource_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resources.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    #: when it was linked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<ProjectResource {self.project_id}/{self.resource_id}>"


class OrganizationMember(db.Model):
    """A member who acts for a partner organization: its contact (who claims projects for
    it and names who serves) or one of its people (who may be named)."""

    __tablename__ = "organization_members"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "member_id"),
        sa.CheckConstraint(_in("role", ORGANIZATION_ROLES), name="role_known"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the partner organization
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the member
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: contact (acts for it) or member (may be named to serve)
    role: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="member")
    #: the organizer who recorded it
    added_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: when it was recorded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    organization: Mapped[Organization] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<OrganizationMember {self.organization_id}/{self.member_id} {self.role}>"


class Claim(db.Model):
    """One member's place on a project: claimed by the volunteer, named by a partner
    organization's contact, or assigned by an organizer (and then accepted or declined).
    A withdrawn or declined place keeps its row for the record."""

    __tablename__ = "project_claims"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "member_id"),
        sa.CheckConstraint(_in("kind", CLAIM_KINDS), name="kind_known"),
        sa.CheckConstraint(_in("status", CLAIM_STATUSES), name="status_known"),
        sa.CheckConstraint(
            "(kind = 'organization') = (organization_id IS NOT NULL)", name="organization_claims"
        ),
        sa.CheckConstraint("status <> 'pending' OR kind = 'assignment'", name="pending_assigned"),
        sa.CheckConstraint("status <> 'declined' OR reason IS NOT NULL", name="declined_reason"),
        sa.Index("ix_project_claims_project_status", "project_id", "status"),
    )

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the project
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="RESTRICT"), nullable=False
    )
    #: the member who serves
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: volunteer, organization or assignment
    kind: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    #: the partner organization whose contact named the member
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: pending (assigned, not yet answered), active, declined or withdrawn
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: who made it: the member, the organization's contact or the organizer
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True, nullable=True
    )
    #: why it was declined or withdrawn
    reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: when the place was (last) taken or assigned
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when an assignment was accepted or declined, or the place withdrawn
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    project: Mapped[Project] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    organization: Mapped[Organization | None] = relationship()

    def __repr__(self) -> str:
        return f"<Claim {self.id} {self.project_id}/{self.member_id} {self.kind} {self.status}>"


class HourLog(db.Model):
    """Time a member reports against a project or a small wish; approval credits it."""

    __tablename__ = "hour_logs"
    __table_args__ = (
        sa.CheckConstraint("(project_id IS NULL) <> (need_id IS NULL)", name="one_subject"),
        sa.CheckConstraint(_in("status", HOUR_LOG_STATUSES), name="status_known"),
        sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_in_a_day"),
        sa.CheckConstraint(
            "status <> 'rejected' OR reject_reason IS NOT NULL", name="rejected_reason"
        ),
        sa.CheckConstraint(
            "status <> 'approved' OR credited_minutes IS NOT NULL", name="approved_credited"
        ),
        sa.Index("ix_hour_logs_member_day", "member_id", "served_on"),
        sa.Index("ix_hour_logs_status", "status"),
    )

    #: primary key; the ledger's reference_id, keyed ``hourlog:<id>``
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the project served (or NULL for a small wish)
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the small wish fulfilled (or NULL for a project)
    need_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("needs.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the member who served, and is credited
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    #: who entered it: the member, a guardian, or the organization's contact
    logged_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: the place on the project the member served in
    claim_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("project_claims.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the partner organization the member served for, when named by it
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the local day of the service
    served_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: minutes reported
    minutes: Mapped[int] = mapped_column(nullable=False)
    #: what was done
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: the photo's file name inside the photo folder (random; never a path)
    photo_name: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    #: the photo's media type, from its bytes: image/jpeg, image/png or image/webp
    photo_type: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    #: pending, approved or rejected
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="pending")
    #: minutes credited on approval (rounded down to the deployment's unit)
    credited_minutes: Mapped[int | None] = mapped_column(nullable=True)
    #: points credited on approval
    credited_points: Mapped[int | None] = mapped_column(nullable=True)
    #: who approved or rejected it
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: when it was approved or rejected
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: why it was rejected
    reject_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: when it was reported (server clock)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    project: Mapped[Project | None] = relationship()
    need: Mapped[Need | None] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    logged_by: Mapped[Member] = relationship(foreign_keys=[logged_by_id])
    organization: Mapped[Organization | None] = relationship()

    @property
    def subject_title(self) -> str:
        return self.project.title if self.project is not None else self.need.title

    @property
    def unit_id(self) -> int:
        """The unit whose organizers approve it and whose issuance account credits it."""
        return self.project.unit_id if self.project is not None else self.need.unit_id

    def __repr__(self) -> str:
        return f"<HourLog {self.id} member={self.member_id} {self.minutes}min {self.status}>"


class ProjectEvent(db.Model):
    """One change to a project: its state, or who serves. Append-only (database triggers)."""

    __tablename__ = "project_events"

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the project
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: status, claim, withdraw, assign, accept, decline, organization_claim, need, resource
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: the state before a status change
    from_status: Mapped[str | None] = mapped_column(sa.String(12), nullable=True)
    #: the state after a status change
    to_status: Mapped[str | None] = mapped_column(sa.String(12), nullable=True)
    #: who did it
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the member it concerns (who claimed, was assigned, withdrew)
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: why, in the actor's words, or what was linked
    reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: when (server clock)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id])
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<ProjectEvent {self.id} {self.project_id} {self.kind} {self.to_status}>"


class NeedEvent(db.Model):
    """One change to a need's state. Append-only (database triggers)."""

    __tablename__ = "need_events"

    #: primary key
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the need
    need_id: Mapped[int] = mapped_column(
        sa.ForeignKey("needs.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: status, project, take, release, confirm
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: the state before
    from_status: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    #: the state after
    to_status: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    #: who did it; NULL when it followed from another change
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: the project it concerns (accepted into, resolved by)
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="RESTRICT"), index=True, nullable=True
    )
    #: why
    reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    #: when (server clock)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id])

    def __repr__(self) -> str:
        return f"<NeedEvent {self.id} {self.need_id} {self.kind} {self.to_status}>"


#: tables the database refuses to UPDATE or DELETE (the migration's triggers)
APPEND_ONLY_TABLES = ("project_events", "need_events")
