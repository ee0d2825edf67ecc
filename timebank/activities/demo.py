"""Demo activities for the demo district, from the reports (垃圾分类督导, 楼道清理, 助老送餐,
爱心义诊, 防诈骗宣传, 爱心义剪, 四点半课堂, 主题党日): five months of them in each community,
checked in at the kiosk (or by the organizer, for members without a smartphone) and
approved, so that balances and statements have months of history; yesterday's attendance
waiting for approval and some held for review; one activity running now; upcoming ones
with sign-ups (one full, one for party members only) and one cancelled; a four-eyes award
waiting for a second organizer and one rejected; donations of hours.

Everything goes through the real operations at the moments it happened: the approvals
are scheduled on the caller's timeline (timebank/core/timeline.py), so the ledger's
postings of every module are written oldest first. Times are local
(``TIMEBANK_TIMEZONE``) hours a community would choose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from tqdm import tqdm

from timebank.activities import operations as activities
from timebank.activities.models import Activity
from timebank.core.clock import utcnow
from timebank.core.timeline import Timeline
from timebank.extensions import db
from timebank.ledger import operations as ledger
from timebank.ledger.models import PendingCredit
from timebank.people import operations as people
from timebank.people.models import Guardianship, Member, PartyProfile
from timebank.units.models import Unit, UnitClosure

DAY = timedelta(days=1)
#: how far back the history goes (about five months)
HISTORY_DAYS = 150
#: scans farther than this from the community's square are held for review
RADIUS_M = 300
VOLUNTEER_PHONE = "13900000000"

# fmt: off
#: (title, category, local start, minutes, points per hour, check-in bonus, description)
SERVICES = (
    ("垃圾分类督导", "cleanup", "07:00", 120, 10, 0,
     "在小区垃圾分类亭旁督导居民分类投放，请戴好袖标和手套。"),
    ("楼道清理", "cleanup", "09:00", 150, 10, 5,
     "清理楼道堆放的杂物和小广告，消除消防隐患；工具由社区提供。"),
    ("助老送餐", "elderly_meals", "10:45", 90, 12, 0,
     "把柏草木社工中心的午餐送到独居和高龄老人家中，顺便问问身体情况。"),
    ("爱心义诊", "free_clinic", "08:30", 180, 10, 0,
     "西固区人民医院医生测血压、血糖，志愿者负责引导、登记和搀扶老人。"),
    ("防诈骗宣传", "other", "15:00", 120, 10, 0,
     "在社区广场发放防诈骗手册，讲解冒充客服、刷单返利等常见手法。"),
    ("爱心义剪", "free_haircut", "09:30", 150, 10, 0,
     "为老人和残疾人免费理发，志愿者负责排队、扫地和送行动不便的老人回家。"),
    ("四点半课堂", "after_school", "16:30", 90, 12, 0,
     "在西固区第一小学教室辅导作业、读绘本，等家长下班来接。"),
    ("爱心巡逻", "patrol", "19:00", 120, 10, 0,
     "沿小区周边巡逻，查看飞线充电、消防通道堵塞和独居老人家的灯。"),
    ("邻里纠纷调解", "mediation", "14:30", 120, 10, 0,
     "网格员和志愿者一起听双方说，调解噪音、漏水和停车纠纷。"),
)
PARTY = (
    ("主题党日：重温入党誓词", "party_day", "09:00", 120, 0, 20,
     "在职党员双报到后的主题党日：重温入党誓词，认领本网格的服务项目。"),
    ("党课：党员在网格治理中当先锋", "party_lesson", "15:00", 90, 0, 15,
     "社区党委书记讲党课，交流包楼栋、联系群众的做法。"),
)
#: where each activity meets, after the community's name
PLACES = {
    "垃圾分类督导": "各小区垃圾分类亭", "楼道清理": "党群服务中心门口集合",
    "助老送餐": "柏草木社工中心（社区食堂）", "爱心义诊": "党群服务中心一楼",
    "防诈骗宣传": "社区广场", "爱心义剪": "党群服务中心活动室",
    "四点半课堂": "西固区第一小学三楼教室", "爱心巡逻": "社区警务室门口集合",
    "邻里纠纷调解": "党群服务中心调解室", "主题党日：重温入党誓词": "党群服务中心党员活动室",
    "党课：党员在网格治理中当先锋": "党群服务中心党员活动室",
    "冬季楼道清理": "社区广场大屏前", "夜间平安巡逻": "社区广场大屏前",
}
#: why a check-in was rejected, as an organizer would write it
REJECT_REASONS = ("签到后提前离开，没有实际参加服务。", "代签：本人当天不在社区。")
# fmt: on


@dataclass
class Community:
    """A community of the demo and the people who serve there."""

    unit: Unit
    organizer: Member
    volunteers: list[Member]
    party: list[Member]


def _communities() -> list[Community]:
    """The demo's communities with their organizer (138...) and volunteers (139...), by
    id; one without an organizer or with fewer than four volunteers is left out."""
    found = []
    party_ids = set(db.session.scalars(sa.select(PartyProfile.member_id)))
    for unit in db.session.scalars(
        sa.select(Unit).where(Unit.kind == "community").order_by(Unit.id)
    ):
        organizer = db.session.scalar(
            sa.select(Member)
            .where(Member.home_unit_id == unit.id, Member.phone.like("138%"))
            .order_by(Member.id)
        )
        volunteers = list(
            db.session.scalars(
                sa.select(Member)
                .where(
                    Member.home_unit_id.in_(
                        sa.select(UnitClosure.descendant_id).where(
                            UnitClosure.ancestor_id == unit.id
                        )
                    ),
                    Member.phone.like("139%"),
                )
                .order_by(Member.phone)
            )
        )
        if organizer is not None and len(volunteers) >= 4:
            party = [m for m in volunteers if m.id in party_ids]
            found.append(Community(unit, organizer, volunteers, party))
    return found


def _local(day: date, hhmm: str) -> datetime:
    """``hhmm`` on ``day`` in the deployment's time zone, as UTC."""
    moment = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=activities.local_zone())
    return moment.astimezone(UTC)


def load_activities_demo(*, timeline: Timeline, now: datetime | None = None, seed: int = 2020):
    """Create the demo activities once and schedule their approvals on ``timeline``
    (the caller runs it); returns a summary line."""
    if db.session.scalar(sa.select(Activity.id).limit(1)) is not None:
        return ""
    now = (now or utcnow()).replace(microsecond=0)
    communities = _communities()
    admin = people.find_member_by_phone("13800000000")
    if not communities or admin is None:
        return ""
    rng = random.Random(seed)
    today = now.astimezone(activities.local_zone()).date()
    plan = [
        (community, day, spec)
        for index, community in enumerate(communities)
        for day, spec in _calendar(today, index, has_party=len(community.party) >= 2)
    ]
    past = 0
    for community, day, spec in tqdm(plan, desc="demo activities", unit="activity"):
        _past_activity(community, day, spec, rng, timeline, admin=admin, now=now)
        past += 1
    for community in communities:
        _waiting(community, today, rng, now, review=community is communities[0])
    first = communities[0]
    _live(first, rng, now)
    upcoming = _upcoming(communities, today, rng, now)
    _cancelled(first, today, rng, now)
    return (
        f"Demo activities: {past} over the last {HISTORY_DAYS // 30} months, approved; "
        f"yesterday's waiting for approval, some held for review; 1 running now, "
        f"{upcoming} upcoming, 1 cancelled.\n"
    )


def _calendar(today: date, index: int, *, has_party: bool):
    """(day, spec) of a community's past activities: a service about every six days, a
    party activity about once a month, until four days ago."""
    days_ago, n = HISTORY_DAYS - 2 * index, 0
    while days_ago >= 4:
        if has_party and n % 5 == 3:
            spec = ("party", PARTY[(n // 5) % len(PARTY)])
        else:
            spec = ("service", SERVICES[(n + 3 * index) % len(SERVICES)])
        yield today - timedelta(days=days_ago), spec
        days_ago -= 6 if n % 2 else 5
        n += 1


def _publish(community: Community, day: date, spec, *, created: datetime, **extra) -> Activity:
    kind, (title, category, start, minutes, per_hour, bonus, description) = spec
    starts_at = _local(day, start)
    activity = activities.create_activity(
        actor=community.organizer, unit_id=community.unit.id, title=title, category=category,
        starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes),
        description=description, kind=kind, lat=community.unit.lat, lng=community.unit.lng,
        address=f"{community.unit.name}{PLACES.get(title, '党群服务中心')}",
        radius_m=RADIUS_M if community.unit.lat is not None else None,
        points_per_hour=per_hour, checkin_bonus=bonus, **extra,
    )  # fmt: skip
    activity.created_at = min(created, starts_at - 3 * DAY)
    return activity


def _attendees(community: Community, kind: str, rng: random.Random, *, count: int) -> list:
    """Who came: a few of the community's volunteers (party members to a party activity),
    the demo volunteer more often than not, the organizer now and then."""
    pool = community.party if kind == "party" else community.volunteers
    chosen = rng.sample(pool, min(len(pool), count))
    regular = next((m for m in pool if m.phone == VOLUNTEER_PHONE), None)
    if regular is not None and regular not in chosen and rng.random() < 0.6:
        chosen.append(regular)
    if kind == "service" and rng.random() < 0.4:
        chosen.append(community.organizer)
    return chosen


def _scan(activity: Activity, member: Member, at: datetime, *, far=False, late=False):
    """The member's phone scans the kiosk at ``at`` (uploaded later when ``late``),
    from near the square (or two kilometres away when ``far``)."""
    token = activities.kiosk_token(activity.id, activities.step_of(at))
    jitter = (member.id % 7 - 3) * 0.0003
    lat = (activity.lat or 0) + jitter + (0.02 if far else 0)
    lng = (activity.lng or 0) - jitter
    place = {"lat": lat, "lng": lng} if activity.lat is not None else {}
    if late:
        # the phone had no signal in the basement: the scan arrives twenty minutes later
        late_at = at + timedelta(minutes=20)
        return activities.check_in(member, token, now=late_at, scanned_at=at, **place)
    return activities.check_in(member, token, now=at, **place)


def _attend(activity, member, community, rng, *, leave=True, far=False, late=False):
    """Check the member in before the start and out around the end; a member without a
    smartphone is checked in and out by the organizer."""
    arrived = activity.starts_at - timedelta(
        minutes=rng.randrange(0, 20), seconds=rng.randrange(60)
    )
    left = activity.ends_at + timedelta(minutes=rng.randrange(-10, 15), seconds=rng.randrange(60))
    if not member.has_smartphone:
        result = activities.manual_check_in(
            activity, member, actor=community.organizer, now=arrived
        )
        if leave:
            result = activities.manual_check_in(
                activity, member, actor=community.organizer, now=left
            )
        return result.attendance
    result = _scan(activity, member, arrived, far=far, late=late)
    if leave:
        result = _scan(activity, member, left)
    return result.attendance


def _past_activity(community, day, spec, rng, timeline: Timeline, *, admin, now) -> None:
    """One past activity, attended, and its approval scheduled a few hours to a day after
    it ended (now and then one attendance rejected first)."""
    activity = _publish(community, day, spec, created=now)
    attended = [
        _attend(activity, member, community, rng)
        for member in _attendees(community, spec[0], rng, count=rng.randint(4, 9))
    ]
    rejected = [attended[0].id] if rng.random() < 0.12 and len(attended) > 3 else []
    decided_at = _office_hours(activity.ends_at + timedelta(hours=rng.randint(2, 30)), rng)
    decided_at = min(decided_at, now - DAY)
    timeline.at(
        decided_at, _decide, activity, attended, rejected,
        reason=rng.choice(REJECT_REASONS), organizer=community.organizer, admin=admin,
        at=decided_at,
    )  # fmt: skip


def _office_hours(moment: datetime, rng: random.Random) -> datetime:
    """``moment``, or the next morning when it falls at night where the district is: an
    organizer approves between 08:00 and 21:00."""
    local = moment.astimezone(activities.local_zone())
    if 8 <= local.hour < 21:
        return moment
    day = local.date() + (DAY if local.hour >= 21 else timedelta(0))
    return _local(day, "08:00") + timedelta(minutes=rng.randrange(0, 90))


def _decide(activity, attended, rejected, *, reason, organizer, admin, at) -> None:
    """The organizer rejects what was wrong and approves the rest; the admin approves
    the organizer's own attendance (nobody approves their own)."""
    if rejected:
        activities.reject_attendance(activity, rejected, actor=organizer, reason=reason, now=at)
    ids = [a.id for a in attended if a.id not in rejected and a.member_id != organizer.id]
    own = [a.id for a in attended if a.member_id == organizer.id]
    if ids:
        activities.approve_attendance(activity, ids, actor=organizer, now=at)
    if own:
        activities.approve_attendance(activity, own, actor=admin, now=at)


def _waiting(community: Community, today: date, rng, now: datetime, *, review: bool) -> None:
    """Yesterday's clean-up, checked out and waiting for the organizer; in the first
    community also an anti-fraud stall two days ago whose scans are held for review (far
    from the square, uploaded late)."""
    spec = ("service", SERVICES[1])
    yesterday = _publish(community, today - DAY, spec, created=now - 6 * DAY)
    members = [m for m in community.volunteers if m.phone == VOLUNTEER_PHONE]
    members += rng.sample(community.volunteers, min(len(community.volunteers), 6))
    for member in dict.fromkeys(members):
        _attend(yesterday, member, community, rng)
    if not review:
        return
    stall = _publish(community, today - 2 * DAY, ("service", SERVICES[4]), created=now - 9 * DAY)
    for n, member in enumerate(rng.sample(community.volunteers, min(len(community.volunteers), 7))):
        if member.has_smartphone:
            _attend(stall, member, community, rng, far=n in (0, 1), late=n in (2, 3))


def _live(community: Community, rng, now: datetime) -> Activity:
    """An activity running now: started an hour ago, a few already checked in; its kiosk
    shows the rotating code. A night patrol when it is night where the district is."""
    hour = now.astimezone(activities.local_zone()).hour
    title, category = ("冬季楼道清理", "cleanup") if 6 <= hour < 20 else ("夜间平安巡逻", "patrol")
    starts_at = now.replace(minute=now.minute - now.minute % 15, second=0) - timedelta(hours=1)
    activity = activities.create_activity(
        actor=community.organizer, unit_id=community.unit.id, title=title, category=category,
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=3),
        description="正在进行：到社区广场扫大屏上的二维码签到，结束时再扫一次签退。",
        address=f"{community.unit.name}{PLACES[title]}",
        lat=community.unit.lat, lng=community.unit.lng,
        radius_m=RADIUS_M if community.unit.lat is not None else None, points_per_hour=10,
    )  # fmt: skip
    activity.created_at = now - 4 * DAY
    others = [m for m in community.volunteers if m.phone != VOLUNTEER_PHONE and m.has_smartphone]
    for member in rng.sample(others, min(len(others), 4)):
        arrived = starts_at + timedelta(minutes=rng.randrange(0, 40), seconds=rng.randrange(60))
        _scan(activity, member, min(arrived, now - timedelta(minutes=2)))
    return activity


# fmt: off
#: (community index, days ahead, spec, sign-ups, extra fields)
UPCOMING = (
    (0, 1, ("service", ("周末环境卫生大扫除", "cleanup", "09:00", 180, 10, 5,
                        "清扫小区死角、清运楼道杂物，自带手套。")), 6, {"capacity": 20}),
    (0, 3, ("service", ("爱心义诊：测血压血糖", "free_clinic", "08:30", 180, 10, 0,
                        "西固区人民医院来社区义诊，需要6名志愿者引导登记；名额已满可关注下次。")),
     6, {"capacity": 6, "signup_required": True}),
    (0, 5, ("party", PARTY[0][:4] + (0, 20, "只限党员参加：在职党员双报到后的主题党日。")),
     3, {"capacity": 30}),
    (0, 8, ("service", SERVICES[6]), 2, {"capacity": 10}),
    (1, 2, ("service", SERVICES[7]), 3, {}),
    (2, 4, ("service", SERVICES[2]), 3, {"capacity": 8}),
)
# fmt: on


def _upcoming(communities: list[Community], today: date, rng, now: datetime) -> int:
    """Upcoming activities with sign-ups: the demo volunteer has a place tomorrow; one is
    full; one is for party members only."""
    made = 0
    for index, days, spec, signups, extra in UPCOMING:
        if index >= len(communities):
            continue
        community = communities[index]
        activity = _publish(community, today + days * DAY, spec, created=now - 2 * DAY, **extra)
        pool = community.party if spec[0] == "party" else community.volunteers
        first = [m for m in pool if m.phone == VOLUNTEER_PHONE and "signup_required" not in extra]
        others = [m for m in pool if m.phone != VOLUNTEER_PHONE]
        members = first + rng.sample(others, min(len(others), signups - len(first)))
        for n, member in enumerate(members):
            activities.sign_up(activity, member, now=now - timedelta(hours=30 - n))
        made += 1
    return made


def _cancelled(community: Community, today: date, rng, now: datetime) -> None:
    """Yesterday's free haircut, cancelled two days ago: those signed up (the demo
    volunteer among them) were told in their inbox."""
    spec = ("service", ("爱心义剪进社区", "free_haircut", "09:30", 150, 10, 0, SERVICES[5][6]))
    activity = _publish(community, today - DAY, spec, created=now - 8 * DAY, capacity=12)
    regular = [m for m in community.volunteers if m.phone == VOLUNTEER_PHONE]
    others = [m for m in community.volunteers if m.phone != VOLUNTEER_PHONE]
    for member in regular + rng.sample(others, min(len(others), 3)):
        activities.sign_up(activity, member, now=now - 6 * DAY)
    activities.cancel_activity(
        activity, actor=community.organizer, reason="理发师临时生病，改期另行通知",
        now=now - 2 * DAY,
    )  # fmt: skip


def load_credits_demo() -> None:
    """Today's ledger requests, after every earlier posting: in the first community an
    award waiting for a second organizer and one the admin rejected with a reason; a
    volunteer gives hours to the community pool and another to the neighbour without a
    smartphone."""
    communities = _communities()
    admin = people.find_member_by_phone("13800000000")
    if not communities or admin is None or db.session.scalar(sa.select(PendingCredit.id)):
        return
    first = communities[0]
    organizer, volunteers = first.organizer, first.volunteers
    for n, (ledger_name, amount, memo) in enumerate(
        (
            ("POINTS", 100, "连续三个月参加垃圾分类督导，社区表扬奖励"),
            ("HOURS", 120, "帮邻居搬运过冬的煤块两小时"),
        )
    ):
        member = volunteers[(2 + n) % len(volunteers)]
        asked = ledger.request_manual_credit(
            ledger=ledger_name, code="award", member_id=member.id,
            member_unit_id=member.home_unit_id, unit_id=member.home_unit_id, amount=amount,
            memo=memo, idempotency_key=f"demo:award:{n}", requested_by_id=organizer.id,
        )  # fmt: skip
        if n == 1:
            ledger.reject_manual_credit(
                asked.pending.id, approver_id=admin.id,
                reason="这次帮忙已在「楼道清理」活动中计入时长，不能重复奖励。",
            )  # fmt: skip
    _donations(first)


def _donations(community: Community) -> None:
    donor = people.find_member_by_phone(VOLUNTEER_PHONE)
    if donor is not None and _hours(donor) >= 60:
        ledger.donate_hours(
            donor_id=donor.id, donor_unit_id=donor.home_unit_id, minutes=60,
            idempotency_key="demo:donate:pool", pool_unit_id=community.unit.id,
            memo="捐给社区时间银行互助池，帮助有需要的老人",
        )  # fmt: skip
    pair = ward_and_guardian()
    giver = next(
        (m for m in community.volunteers if m.has_smartphone and m.phone != VOLUNTEER_PHONE),
        None,
    )
    if pair is not None and giver is not None and _hours(giver) >= 90:
        ward = pair[0]
        # the use case, as the page calls it: the ward's inbox hears of it, with the note
        ledger.donate(
            donor=giver, actor=giver, minutes=90, idempotency_key="demo:donate:neighbour",
            recipient_id=ward.id, memo="给行动不便的邻居",
        )  # fmt: skip


def _hours(member: Member) -> int:
    return ledger.balances(member.id)["HOURS"]["balance"]


def ward_and_guardian() -> tuple[Member, Member] | None:
    """(ward, guardian) of the first active guardianship of a member without a
    smartphone, by phone number."""
    ward = aliased(Member)
    row = db.session.execute(
        sa.select(ward, Member)
        .join(Guardianship, Guardianship.member_id == ward.id)
        .join(Member, Member.id == Guardianship.guardian_id)
        .where(Guardianship.status == "active", ward.has_smartphone.is_(False))
        .order_by(ward.phone)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def demo_logins() -> str:
    """Login lines naming the guardian and ward and the activity running now (read from
    the database, so a second run says the same); what waits for each organizer is said
    by reminders/demo.py."""
    lines = []
    pair = ward_and_guardian()
    if pair is not None:
        ward, guardian = pair
        lines.append(
            f"  guardian   {guardian.phone} ({guardian.name}) acts for {ward.phone} "
            f"({ward.name}, no smartphone): home page → the ward's balance and statement"
        )
    now = utcnow()
    live = db.session.scalar(
        sa.select(Activity)
        .where(Activity.starts_at <= now, Activity.ends_at > now, Activity.status == "published")
        .order_by(Activity.id)
        .limit(1)
    )
    if live is not None:
        lines.append(f"  live now   「{live.title}」: kiosk /activities/{live.id}/kiosk")
    return "".join(f"{line}\n" for line in lines)
