"""Demo data of the three lists, from the reports: residents' needs (overflowing sewage,
unsafe charging cables, a broken streetlight, elderly residents needing meals), small
wishes, the partner organizations' resources (a clinic's free check-ups, a company's van
on Saturdays, 1,500 m² of rooms), projects in every state, claims, assignments and hour
logs, approved so that balances, statements and the party report have history."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.core import access
from timebank.core.access import Target
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people.models import Guardianship, Member, PartyProfile
from timebank.projects import operations as projects
from timebank.projects.models import Need
from timebank.units.models import Organization, Unit

DAY = timedelta(days=1)


class Cast:
    """The demo's people, found by the phone numbers timebank/demo.py gave them."""

    def __init__(self):
        self.organizers = [self._phone(f"1380000000{i}") for i in (1, 2, 3)]
        #: the street's admin, for what lies above the communities
        self.admin = self._phone("13800000000")
        self.volunteers = list(
            db.session.scalars(
                sa.select(Member).where(Member.phone.like("139%")).order_by(Member.phone)
            )
        )
        self.party = [m for m in self.volunteers if db.session.get(PartyProfile, m.id)]
        self.without_phone = [m for m in self.volunteers if not m.has_smartphone]

    @staticmethod
    def _phone(phone: str) -> Member:
        return db.session.scalar(sa.select(Member).where(Member.phone == phone))

    def volunteer(self, n: int) -> Member:
        return self.volunteers[n % len(self.volunteers)]

    def party_member(self, n: int) -> Member:
        return self.party[n % len(self.party)]

    def in_community(self, community: Unit, n: int) -> Member:
        """The n-th volunteer living in ``community`` (not a party member)."""
        living = [
            m
            for m in self.volunteers
            if m not in self.party and _community_of(m.home_unit).id == community.id
        ]
        return living[n % len(living)]


def _community_of(unit: Unit) -> Unit:
    while unit.kind != "community" and unit.parent is not None:
        unit = unit.parent
    return unit


def _unit(name: str) -> Unit:
    return db.session.scalar(sa.select(Unit).where(Unit.name == name))


def _org(name: str) -> Organization:
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


def load_projects_demo() -> str:
    """Add the three lists to the demo district once; a second run changes nothing."""
    if db.session.scalar(sa.select(Need.id).limit(1)) is not None:
        return ""
    cast, now = Cast(), utcnow()
    if not cast.volunteers or not cast.party or _unit("上坎社区") is None:
        return ""
    _organization_people(cast)
    resources = _resources(cast, now)
    needs = _needs(cast, now)
    _verified_sewage_project(cast, needs, resources, now)
    _done_fire_lane_project(cast, now)
    _meals_project(cast, needs, resources, now)
    _staffed_and_open_projects(cast, needs, resources, now)
    _draft_and_cancelled_projects(cast, needs, now)
    _wishes(cast, needs, now)
    db.session.flush()
    return "Demo lists: 13 needs and wishes, 8 resources, 7 projects in every state.\n"


def _organization_people(cast: Cast) -> None:
    """Party members who work for a partner organization act for it; the first is its
    contact."""
    organizer = cast.organizers[0]
    for name in ("兰州石化公司", "西固区人民医院"):
        org = _org(name)
        staff = [
            m for m in cast.party if db.session.get(PartyProfile, m.id).workplace_org_id == org.id
        ][:4]
        for n, member in enumerate(staff):
            role = "contact" if n == 0 else "member"
            projects.add_organization_member(org, member, role=role, actor=organizer)


# fmt: off
#: (key, partner organization, title, category, availability, description)
RESOURCES = (
    ("checkups", "西固区人民医院", "免费健康体检与义诊", "medical", "每月第一个周六上午",
     "血压、血糖、心电图，每次可接待80人；行动不便的老人可预约上门"),
    ("van", "兰州石化公司", "周六公益用车(面包车)", "vehicle", "每周六 8:00-17:00",
     "一辆9座面包车带司机，限社区公益活动、送老人就医"),
    ("rooms", "兰州石化公司", "社区办公活动场地1500平方米", "venue", "工作日 8:30-17:30",
     "无偿为上坎社区、古浪路社区提供办公活动场地1500余平方米，含会议室和活动室"),
    ("counselling", "守望者心理服务中心", "心理疏导", "medical", "每周二、四下午",
     "专业心理咨询师，面向特殊人员和独居老人"),
    ("meals", "柏草木社会工作服务中心", "老年人配餐", "goods", "工作日午餐",
     "每天可配送60份午餐，低盐少油"),
    ("classroom", "西固区第一小学", "四点半课堂教室", "venue", "工作日 16:30-18:00",
     "两间教室，可容纳40名学生"),
)
#: (key, community, n-th resident there, days ago, title, category, urgency, description)
NEEDS = (
    ("sewage", "上坎社区", 0, 30, "污水外溢", "sanitation", "urgent",
     "1号楼东侧下水井冒水，污水流到路面，气味很大，已经三天了"),
    ("sewage_again", "上坎社区", 1, 29, "下水道又冒水了", "sanitation", "high",
     "和前几天说的是同一个井"),
    ("streetlight", "古浪路社区", 0, 9, "路灯不亮", "facilities", "normal",
     "2号门到3号楼之间的三盏路灯不亮，晚上老人不敢出门"),
    ("streetlight_again", "古浪路社区", 4, 7, "3号楼前路灯坏了", "facilities", "normal",
     "晚上黑乎乎的，怕老人摔跤"),
    ("meals", "上坎社区", 2, 15, "独居老人中午吃饭难", "elderly_care", "high",
     "本楼有5位独居老人，行动不便，中午做饭困难，希望有人送餐"),
    ("fitness", "上坎社区", 3, 25, "小区没有健身活动场所", "facilities", "low",
     "希望在小区空地安装几件健身器材"),
    ("waste_hut", "上坎社区", 4, 8, "垃圾分类屋设置", "sanitation", "normal",
     "垃圾桶露天摆放，希望建一个分类投放屋"),
    ("clutter", "上坎社区", 5, 20, "楼道堆放杂物", "safety", "normal",
     "3单元楼道堆了很多纸箱和旧家具"),
    ("parking", "古浪路社区", 1, 3, "小区周边乱停车", "other", "normal",
     "早晚高峰车辆堵住消防通道"),
)
# fmt: on


def _organizer_of(cast: Cast, action: str, unit_id: int):
    """The demo's organizer who may do ``action`` in ``unit_id`` (each keeps a community;
    the admin keeps the street)."""
    people = [*cast.organizers, cast.admin]
    return next(o for o in people if access.may(o, action, Target(unit=unit_id)))


def _resources(cast: Cast, now: datetime) -> dict:
    offered = {}
    for key, org, title, category, availability, description in RESOURCES:
        unit_id = _org(org).unit_id
        offered[key] = projects.offer_resource(
            actor=_organizer_of(cast, "resources.manage", unit_id),
            title=title,
            category=category,
            availability=availability,
            description=description,
            organization_id=_org(org).id,
            now=now - 40 * DAY,
        )
    offered["electrician"] = projects.offer_resource(
        actor=cast.volunteer(5),
        title="电工维修(持证)",
        category="skills",
        availability="周末",
        description="家用电路、楼道照明小修",
        now=now - 30 * DAY,
    )
    school = _org("西固区第一小学")
    desks = projects.offer_resource(
        actor=_organizer_of(cast, "resources.manage", school.unit_id),
        title="旧课桌椅20套",
        category="goods",
        availability="已送出",
        organization_id=school.id,
        now=now - 60 * DAY,
    )
    projects.withdraw_resource(desks, now=now - 20 * DAY)
    return offered


def _needs(cast: Cast, now: datetime) -> dict:
    filed = {}
    for key, community, n, days, title, category, urgency, description in NEEDS:
        who = cast.in_community(_unit(community), n)
        filed[key] = projects.file_need(
            resident=who,
            filed_by=who,
            title=title,
            category=category,
            urgency=urgency,
            description=description,
            now=now - days * DAY,
        )
    # a grid worker files for a resident without a smartphone in 上坎社区
    shangkan = _unit("上坎社区")
    resident = next(
        (m for m in cast.without_phone if _community_of(m.home_unit).id == shangkan.id),
        cast.volunteer(7),
    )
    filed["cables"] = projects.file_need(
        resident=resident,
        filed_by=cast.organizers[0],
        title="飞线充电",
        category="safety",
        urgency="high",
        description="楼道里从窗户拉电线给电动车充电，晚上一排车，担心起火",
        now=now - 12 * DAY,
    )
    organizer = cast.organizers[0]
    projects.merge_need(filed["sewage_again"], filed["sewage"], actor=organizer, now=now - 28 * DAY)
    projects.merge_need(
        filed["streetlight_again"],
        filed["streetlight"],
        actor=cast.organizers[1],
        now=now - 6 * DAY,
    )
    projects.decline_need(
        filed["clutter"],
        actor=organizer,
        now=now - 19 * DAY,
        reason="属物业管理范围，已转交物业公司限期清理",
    )
    return filed


def _project(cast, unit_name, title, category, *, start, hours, places, organizer=0, **kw):
    return projects.create_project(
        actor=cast.organizers[organizer],
        unit_id=_unit(unit_name).id,
        title=title,
        category=category,
        places=places,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        publish=kw.pop("publish", True),
        now=start - 7 * DAY,
        **kw,
    )


def _serve(project, members, when: datetime, *, minutes: int, what: str) -> list:
    """Each member reports ``minutes`` on the local day of ``when``."""
    return [
        projects.log_hours(
            member=m,
            logged_by=m,
            project=project,
            served_on=projects.local_date(when),
            minutes=minutes,
            description=what,
            now=when + timedelta(hours=6),
        ).id
        for m in members
    ]


def _verified_sewage_project(cast: Cast, needs: dict, resources: dict, now: datetime) -> None:
    organizer, start = cast.organizers[0], now - 20 * DAY
    project = _project(
        cast,
        "上坎社区",
        "下水管道疏通",
        "sanitation",
        start=start,
        hours=5,
        places=4,
        points_per_hour=10,
        skills="能下井作业者优先",
        schedule_note="周六上午",
        need_ids=[needs["sewage"].id],
        resource_ids=[resources["van"].id],
        description="联合兰州石化公司疏通1号楼东侧下水管道，清理淤泥",
    )
    petro = _org("兰州石化公司")
    named = [row.member for row in projects.organization_members(petro.id)][:3]
    projects.claim_for_organization(
        project, petro, contact=named[0], member_ids=[m.id for m in named], now=start - 2 * DAY
    )
    volunteer = cast.volunteer(11)
    projects.claim_place(project, volunteer, now=start - DAY)
    projects.change_project_status(project, "in_progress", actor=organizer, now=start)
    ids = _serve(project, [*named, volunteer], start, minutes=240, what="疏通管道，清运淤泥两车")
    projects.approve_hour_logs(ids, actor=organizer, now=start + 2 * DAY)
    projects.change_project_status(project, "done", actor=organizer, now=start + 2 * DAY)
    projects.change_project_status(project, "verified", actor=organizer, now=start + 3 * DAY)
    projects.confirm_need(
        needs["sewage"],
        actor=needs["sewage"].resident,
        rating=5,
        feedback="下水通了，路面也冲干净了",
        now=start + 4 * DAY,
    )


def _done_fire_lane_project(cast: Cast, now: datetime) -> None:
    organizer, start = cast.organizers[0], now - 6 * DAY
    project = _project(
        cast,
        "上坎社区",
        "楼道消防通道清理",
        "safety",
        start=start,
        hours=3,
        places=3,
        points_per_hour=8,
        schedule_note="周日下午",
    )
    crew = [cast.party_member(1), cast.volunteer(13), cast.volunteer(14)]
    for m in crew:
        projects.claim_place(project, m, now=start - DAY)
    projects.change_project_status(project, "in_progress", actor=organizer, now=start)
    ids = _serve(project, crew, start, minutes=150, what="清理楼道纸箱和旧家具，检查灭火器")
    projects.approve_hour_logs(ids, actor=organizer, now=start + DAY)
    projects.change_project_status(project, "done", actor=organizer, now=start + DAY)


def _meals_project(cast: Cast, needs: dict, resources: dict, now: datetime) -> None:
    """Under way: party members assigned (派单) accepted (接单); hours approved, waiting
    and one rejected."""
    organizer, start = cast.organizers[0], now - 10 * DAY
    project = _project(
        cast,
        "上坎社区",
        "老人助餐送餐",
        "elderly_care",
        start=start,
        hours=24 * 30,
        places=6,
        daily_minutes=120,
        points_per_hour=10,
        schedule_note="每天 11:00-13:00",
        need_ids=[needs["meals"].id],
        resource_ids=[resources["meals"].id],
        description="每天中午把柏草木配送的午餐送到5位独居老人家中，陪老人说说话",
    )
    party = [cast.party_member(n) for n in (2, 3, 4)]
    for m in party:
        claim = projects.assign_member(project, m, actor=organizer, now=start - 3 * DAY)
        projects.answer_assignment(claim, accept=True, actor=m, now=start - 2 * DAY)
    helper = cast.volunteer(17)
    projects.claim_place(project, helper, now=start - DAY)
    projects.change_project_status(project, "in_progress", actor=organizer, now=start)
    approved = []
    for day in (1, 2, 4, 6):
        approved += _serve(project, party[:2], start + day * DAY, minutes=90, what="送午餐到5户")
    projects.approve_hour_logs(approved, actor=organizer, now=now - DAY)
    _serve(project, [party[2], helper], now - DAY, minutes=120, what="送午餐，帮老人打扫厨房")
    wrong = _serve(project, [helper], now - 3 * DAY, minutes=60, what="送餐")
    projects.reject_hour_logs(
        wrong, actor=organizer, reason="当天送餐由党员负责，未排到你", now=now - DAY
    )


def _staffed_and_open_projects(cast: Cast, needs: dict, resources: dict, now: datetime) -> None:
    organizer, start = cast.organizers[0], now + 3 * DAY
    staffed = _project(
        cast,
        "上坎社区",
        "电动车飞线充电安全排查",
        "safety",
        start=start,
        hours=3,
        places=2,
        points_per_hour=10,
        skills="电工证",
        need_ids=[needs["cables"].id],
        resource_ids=[resources["electrician"].id],
        description="逐楼排查飞线充电，劝导到集中充电桩充电，拆除私拉电线",
    )
    projects.claim_place(staffed, cast.volunteer(5), now=now - DAY)
    projects.assign_member(staffed, cast.party_member(8), actor=organizer, now=now - DAY)
    gulang_organizer, later = cast.organizers[1], now + 5 * DAY
    lights = _project(
        cast,
        "古浪路社区",
        "小区路灯维修",
        "facilities",
        start=later,
        hours=4,
        places=4,
        organizer=1,
        points_per_hour=10,
        need_ids=[needs["streetlight"].id],
        resource_ids=[resources["van"].id],
        schedule_note="周六上午",
    )
    gulang = _unit("古浪路社区")
    projects.claim_place(lights, cast.in_community(gulang, 2), now=now - DAY)
    declined = projects.assign_member(
        lights, cast.in_community(gulang, 3), actor=gulang_organizer, now=now - 2 * DAY
    )
    projects.answer_assignment(
        declined, accept=False, actor=declined.member, reason="那天要带孙子去医院", now=now - DAY
    )


def _draft_and_cancelled_projects(cast: Cast, needs: dict, now: datetime) -> None:
    organizer = cast.organizers[0]
    _project(
        cast,
        "上坎社区",
        "垃圾分类屋设置",
        "sanitation",
        start=now + 14 * DAY,
        hours=6,
        places=5,
        points_per_hour=12,
        publish=False,
        need_ids=[needs["waste_hut"].id],
        description="在3号楼旁空地建一个垃圾分类投放屋，需要木工和搬运",
    )
    fitness = _project(
        cast,
        "上坎社区",
        "健身器材安装",
        "facilities",
        start=now + 2 * DAY,
        hours=4,
        places=4,
        need_ids=[needs["fitness"].id],
    )
    projects.change_project_status(
        fitness, "cancelled", actor=organizer, now=now - DAY, reason="场地协调未果，改为下季度实施"
    )


def _wishes(cast: Cast, needs: dict, now: datetime) -> None:
    shangkan = _unit("上坎社区")
    elder = cast.without_phone[1] if len(cast.without_phone) > 1 else cast.volunteer(21)
    guardian = db.session.scalar(
        sa.select(Member)
        .join(Guardianship, Guardianship.guardian_id == Member.id)
        .where(Guardianship.member_id == elder.id)
    ) or cast.in_community(shangkan, 6)
    wheelchair = projects.file_need(
        resident=elder,
        filed_by=guardian,
        title="想要一辆轮椅",
        category="elderly_care",
        is_wish=True,
        description="腿脚不便，想出门晒太阳",
        now=now - 14 * DAY,
    )
    taker = cast.party_member(6)
    projects.take_wish(wheelchair, taker, now=now - 13 * DAY)
    log = projects.log_hours(
        member=taker,
        logged_by=taker,
        need=wheelchair,
        minutes=90,
        served_on=projects.local_date(now - 11 * DAY),
        now=now - 11 * DAY,
        description="联系单位捐赠轮椅，送到老人家中并调好",
    )
    # the organizer of the wish's community (the elder may live in another one)
    approver = _organizer_of(cast, "hour_logs.approve", log.unit_id)
    projects.approve_hour_logs([log.id], actor=approver, now=now - 10 * DAY)
    projects.confirm_need(
        wheelchair, actor=guardian, rating=5, feedback="老人很高兴", now=now - 9 * DAY
    )
    projects.file_need(
        resident=cast.in_community(shangkan, 7),
        filed_by=cast.in_community(shangkan, 7),
        title="希望有人陪同去医院复查",
        category="health",
        is_wish=True,
        description="下周三上午去西固区人民医院复查，子女在外地",
    )
    aid = projects.file_need(
        resident=cast.in_community(shangkan, 8),
        filed_by=cast.in_community(shangkan, 8),
        title="助听器坏了想修",
        category="elderly_care",
        is_wish=True,
        now=now - 4 * DAY,
    )
    fixer = cast.volunteer(23)
    projects.take_wish(aid, fixer, now=now - 3 * DAY)
    projects.log_hours(
        member=fixer,
        logged_by=fixer,
        need=aid,
        minutes=60,
        served_on=projects.local_date(now - DAY),
        now=now - DAY,
        description="送助听器去维修点并取回",
    )
