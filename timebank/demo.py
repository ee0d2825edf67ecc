"""Demo data from the field: a street office in Lanzhou's Xigu district, its communities,
grids and buildings, partner organizations, volunteers and party members (双报到)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa
from tqdm import tqdm

from timebank.activities.demo import demo_logins, load_activities_demo, load_credits_demo
from timebank.core.clock import utcnow
from timebank.core.timeline import Timeline
from timebank.extensions import db
from timebank.inbox.models import Notification
from timebank.merchants.demo import load_merchants_demo, staff_logins
from timebank.people import operations as people
from timebank.people.models import Member
from timebank.projects import demo as projects_demo
from timebank.reminders.demo import load_todo_demo, todo_logins
from timebank.reports.demo import load_reports_demo
from timebank.scheduling.demo import load_jobs_demo
from timebank.transparency.demo import load_transparency_demo, schedule_checkpoints
from timebank.units import operations as units
from timebank.units.models import Unit

STREET = "西柳沟街道"
COMMUNITIES = ("上坎社区", "古浪路社区", "福利东路社区")
#: the grid leaders (网格长) of the communities, by full name: a name is a person's, the
#: role and the community are said beside it on every page
ORGANIZER_NAMES = ("李建华", "马桂芳", "赵志刚")
ORGANIZATIONS = (
    ("兰州石化公司", "company"),
    ("西固区第一小学", "school"),
    ("西固区人民医院", "hospital"),
    ("守望者心理服务中心", "social_org"),
    ("柏草木社会工作服务中心", "social_org"),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = [
    "秀英",
    "桂英",
    "秀兰",
    "玉兰",
    "桂兰",
    "秀珍",
    "凤英",
    "玉梅",
    "丽",
    "敏",
    "静",
    "燕",
    "艳",
    "娟",
    "霞",
    "芳",
    "红",
    "玲",
    "婷",
    "雪",
    "伟",
    "强",
    "磊",
    "军",
    "勇",
    "杰",
    "涛",
    "斌",
    "超",
    "明",
    "刚",
    "平",
    "辉",
    "鹏",
    "华",
    "飞",
    "鑫",
    "波",
    "宇",
    "浩",
    "建国",
    "建华",
    "国强",
    "志强",
    "海燕",
    "晓东",
    "文",
    "立新",
    "春梅",
    "淑珍",
    "德胜",
    "永红",
    "卫东",
    "建军",
    "子涵",
    "欣怡",
    "梓轩",
    "浩然",
    "一诺",
    "雨桐",
]
BRANCHES = (
    "兰州石化公司炼油厂第二党支部",
    "西固区第一小学党支部",
    "西固区人民医院内科党支部",
    "西固区税务局第一党支部",
    "兰州石化公司机关第三党支部",
)
DEMO_PASSWORD = "timebank-demo"
ADMIN_PASSWORD = "timebank-admin"
ADMIN_PHONE = "13800000000"


def load_demo(*, members: int = 200, seed: int = 2020) -> str:
    """Create the demo district once; a second run changes nothing and says so."""
    if db.session.scalar(sa.select(Unit.id).where(Unit.name == STREET, Unit.parent_id.is_(None))):
        return "Demo data is already loaded; nothing changed.\n" + login_details()
    rng = random.Random(seed)
    street = units.create_unit(name=STREET, kind="street", parent_id=None)
    buildings: list[tuple[Unit, Unit]] = []  # (building, community)
    communities = []
    for c_index, community_name in enumerate(COMMUNITIES):
        community = units.create_unit(name=community_name, kind="community", parent_id=street.id)
        # each community's square, where its activities usually meet (西固区, 兰州)
        units.set_place(community.id, lat=36.0905 + c_index * 0.004, lng=103.6270 + c_index * 0.005)
        communities.append(community)
        for g in range(1, 4):
            grid = units.create_unit(name=f"第{g}网格", kind="grid", parent_id=community.id)
            for b in range(1, 4):
                building = units.create_unit(
                    name=f"{c_index + 1}{g}{b:02d}号楼", kind="building", parent_id=grid.id
                )
                buildings.append((building, community))
    orgs = [
        units.create_organization(unit_id=street.id, name=name, kind=kind, contact=None)
        for name, kind in ORGANIZATIONS
    ]
    # One hash for every demo volunteer: argon2id is slow on purpose.
    demo_hash = people.hash_password(DEMO_PASSWORD)
    people.create_member(
        phone=ADMIN_PHONE,
        name="街道管理员",
        password=ADMIN_PASSWORD,
        home_unit_id=street.id,
        roles=[("admin", street.id)],
    )
    for index, community in enumerate(communities, start=1):
        people.create_member(
            phone=f"1380000000{index}",
            name=ORGANIZER_NAMES[index - 1],
            password_hash=demo_hash,
            home_unit_id=community.id,
            roles=[("organizer", community.id), ("volunteer", community.id)],
        )
    party_count = max(1, members // 5)
    used_names: set[str] = set()
    for n in tqdm(range(members), desc="demo members", unit="member"):
        building, community = buildings[n % len(buildings)]
        name = _unique_name(rng, used_names)
        member = people.create_member(
            phone=f"139{n:08d}",
            name=name,
            password_hash=demo_hash,
            home_unit_id=building.id,
            roles=[("volunteer", building.id)],
            has_smartphone=n % 25 != 7,
        )
        if n < party_count:
            reported = n % 8 != 3  # most party members have reported in, some have not
            org = orgs[n % len(orgs)]
            people.register_party(
                member,
                branch=BRANCHES[n % len(BRANCHES)],
                workplace_org_id=org.id if org.kind != "social_org" else None,
                workplace_name=None if org.kind != "social_org" else "西固区政务服务中心",
                reported_unit_id=community.id if reported else None,
                reported_on=date(2024, 3, 1) + timedelta(days=rng.randrange(0, 400))
                if reported
                else None,
            )
    _add_guardians()
    load_jobs_demo()
    db.session.flush()
    summary = (
        f"Demo loaded: 1 street, {len(COMMUNITIES)} communities, {len(buildings)} buildings, "
        f"{members} volunteers, {party_count} party members.\n"
    )
    return summary + _load_history(demo_hash, seed) + login_details()


def _load_history(demo_hash: str, seed: int) -> str:
    """Activities, shops and the three lists, with their history; returns their summary.

    The past of every module is written oldest first (a statement reads newest first by
    entry id): activities and shops schedule their postings, then they run in order; the
    lists' credits and today's requests come after."""
    past = Timeline()
    summary = load_activities_demo(timeline=past, seed=seed)
    summary += load_merchants_demo(password_hash=demo_hash, seed=seed, timeline=past)
    schedule_checkpoints(past)
    with tqdm(total=len(past.steps), desc="demo history", unit="step") as bar:
        past.run(progress=bar.update)
    summary += projects_demo.load_projects_demo()
    load_credits_demo()
    summary += load_reports_demo()
    summary += load_todo_demo()
    summary += load_transparency_demo()
    _read_old_news()
    return summary


def _read_old_news() -> None:
    """The history's news (hours credited months ago) were read when they came: only the
    last two days' stay unread, as a newcomer would find them."""
    db.session.execute(
        sa.update(Notification)
        .where(
            Notification.read_at.is_(None), Notification.created_at < utcnow() - timedelta(days=2)
        )
        .values(read_at=Notification.created_at)
    )


def _unique_name(rng: random.Random, used: set[str]) -> str:
    for _attempt in range(50):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in used:
            used.add(name)
            return name
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)[:1]


def _add_guardians() -> None:
    without_phone = db.session.scalars(sa.select(Member).where(Member.has_smartphone.is_(False)))
    for member in without_phone:
        guardian = db.session.scalar(
            sa.select(Member)
            .where(
                Member.home_unit_id == member.home_unit_id,
                Member.has_smartphone.is_(True),
                Member.id != member.id,
            )
            .limit(1)
        )
        if guardian is not None:
            people.add_guardian(member, guardian, relation="邻居", actor=None)


def login_details() -> str:
    return (
        "Log in with:\n"
        f"  admin      {ADMIN_PHONE} / {ADMIN_PASSWORD}\n"
        f"  organizers 13800000001, 13800000002, 13800000003 / {DEMO_PASSWORD}\n"
        f"  volunteers 13900000000 ... / {DEMO_PASSWORD}\n"
        f"{staff_logins(DEMO_PASSWORD)}\n"
        f"{demo_logins()}"
        f"{todo_logins()}"
    )
