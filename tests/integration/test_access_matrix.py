"""The permission matrix: every API operation, as six callers, gets the documented answer.

The documentation is the registry in timebank/core/access.py: each operation declares
one action, and each action its scope and roles. ``expected()`` below reads those
declarations and applies them to this test's small world by hand (it never calls
``access.may``), so the matrix checks the code against what the registry says.

Callers: anonymous, a volunteer of community A, the organizer of community B (another
community), the organizer of A (in scope), a guardian (a volunteer of A who acts for a
ward of A), the street's admin, and two shop owners of community A: ``merchant_staff``
owns and staffs shop A, ``merchant_staff_other`` shop B. Everything acted on lies in
community A, and every shop's object in shop A: staff of B may not see, confirm or refund
A's redemptions.

- allowed: a 2xx, with a request a real client would send;
- not allowed: 401 without a login, else 403 ``forbidden`` (an object out of scope is
  403, not 404: see core/access.py);
- and, separately, every operation with an id in its path answers 404 for an id that
  does not exist.

A new API operation without a case here fails ``test_every_operation_has_a_case``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.activities_factories import create_activity
from tests.merchants_factories import (
    code_of,
    create_merchant,
    create_offer,
    fund,
    make_staff,
    redeemed_last_month,
)
from tests.projects_factories import PNG
from timebank.activities import operations as activities
from timebank.core.access import ACTIONS, Scope
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox import operations as inbox
from timebank.merchants import operations as merchants
from timebank.people import operations as people
from timebank.projects import operations as projects
from timebank.reports import periods
from timebank.units import operations as units

CALLERS = (
    "anonymous", "volunteer", "organizer_other", "organizer", "guardian", "admin",
    "merchant_staff", "merchant_staff_other",
)  # fmt: skip
SKIP_METHODS = {"HEAD", "OPTIONS"}
_serial = itertools.count(1)

# The world, by name: where each unit sits, and what each caller holds.
UNIT_LINES = {
    "street": ["street"],
    "a": ["a", "street"],
    "b": ["b", "street"],
    "grid_a": ["grid_a", "a", "street"],
    "building_a": ["building_a", "grid_a", "a", "street"],
}
HOME = {
    "volunteer": "building_a",
    "guardian": "building_a",
    "organizer": "a",
    "organizer_other": "b",
    "admin": "street",
    "merchant_staff": "building_a",
    "merchant_staff_other": "building_a",
}
ROLES = {
    "volunteer": {("volunteer", "building_a")},
    "guardian": {("volunteer", "building_a")},
    "organizer": {("organizer", "a")},
    "organizer_other": {("organizer", "b")},
    "admin": {("admin", "street")},
    "merchant_staff": {("merchant_staff", "a")},
    "merchant_staff_other": {("merchant_staff", "a")},
}
#: the shop each caller is staff of (MERCHANT scope); both own theirs
MERCHANTS = {"merchant_staff": "A", "merchant_staff_other": "B"}


@dataclass
class Call:
    """One request: where, with what, and what the registry is asked about it."""

    url: str
    json: dict | None = None
    files: dict | None = None
    #: the action whose rule applies, when the body decides it (POST /transfers)
    action: str | None = None
    #: the unit the action is done in (by name in UNIT_LINES)
    unit: str = "a"
    #: the target is the guardian's ward (self_ok / ward_ok rules)
    ward: bool = False
    #: the member acted on is shop A's owner, the ``merchant_staff`` caller (self_ok rules)
    owner: bool = False
    #: the shop the action is done to (MERCHANT scope)
    merchant: str = "A"
    #: callers with a documented answer of their own, e.g. {"volunteer": 403}
    special: dict = field(default_factory=dict)
    #: the object belongs to this caller (one's own notification): ``self_ok`` allows
    #: them, everyone else is refused 403
    mine: str | None = None


def expected(caller: str, action_name: str, call: Call) -> str:
    """'allowed', 401 or 403, from the registry's declaration of ``action_name``."""
    action = ACTIONS[action_name]
    if action.scope is Scope.PUBLIC:
        return "allowed"
    if caller == "anonymous":
        return 401
    if call.mine is not None and action.self_ok:
        return "allowed" if caller == call.mine else 403
    if action.scope in (Scope.MEMBER, Scope.WARD):
        if call.ward and action.scope is Scope.WARD:
            # done to a member (the ward): only they or their guardian, whatever the roles
            return "allowed" if caller == "guardian" else 403
        return "allowed"
    if call.ward and caller == "guardian" and action.ward_ok:
        return "allowed"
    if action.scope is Scope.MERCHANT:
        staff = "merchant_staff" in action.roles and MERCHANTS.get(caller) == call.merchant
        return "allowed" if staff else 403
    if call.owner and caller == "merchant_staff" and action.self_ok:
        return "allowed"
    held = {role for role, _unit in ROLES[caller] if role in action.roles}
    if action.scope is Scope.GLOBAL:
        return "allowed" if held else 403
    line = UNIT_LINES[call.unit]
    if any(role in action.roles and unit in line for role, unit in ROLES[caller]):
        return "allowed"
    if action.home_line and call.unit in UNIT_LINES[HOME[caller]]:
        return "allowed"
    return 403


# ---------------------------------------------------------------- the world


class World:
    def __init__(self, district):
        self.d = district
        a, building_a = district["a"], district["building_a"]
        self.members = {
            "admin": factories.create_member(district["street"], roles=("admin",)),
            "organizer": factories.create_member(a, roles=("organizer",)),
            "organizer_other": factories.create_member(district["b"], roles=("organizer",)),
            "volunteer": factories.create_member(building_a),
            "guardian": factories.create_member(building_a),
        }
        #: a second organizer of A asks for the credits the others decide (four-eyes)
        self.requester = factories.create_member(a, roles=("organizer",))
        self.ward = factories.create_member(building_a, name="独居老人", password=None)
        people.add_guardian(self.ward, self.members["guardian"], relation="邻居", actor=None)
        now = datetime.now(UTC)
        self.activity = create_activity(
            a, organizer=self.members["organizer"], starts_at=now - timedelta(minutes=5)
        )
        self.join_link = people.renew_join_link(a.id, actor=None)
        for caller, shop in MERCHANTS.items():
            owner = factories.create_member(building_a)
            self.members[caller] = owner
            merchant = create_merchant(a, owner=owner, organizer=self.requester, name=f"商店{shop}")
            setattr(self, f"merchant_{shop.lower()}", merchant)
        self.offer = create_offer(self.merchant_a, points_cost=10)
        self._projects_world(now)  # every caller, shop staff too, holds a place
        db.session.commit()

    # ---------------------------------------------------------------- the three lists

    def _projects_world(self, now):
        organizer = self.members["organizer"]
        self.org = units.create_organization(
            unit_id=self.d["a"].id, name="兰州石化公司", kind="company", contact=None
        )
        self.need = projects.file_need(
            resident=self.ward, filed_by=self.ward, title="污水外溢", category="sanitation"
        )
        self.resource = projects.offer_resource(
            actor=organizer, title="周六面包车", category="vehicle", organization_id=self.org.id
        )
        self.open_project = self.fresh_project(places=50)
        # every caller (and the ward) holds a place on a project that has not started ...
        self.claimed = self.fresh_project(places=50)
        for member in [*self.members.values(), self.ward]:
            projects.claim_place(self.claimed, member, now=now)
        # ... and on one under way since an hour ago, where the ward reported hours
        start = now - timedelta(hours=1)
        self.running = self.fresh_project(places=200, starts_at=start, hours=6)
        #: people serving on it whose hours the approval cases decide, one each
        self.servers = [
            factories.create_member(self.d["building_a"], password=None) for _ in range(16)
        ]
        for member in [*self.members.values(), self.ward, *self.servers]:
            projects.claim_place(self.running, member, now=start - timedelta(minutes=5))
        projects.change_project_status(self.running, "in_progress", actor=organizer)
        self.ward_log = self.hour_log(self.ward, photo=PNG)

    def fresh_project(self, *, places=5, publish=True, starts_at=None, hours=2, **kwargs):
        starts_at = starts_at or datetime.now(UTC) + timedelta(days=10)
        return projects.create_project(
            actor=self.members["organizer"],
            unit_id=self.d["a"].id,
            title=unique("项目"),
            category="sanitation",
            places=places,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            daily_minutes=hours * 60,
            publish=publish,
            now=starts_at - timedelta(days=20),
            **kwargs,
        )

    def hour_log(self, member, **kwargs):
        return projects.log_hours(
            member=member,
            logged_by=member,
            project=self.running,
            served_on=projects.local_date(datetime.now(UTC)),
            minutes=15,
            description="清理楼道杂物",
            **kwargs,
        )

    def fresh_need(self, resident=None, **kwargs):
        resident = resident or self.ward
        need = projects.file_need(
            resident=resident,
            filed_by=resident,
            title=unique("需求"),
            category="safety",
            **kwargs,
        )
        db.session.commit()
        return need

    def committed(self, value):
        db.session.commit()
        return value

    def pending_log(self):
        """A fresh member's log on the running project, waiting for a decision."""
        return self.committed(self.hour_log(self.servers.pop()))

    def ward_wish(self):
        wish = self.fresh_need(resident=self.neighbour(), is_wish=True)
        return self.committed(projects.take_wish(wish, self.ward))

    def ward_assignment(self):
        project = self.fresh_project()
        organizer = self.members["organizer"]
        return self.committed(projects.assign_member(project, self.ward, actor=organizer))

    def resolved_need(self):
        """A need of the ward, answered by a project now verified."""
        need = self.fresh_need()
        organizer = self.members["organizer"]
        project = self.fresh_project(need_ids=[need.id], publish=True)
        for status in ("in_progress", "done", "verified"):
            projects.change_project_status(project, status, actor=organizer)
        return self.committed(need)

    def join_code(self) -> str:
        # the join-link cases renew the link: take the live one
        return people.current_join_link(self.d["a"].id).code

    def unit(self, name: str) -> int:
        return self.d[name].id

    def headers(self, caller: str) -> dict:
        if caller == "anonymous":
            return {}
        token, _row = people.issue_token(self.members[caller])
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    def neighbour(self):
        """A resident of A who is none of the callers: whose small wish anyone may take
        (nobody takes their own, nor their ward's)."""
        if getattr(self, "_neighbour", None) is None:
            self._neighbour = self.fresh_member(name="邻居")
        return self._neighbour

    def fresh_member(self, **kwargs):
        member = factories.create_member(self.d["building_a"], **kwargs)
        db.session.commit()
        return member

    def fresh_activity(self, **kwargs):
        activity = create_activity(self.d["a"], organizer=self.members["organizer"], **kwargs)
        db.session.commit()
        return activity

    def ended_attendance(self):
        """An attendance of an activity that ended an hour ago, ready for a decision."""
        start = datetime.now(UTC) - timedelta(hours=3)
        activity = self.fresh_activity(starts_at=start, hours=2)
        member = self.fresh_member()
        result = activities.manual_check_in(
            activity, member, actor=self.requester, now=start + timedelta(minutes=5)
        )
        db.session.commit()
        return activity, result.attendance

    def pending_credit(self, client) -> int:
        target = self.fresh_member()
        response = client.post(
            "/api/v1/transfers",
            headers=self.headers_of(self.requester),
            json=award_body(target.id),
        )
        assert response.status_code == 202, response.json
        return response.json["pending_credit"]["id"]

    def notification_of(self, caller: str) -> int:
        """A fresh notification to ``caller``: a reminder of the world's activity."""
        written = inbox.notify(
            self.members[caller],
            "activity_soon",
            key=unique("matrix-notification-"),
            params={"title": "周六环境整治", "starts": "09:00"},
            link=f"/activities/{self.activity.id}",
        )
        db.session.commit()
        return written.id

    def shop(self, status: str = "approved"):
        """A fresh shop of community A in ``status``."""
        merchant = create_merchant(
            self.d["a"], organizer=self.requester, approved=status != "pending",
            name=unique("新店"),
        )  # fmt: skip
        if status == "suspended":
            merchants.suspend_merchant(merchant, actor=self.requester, reason="整改")
        db.session.commit()
        return merchant

    def redemption(self, *, confirmed: bool = False):
        """A fresh member's held (or confirmed) redemption at shop A."""
        member = self.fresh_member()
        fund(member, 50)
        held = merchants.redeem(
            code=code_of(member), offer_id=self.offer.id, idempotency_key=unique("matrix-r"),
            staff=self.members["merchant_staff"],
        ).redemption  # fmt: skip
        if confirmed:
            merchants.confirm_redemption(held.id, staff=self.members["merchant_staff"])
        db.session.commit()
        return held

    def redeem_body(self) -> dict:
        member = self.fresh_member()
        fund(member, 50)
        db.session.commit()
        return {"code": code_of(member), "offer_id": self.offer.id,
                "idempotency_key": unique("matrix-k")}  # fmt: skip

    def headers_of(self, member) -> dict:
        token, _row = people.issue_token(member)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}


def award_body(member_id: int) -> dict:
    key = f"matrix-{next(_serial)}"
    return {
        "kind": "award",
        "member_id": member_id,
        "amount": 30,
        "idempotency_key": key,
        "memo": "春节慰问志愿服务",
    }


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


# ---------------------------------------------------------------- one case per operation


def _cases() -> dict:
    """(method, rule) -> a function (world, client) -> Call, made afresh for each caller."""
    A = "/api/v1/activities/<int(max=2147483647):activity_id>"
    M = "/api/v1/members/<int(max=2147483647):member_id>"
    U = "/api/v1/units/<int(max=2147483647):unit_id>"
    P = "/api/v1/pending-credits/<int(max=2147483647):pending_id>/<any(approve, reject):decision>"
    G = f"{M}/guardians/<int(max=2147483647):guardian_id>/<any(confirm, decline):decision>"
    N = "/api/v1/me/notifications/<int(max=2147483647):notification_id>"

    def token_body(w, c):
        phone = w.fresh_member().phone
        return Call("/api/v1/auth/token", json={"phone": phone, "password": factories.PASSWORD})

    def donation_preview(w, c):
        if not getattr(w, "hours_to_give", False):  # the answer is about who may ask
            for member in w.members.values():
                fund(member, 0, minutes=60)
            db.session.commit()
            w.hours_to_give = True
        body = {"amount": 1, "recipient_id": w.fresh_member().id}
        return Call("/api/v1/me/donations/preview", json=body)

    def join(w, c):
        body = {"code": w.join_code(), "phone": factories.next_phone(), "name": "新居民"}
        # registering while logged in is refused by design (log out first)
        logged_in = {name: 403 for name in CALLERS if name != "anonymous"}
        return Call("/api/v1/join", json=body, special=logged_in)

    def join_verify(w, c):
        from tests.sms import last_code

        phone = factories.next_phone()
        body = {"code": w.join_code(), "phone": phone, "name": "新居民"}
        assert c.post("/api/v1/join", json=body).status_code == 202
        answer = {"phone": phone, "code": last_code(phone), "password": "pw-123456"}
        return Call("/api/v1/join/verify", json=answer)

    def roster(w, c):
        import io

        csv = f"姓名,手机号\n新人,{factories.next_phone()}\n".encode()
        return Call(
            f"/api/v1/units/{w.unit('a')}/members/import",
            files={"file": (io.BytesIO(csv), "roster.csv")},
        )

    def approve_attendance(decision):
        def make(w, c):
            activity, attendance = w.ended_attendance()
            body = {"ids": [attendance.id]}
            if decision == "reject":
                body["reason"] = "没有到场"
            return Call(f"/api/v1/activities/{activity.id}/attendance/{decision}", json=body)

        return make

    def decide_credit(decision):
        def make(w, c):
            return Call(f"/api/v1/pending-credits/{w.pending_credit(c)}/{decision}")

        return make

    def decide_guardian(decision):
        def make(w, c):
            ward = w.fresh_member(password=None, has_smartphone=False)
            helper = w.fresh_member()
            people.add_guardian(ward, helper, relation="邻居", actor=w.requester)
            db.session.commit()
            url = f"/api/v1/members/{ward.id}/guardians/{helper.id}/{decision}"
            return Call(url, unit=BA)

        return make

    def checkin(w, c):
        token = activities.current_code(w.activity)["token"]
        return Call("/api/v1/checkins", json={"token": token})

    def badge_scan(w, c):
        badge = activities.current_badge(w.fresh_member())["token"]
        return Call(f"/api/v1/activities/{w.activity.id}/badge-scans", json={"code": badge})

    MR = "/api/v1/merchants/<int(max=2147483647):merchant_id>"
    OF = "/api/v1/offers/<int(max=2147483647):offer_id>"
    RE = "/api/v1/redemptions/<int(max=2147483647):redemption_id>"
    ST = "/api/v1/statements/<int(max=2147483647):statement_id>"

    def shop_body(w):
        return {
            "unit_id": w.unit("a"), "name": unique("申请的店"), "address": "上坎路1号",
            "category": "grocery", "contact_name": "王建国", "contact_phone": "0931-7512345",
        }  # fmt: skip

    def offer_body(w):
        return {
            "title": unique("满30减5"), "points_cost": 10, "benefit": "discount",
            "discount_fen": 500, "valid_from": "2026-01-01T00:00:00+08:00",
            "valid_until": "2036-01-01T00:00:00+08:00",
        }  # fmt: skip

    def staff_removal(w, c):
        clerk = w.fresh_member()
        make_staff(w.merchant_a, clerk)
        db.session.commit()
        return Call(f"/api/v1/merchants/{w.merchant_a.id}/staff/{clerk.id}", owner=True)

    def month(w):
        return f"{merchants.current_month(utcnow()):%Y-%m}"

    def answer_invitation(answer):
        # the volunteer is invited afresh for each caller; accepting makes them staff of A
        # until the next caller's case removes them again (the volunteer is not called last)
        def call(w, c):
            volunteer = w.members["volunteer"]
            merchants.remove_staff(w.merchant_a, member_id=volunteer.id, actor=w.merchant_a.owner)
            merchants.invite_staff(w.merchant_a, phone=volunteer.phone, actor=w.merchant_a.owner)
            [invitation] = merchants.invitations_for(volunteer)
            db.session.commit()
            return Call(f"/api/v1/staff-invitations/{invitation.id}/{answer}", mine="volunteer")

        return call

    def statement_of_a(w):
        statement = merchants.build_statement(w.merchant_a, merchants.current_month(utcnow()))
        db.session.commit()
        return statement.id

    def owing_statement(w):
        """A statement of last month of a fresh shop of A that owes it something."""
        shop = w.shop()
        customer = w.fresh_member()
        fund(customer, 20)
        redeemed_last_month(shop, customer)
        statement = merchants.build_statement(shop, merchants.previous_month(utcnow()))
        db.session.commit()
        return statement

    def statement_to_pay(w, c):
        statement = owing_statement(w)
        return Call(f"/api/v1/statements/{statement.id}/pay", json={"reference": "转账 001"})

    def statements_to_pay(w, c):
        statement = owing_statement(w)
        return Call(
            f"/api/v1/units/{statement.unit_id}/statements/pay",
            json={"statement_ids": [statement.id], "reference": "转账 002"},
        )

    def shop_a(w):
        return w.merchant_a.id

    INVITATION = (
        "/api/v1/staff-invitations/<int(max=2147483647):invitation_id>"
        "/<any(accept, decline):answer>"
    )
    merchant_cases = {
        ("GET", "/api/v1/merchants"): lambda w, c: Call("/api/v1/merchants"),
        ("POST", "/api/v1/merchants"): lambda w, c: Call("/api/v1/merchants", json=shop_body(w)),
        ("GET", MR): lambda w, c: Call(f"/api/v1/merchants/{shop_a(w)}"),
        ("PATCH", MR): lambda w, c: Call(
            f"/api/v1/merchants/{shop_a(w)}", json={"opening_hours": "每天 7:00-20:00"}, owner=True
        ),
        ("POST", f"{MR}/approve"): lambda w, c: Call(
            f"/api/v1/merchants/{w.shop('pending').id}/approve"
        ),
        ("POST", f"{MR}/reject"): lambda w, c: Call(
            f"/api/v1/merchants/{w.shop('pending').id}/reject", json={"reason": "证照不全"}
        ),
        ("POST", f"{MR}/suspend"): lambda w, c: Call(
            f"/api/v1/merchants/{w.shop().id}/suspend", json={"reason": "投诉"}
        ),
        ("POST", f"{MR}/reinstate"): lambda w, c: Call(
            f"/api/v1/merchants/{w.shop('suspended').id}/reinstate"
        ),
        ("GET", f"{MR}/staff"): lambda w, c: Call(
            f"/api/v1/merchants/{shop_a(w)}/staff", owner=True
        ),
        ("POST", f"{MR}/staff"): lambda w, c: Call(
            f"/api/v1/merchants/{shop_a(w)}/staff",
            json={"phone": w.fresh_member().phone},
            owner=True,
        ),  # fmt: skip
        ("DELETE", f"{MR}/staff/<int(max=2147483647):member_id>"): staff_removal,
        ("GET", "/api/v1/me/staff-invitations"): lambda w, c: Call("/api/v1/me/staff-invitations"),
        ("POST", INVITATION): answer_invitation("decline"),
        ("POST", INVITATION + "#reject"): answer_invitation("accept"),
        ("GET", f"{MR}/offers"): lambda w, c: Call(f"/api/v1/merchants/{shop_a(w)}/offers"),
        ("POST", f"{MR}/offers"): lambda w, c: Call(
            f"/api/v1/merchants/{shop_a(w)}/offers", json=offer_body(w), owner=True
        ),
        ("GET", "/api/v1/offers"): lambda w, c: Call("/api/v1/offers"),
        ("GET", OF): lambda w, c: Call(f"/api/v1/offers/{w.offer.id}"),
        ("PATCH", OF): lambda w, c: Call(
            f"/api/v1/offers/{create_offer(w.merchant_a).id}", json={"stock": 50}, owner=True
        ),
        ("POST", f"{OF}/withdraw"): lambda w, c: Call(
            f"/api/v1/offers/{create_offer(w.merchant_a).id}/withdraw", owner=True
        ),
        ("GET", f"{U}/merchants"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/merchants"),
        ("GET", f"{U}/offers"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/offers"),
        ("GET", "/api/v1/me/redeem-code"): lambda w, c: Call("/api/v1/me/redeem-code"),
        ("GET", "/api/v1/me/redemptions"): lambda w, c: Call("/api/v1/me/redemptions"),
        ("POST", "/api/v1/redemptions"): lambda w, c: Call(
            "/api/v1/redemptions", json=w.redeem_body()
        ),
        ("GET", RE): lambda w, c: Call(f"/api/v1/redemptions/{w.redemption().id}"),
        ("POST", f"{RE}/confirm"): lambda w, c: Call(
            f"/api/v1/redemptions/{w.redemption().id}/confirm"
        ),
        ("POST", f"{RE}/void"): lambda w, c: Call(f"/api/v1/redemptions/{w.redemption().id}/void"),
        ("POST", f"{RE}/refund"): lambda w, c: Call(
            f"/api/v1/redemptions/{w.redemption(confirmed=True).id}/refund", json={}
        ),
        ("GET", f"{MR}/redemptions"): lambda w, c: Call(
            f"/api/v1/merchants/{shop_a(w)}/redemptions"
        ),
        ("GET", f"{MR}/summary"): lambda w, c: Call(f"/api/v1/merchants/{shop_a(w)}/summary"),
        ("GET", f"{MR}/statements"): lambda w, c: Call(
            f"/api/v1/merchants/{shop_a(w)}/statements", owner=True
        ),
        ("POST", f"{MR}/statements"): lambda w, c: Call(
            f"/api/v1/merchants/{shop_a(w)}/statements", json={"month": month(w)}
        ),
        ("GET", f"{U}/statements"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/statements"),
        ("POST", f"{U}/statements"): lambda w, c: Call(
            f"/api/v1/units/{ua(w)}/statements", json={"month": month(w)}
        ),
        ("GET", ST): lambda w, c: Call(f"/api/v1/statements/{statement_of_a(w)}", owner=True),
        ("POST", f"{ST}/pay"): statement_to_pay,
        ("POST", f"{U}/statements/pay"): statements_to_pay,
    }

    ua, act = (lambda w: w.unit("a")), (lambda w: w.activity.id)
    BA = "building_a"  # members acted on live there: their home is the target unit
    return {
        **_projects_cases(),
        **_reports_cases(),
        **_transparency_cases(),
        ("POST", "/api/v1/auth/token"): token_body,
        ("DELETE", "/api/v1/auth/token"): lambda w, c: Call("/api/v1/auth/token"),
        ("POST", "/api/v1/auth/code"): lambda w, c: Call(
            "/api/v1/auth/code", json={"phone": w.fresh_member().phone}
        ),
        ("POST", "/api/v1/me/password"): lambda w, c: Call(
            "/api/v1/me/password",
            json={"current": factories.PASSWORD, "new": factories.PASSWORD},
        ),
        ("POST", "/api/v1/me/sessions/end"): lambda w, c: Call("/api/v1/me/sessions/end"),
        ("GET", "/api/v1/me"): lambda w, c: Call("/api/v1/me"),
        ("GET", "/api/v1/me/attendance"): lambda w, c: Call("/api/v1/me/attendance"),
        ("GET", "/api/v1/me/badge"): lambda w, c: Call("/api/v1/me/badge"),
        ("GET", "/api/v1/me/balances"): lambda w, c: Call("/api/v1/me/balances"),
        ("GET", "/api/v1/me/transfers"): lambda w, c: Call("/api/v1/me/transfers"),
        ("POST", "/api/v1/me/donations/preview"): donation_preview,
        ("GET", "/api/v1/me/notifications"): lambda w, c: Call("/api/v1/me/notifications"),
        ("POST", "/api/v1/me/notifications/read-all"): lambda w, c: Call(
            "/api/v1/me/notifications/read-all"
        ),
        ("POST", f"{N}/read"): lambda w, c: Call(
            f"/api/v1/me/notifications/{w.notification_of('volunteer')}/read", mine="volunteer"
        ),
        ("POST", "/api/v1/join"): join,
        ("POST", "/api/v1/join/verify"): join_verify,
        ("POST", "/api/v1/join/resend"): lambda w, c: Call(
            "/api/v1/join/resend", json={"phone": factories.next_phone()}
        ),
        ("POST", "/api/v1/members"): lambda w, c: Call(
            "/api/v1/members",
            json={"name": "新成员", "phone": factories.next_phone(), "home_unit_id": ua(w)},
        ),
        ("GET", M): lambda w, c: Call(f"/api/v1/members/{w.ward.id}", ward=True, unit=BA),
        ("DELETE", M): lambda w, c: Call(f"/api/v1/members/{w.fresh_member().id}", unit=BA),
        ("GET", "/api/v1/audit"): lambda w, c: Call("/api/v1/audit"),
        ("GET", "/api/v1/audit.csv"): lambda w, c: Call("/api/v1/audit.csv"),
        ("GET", "/api/v1/me/export"): lambda w, c: Call("/api/v1/me/export"),
        ("POST", f"{M}/party-registration"): lambda w, c: Call(
            f"/api/v1/members/{w.ward.id}/party-registration",
            json={"branch": "退休党支部"},
            ward=True,
            unit=BA,
        ),
        ("POST", f"{M}/approve"): lambda w, c: Call(
            f"/api/v1/members/{w.fresh_member(status='pending').id}/approve", unit=BA
        ),
        ("POST", f"{M}/reject"): lambda w, c: Call(
            f"/api/v1/members/{w.fresh_member(status='pending').id}/reject",
            json={"reason": "不是本社区居民"},
            unit=BA,
        ),
        ("POST", f"{M}/guardians"): lambda w, c: Call(
            f"/api/v1/members/{w.ward.id}/guardians",
            json={"guardian_id": w.fresh_member().id, "relation": "女儿"},
            ward=True,
            unit=BA,
        ),
        ("POST", G): decide_guardian("confirm"),
        ("POST", G + "#reject"): decide_guardian("decline"),
        ("POST", f"{M}/roles"): lambda w, c: Call(
            f"/api/v1/members/{w.ward.id}/roles",
            json={"role": "volunteer", "unit_id": ua(w)},
            ward=True,
        ),
        ("GET", "/api/v1/units"): lambda w, c: Call("/api/v1/units"),
        ("POST", "/api/v1/units"): lambda w, c: Call(
            "/api/v1/units", json={"name": unique("网格"), "kind": "grid", "parent_id": ua(w)}
        ),
        ("GET", U): lambda w, c: Call(f"/api/v1/units/{ua(w)}"),
        ("GET", f"{U}/tree"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/tree"),
        ("GET", f"{U}/organizations"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/organizations"),
        ("POST", f"{U}/organizations"): lambda w, c: Call(
            f"/api/v1/units/{ua(w)}/organizations", json={"name": unique("共建单位")}
        ),
        ("GET", f"{U}/members"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/members"),
        ("POST", f"{U}/members/import"): roster,
        ("GET", f"{U}/join-link"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/join-link"),
        ("POST", f"{U}/join-link"): lambda w, c: Call(f"/api/v1/units/{ua(w)}/join-link"),
        ("GET", f"{U}/party-attendance"): lambda w, c: Call(
            f"/api/v1/units/{ua(w)}/party-attendance"
        ),
        ("GET", "/api/v1/activity-categories"): lambda w, c: Call("/api/v1/activity-categories"),
        ("GET", "/api/v1/activities"): lambda w, c: Call("/api/v1/activities"),
        ("POST", "/api/v1/activities"): lambda w, c: Call(
            "/api/v1/activities",
            json={
                "unit_id": ua(w),
                "title": "周六义诊",
                "category": "free_clinic",
                "starts_at": "2030-05-04T09:00:00+08:00",
                "ends_at": "2030-05-04T11:00:00+08:00",
            },
        ),
        ("GET", A): lambda w, c: Call(f"/api/v1/activities/{act(w)}"),
        ("PATCH", A): lambda w, c: Call(
            f"/api/v1/activities/{act(w)}", json={"description": unique("带好手套")}
        ),
        ("POST", f"{A}/cancel"): lambda w, c: Call(
            f"/api/v1/activities/{w.fresh_activity().id}/cancel", json={"reason": "下雨"}
        ),
        ("POST", f"{A}/signup"): lambda w, c: Call(f"/api/v1/activities/{act(w)}/signup"),
        ("POST", f"{A}/withdraw"): lambda w, c: Call(f"/api/v1/activities/{act(w)}/withdraw"),
        ("GET", f"{A}/qr"): lambda w, c: Call(f"/api/v1/activities/{act(w)}/qr"),
        ("POST", "/api/v1/checkins"): checkin,
        ("POST", f"{A}/badge-scans"): badge_scan,
        ("POST", f"{A}/manual-checkins"): lambda w, c: Call(
            f"/api/v1/activities/{act(w)}/manual-checkins",
            json={"member_id": w.fresh_member().id},
        ),
        ("GET", f"{A}/attendance"): lambda w, c: Call(f"/api/v1/activities/{act(w)}/attendance"),
        ("POST", f"{A}/attendance/approve"): approve_attendance("approve"),
        ("POST", f"{A}/attendance/reject"): approve_attendance("reject"),
        ("POST", f"{A}/close-checkouts"): lambda w, c: Call(
            f"/api/v1/activities/{act(w)}/close-checkouts"
        ),
        ("GET", "/api/v1/ledger/checkpoints"): lambda w, c: Call("/api/v1/ledger/checkpoints"),
        ("POST", "/api/v1/ledger/checkpoints"): lambda w, c: Call("/api/v1/ledger/checkpoints"),
        ("GET", "/api/v1/ledger/verify"): lambda w, c: Call("/api/v1/ledger/verify"),
        ("POST", "/api/v1/ledger/verify"): lambda w, c: Call("/api/v1/ledger/verify"),
        ("GET", "/api/v1/pending-credits"): lambda w, c: Call(
            f"/api/v1/pending-credits?unit_id={ua(w)}"
        ),
        ("POST", P): decide_credit("approve"),
        ("POST", P + "#reject"): decide_credit("reject"),
        ("POST", "/api/v1/transfers"): lambda w, c: Call(
            "/api/v1/transfers", json=award_body(w.fresh_member().id), action="ledger.award"
        ),
        **merchant_cases,
    }


def _projects_cases() -> dict:
    """The three lists: needs, resources, projects, claims, assignments, hour logs."""
    N = "/api/v1/needs/<int(max=2147483647):need_id>"
    R = "/api/v1/resources/<int(max=2147483647):resource_id>"
    P = "/api/v1/projects/<int(max=2147483647):project_id>"
    AS = "/api/v1/assignments/<int(max=2147483647):claim_id>"
    L = "/api/v1/hour-logs/<int(max=2147483647):log_id>"
    ORG = "/api/v1/organizations/<int(max=2147483647):organization_id>"
    U = "/api/v1/units/<int(max=2147483647):unit_id>"
    BA = "building_a"
    #: a resource is withdrawn by whoever offered it, or an organizer of its unit
    not_theirs = {name: 403 for name in CALLERS if name not in ("anonymous", "organizer", "admin")}

    def photo(w, c):
        import io

        log = w.ward_log
        files = {"file": (io.BytesIO(PNG), "photo.png")}
        return Call(f"/api/v1/hour-logs/{log.id}/photo", files=files, ward=True)

    def decide(decision):
        def make(w, c):
            body = {"ids": [w.pending_log().id]}
            if decision == "reject":
                body["reason"] = "照片与项目不符"
            return Call(f"/api/v1/hour-logs/{decision}", json=body)

        return make

    def new_project(w, c):
        body = {
            "unit_id": w.unit("a"),
            "title": "飞线充电安全排查",
            "category": "safety",
            "places": 4,
            "starts_at": "2030-05-04T09:00:00+08:00",
            "ends_at": "2030-05-04T11:00:00+08:00",
            "need_ids": [w.fresh_need().id],
        }
        return Call("/api/v1/projects", json=body)

    def new_need(w, c):
        body = {"title": "路灯不亮", "category": "facilities", "resident_id": w.ward.id}
        return Call("/api/v1/needs", json=body, action="needs.file_for", ward=True, unit=BA)

    return {
        ("GET", "/api/v1/project-categories"): lambda w, c: Call("/api/v1/project-categories"),
        ("GET", "/api/v1/needs"): lambda w, c: Call("/api/v1/needs?wish=false"),
        ("POST", "/api/v1/needs"): new_need,
        ("GET", N): lambda w, c: Call(f"/api/v1/needs/{w.need.id}"),
        ("POST", f"{N}/decline"): lambda w, c: Call(
            f"/api/v1/needs/{w.fresh_need().id}/decline", json={"reason": "属物业维修范围"}
        ),
        ("POST", f"{N}/merge"): lambda w, c: Call(
            f"/api/v1/needs/{w.fresh_need().id}/merge", json={"into_id": w.need.id}
        ),
        ("POST", f"{N}/accept"): lambda w, c: Call(
            f"/api/v1/needs/{w.fresh_need().id}/accept", json={"project_id": w.open_project.id}
        ),
        ("POST", f"{N}/take"): lambda w, c: Call(
            f"/api/v1/needs/{w.fresh_need(resident=w.neighbour(), is_wish=True).id}/take"
        ),
        ("POST", f"{N}/release"): lambda w, c: Call(
            f"/api/v1/needs/{w.ward_wish().id}/release", json={"reason": "住院了"}, ward=True
        ),
        ("POST", f"{N}/confirm"): lambda w, c: Call(
            f"/api/v1/needs/{w.resolved_need().id}/confirm", json={"rating": 5}, ward=True, unit=BA
        ),
        ("GET", "/api/v1/resources"): lambda w, c: Call("/api/v1/resources"),
        ("POST", "/api/v1/resources"): lambda w, c: Call(
            "/api/v1/resources",
            json={"title": "电工维修", "category": "skills", "availability": "周末"},
        ),
        ("GET", R): lambda w, c: Call(f"/api/v1/resources/{w.resource.id}"),
        ("POST", f"{R}/withdraw"): lambda w, c: Call(
            "/api/v1/resources/{}/withdraw".format(
                w.committed(
                    projects.offer_resource(
                        actor=w.members["organizer"],
                        title="1500平方米活动场地",
                        category="venue",
                        organization_id=w.org.id,
                    )
                ).id
            ),
            special=not_theirs,
        ),
        ("GET", f"{ORG}/members"): lambda w, c: Call(f"/api/v1/organizations/{w.org.id}/members"),
        ("POST", f"{ORG}/members"): lambda w, c: Call(
            f"/api/v1/organizations/{w.org.id}/members",
            json={"member_id": w.fresh_member().id, "role": "contact"},
        ),
        ("GET", "/api/v1/projects"): lambda w, c: Call("/api/v1/projects?status=open"),
        ("POST", "/api/v1/projects"): new_project,
        ("GET", P): lambda w, c: Call(f"/api/v1/projects/{w.open_project.id}"),
        ("GET", f"{P}/history"): lambda w, c: Call(f"/api/v1/projects/{w.open_project.id}/history"),
        ("GET", f"{P}/claims"): lambda w, c: Call(f"/api/v1/projects/{w.open_project.id}/claims"),
        ("POST", f"{P}/status"): lambda w, c: Call(
            f"/api/v1/projects/{w.committed(w.fresh_project(publish=False)).id}/status",
            json={"status": "open"},
        ),
        ("POST", f"{P}/claim"): lambda w, c: Call(f"/api/v1/projects/{w.open_project.id}/claim"),
        ("POST", f"{P}/withdraw"): lambda w, c: Call(
            f"/api/v1/projects/{w.claimed.id}/withdraw", json={"reason": "临时有事"}
        ),
        ("POST", f"{P}/assign"): lambda w, c: Call(
            f"/api/v1/projects/{w.open_project.id}/assign", json={"member_id": w.fresh_member().id}
        ),
        ("POST", f"{AS}/accept"): lambda w, c: Call(
            f"/api/v1/assignments/{w.ward_assignment().id}/accept", ward=True
        ),
        ("POST", f"{AS}/decline"): lambda w, c: Call(
            f"/api/v1/assignments/{w.ward_assignment().id}/decline",
            json={"reason": "身体不适"},
            ward=True,
        ),
        ("GET", "/api/v1/me/projects"): lambda w, c: Call("/api/v1/me/projects"),
        ("GET", "/api/v1/hour-logs"): lambda w, c: Call("/api/v1/hour-logs"),
        ("POST", "/api/v1/hour-logs"): lambda w, c: Call(
            "/api/v1/hour-logs",
            json={
                "project_id": w.running.id,
                "served_on": projects.local_date(datetime.now(UTC)).isoformat(),
                "minutes": 15,
                "description": "给独居老人送餐",
            },
        ),
        ("GET", L): lambda w, c: Call(f"/api/v1/hour-logs/{w.ward_log.id}", ward=True),
        ("GET", f"{L}/photo"): lambda w, c: Call(
            f"/api/v1/hour-logs/{w.ward_log.id}/photo", ward=True
        ),
        ("POST", f"{L}/photo"): photo,
        ("POST", "/api/v1/hour-logs/approve"): decide("approve"),
        ("POST", "/api/v1/hour-logs/reject"): decide("reject"),
        ("GET", f"{U}/hour-logs"): lambda w, c: Call(f"/api/v1/units/{w.unit('a')}/hour-logs"),
    }


def _served(w) -> None:
    """Every caller and the ward have an hour of verified service this year (once)."""
    from timebank.ledger import operations as ledger

    for member in [*w.members.values(), w.ward]:
        ledger.credit_from_evidence(
            member_id=member.id, member_unit_id=member.home_unit_id, unit_id=w.unit("a"),
            minutes=60, points=0, code="earn_checkin", reference_type="matrix",
            reference_id=str(member.id), idempotency_key=f"matrix-served:{member.id}",
            actor_id=None,
        )  # fmt: skip
    db.session.commit()


def _certificate(w, *, issue: bool):
    """A fresh certificate of the ward's year: asked for, or issued by the second organizer."""
    from timebank.reports import operations as reports
    from timebank.reports.periods import current, local_date

    _served(w)
    year = current("year")
    dates = {"first": year.first, "last": local_date(datetime.now(UTC))}
    if issue:
        cert = reports.issue_certificate(w.ward, actor=w.requester, **dates)
    else:
        cert = reports.request_certificate(w.ward, actor=w.ward, **dates)
    return w.committed(cert)


def _reports_cases() -> dict:
    """Roll-ups, the honour roll, the party quarter, certificates."""
    C = "/api/v1/certificates/<int(max=2147483647):cert_id>"
    BA = "building_a"

    def own_request(w, c):
        _served(w)
        today = periods.local_date(utcnow()).isoformat()  # the deployment's day
        return Call("/api/v1/certificates", json={"from": f"{today[:4]}-01-01", "to": today})

    def issue_for_ward(w, c):
        _served(w)
        today = periods.local_date(utcnow()).isoformat()  # the deployment's day
        body = {"from": f"{today[:4]}-01-01", "to": today}
        return Call(f"/api/v1/members/{w.ward.id}/certificates", json=body, ward=True, unit=BA)

    return {
        ("GET", "/api/v1/reports/units/<int(max=2147483647):unit_id>"): lambda w, c: Call(
            f"/api/v1/reports/units/{w.unit('a')}"
        ),
        ("GET", "/api/v1/reports/units/<int(max=2147483647):unit_id>/roster"): lambda w, c: Call(
            f"/api/v1/reports/units/{w.unit('a')}/roster"
        ),
        ("GET", "/api/v1/reports/units/<int(max=2147483647):unit_id>/hours-by-month"): (
            lambda w, c: Call(f"/api/v1/reports/units/{w.unit('a')}/hours-by-month")
        ),
        (
            "GET",
            "/api/v1/reports/activities/<int(max=2147483647):activity_id>/attendance-sheet",
        ): lambda w, c: Call(f"/api/v1/reports/activities/{w.activity.id}/attendance-sheet"),
        ("GET", "/api/v1/reports/honour-roll"): lambda w, c: Call(
            f"/api/v1/reports/honour-roll?unit_id={w.unit('a')}"
        ),
        ("GET", "/api/v1/reports/party"): lambda w, c: Call(
            f"/api/v1/reports/party?unit_id={w.unit('a')}"
        ),
        ("GET", "/api/v1/me/party"): lambda w, c: Call("/api/v1/me/party"),
        ("GET", "/api/v1/me/list-preference"): lambda w, c: Call("/api/v1/me/list-preference"),
        ("PUT", "/api/v1/me/list-preference"): lambda w, c: Call(
            "/api/v1/me/list-preference", json={"hidden": True}
        ),
        ("GET", "/api/v1/certificates"): lambda w, c: Call("/api/v1/certificates"),
        ("POST", "/api/v1/certificates"): own_request,
        ("POST", "/api/v1/members/<int(max=2147483647):member_id>/certificates"): issue_for_ward,
        ("GET", "/api/v1/certificates/<serial>"): lambda w, c: Call(
            f"/api/v1/certificates/{_certificate(w, issue=True).serial}", ward=True, unit=BA
        ),
        ("POST", f"{C}/approve"): lambda w, c: Call(
            f"/api/v1/certificates/{_certificate(w, issue=False).id}/approve", json={}, unit=BA
        ),
        ("POST", f"{C}/<any(reject, revoke):decision>"): lambda w, c: Call(
            f"/api/v1/certificates/{_certificate(w, issue=False).id}/reject",
            json={"reason": "时段填错了"},
            unit=BA,
        ),  # fmt: skip
        ("POST", f"{C}/<any(reject, revoke):decision>#reject"): lambda w, c: Call(
            f"/api/v1/certificates/{_certificate(w, issue=True).id}/revoke",
            json={"reason": "时长登记有误"},
            unit=BA,
        ),  # fmt: skip
    }


def _transparency_cases() -> dict:
    """Signing now (admins), and the street office's witness key and cosignatures."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tests.transparency_factories import post_entries
    from timebank.transparency import operations as transparency
    from timebank.transparency.operations import notes

    U = "/api/v1/units/<int(max=2147483647):unit_id>"

    def new_key() -> tuple[Ed25519PrivateKey, str]:
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return private, base64.b64encode(raw).decode()

    def witness(w):
        """A signed checkpoint and the street's key, made once for the world."""
        if not hasattr(w, "witness"):
            post_entries(2, unit=w.d["street"])
            checkpoint = transparency.sign_checkpoints()[0]
            private, public = new_key()
            key = transparency.register_witness_key(w.unit("street"), public, actor_id=None)
            db.session.commit()
            w.witness = (checkpoint, private, key)
        return w.witness

    def cosign(w, c):
        checkpoint, private, key = witness(w)
        stamp = int(utcnow().timestamp())
        value = notes.encode_cosignature(
            bytes.fromhex(key.key_id), stamp,
            private.sign(notes.cosigned_message(checkpoint.body, stamp)),
        )  # fmt: skip
        return Call(
            f"/api/v1/units/{w.unit('street')}/cosignatures",
            json={"checkpoint_id": checkpoint.id, "signature": value}, unit="street",
        )  # fmt: skip

    return {
        ("POST", "/api/v1/transparency/checkpoints"): lambda w, c: Call(
            "/api/v1/transparency/checkpoints"
        ),
        ("GET", f"{U}/witness-keys"): lambda w, c: Call(
            f"/api/v1/units/{w.unit('street')}/witness-keys", unit="street"
        ),
        ("POST", f"{U}/witness-keys"): lambda w, c: Call(
            f"/api/v1/units/{w.unit('street')}/witness-keys",
            json={"public_key": new_key()[1]},
            unit="street",
        ),  # fmt: skip
        ("POST", f"{U}/cosignatures"): cosign,
    }


CASES = _cases()


def _api_operations(app) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every API operation in the app's URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            found.append((method, rule.rule, rule.endpoint))
    return found


def _declared_action(app, method: str, endpoint: str) -> str:
    view = app.view_functions[endpoint]
    handler = getattr(view.view_class, method.lower())
    return handler.timebank_action


def test_every_operation_has_a_case(app):
    missing = [
        f"{method} {rule}"
        for method, rule, _ in _api_operations(app)
        if (method, rule) not in CASES
    ]
    assert not missing, f"add a case to the permission matrix for: {missing}"


@pytest.fixture
def world(app, district, tmp_path):
    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    app.config["TIMEBANK_PHOTO_DIR"] = str(tmp_path / "photos")
    return World(district)


def test_every_caller_gets_the_documented_answer(app, client, world):
    failures = []
    for method, rule, endpoint in _api_operations(app):
        action = _declared_action(app, method, endpoint)
        keys = [(method, rule)] + ([(method, rule + "#reject")] if "<any(" in rule else [])
        for key in keys:
            for caller in CALLERS:
                call = CASES[key](world, client)
                want = call.special.get(caller) or expected(caller, call.action or action, call)
                response = client.open(
                    call.url,
                    method=method,
                    json=call.json,
                    data=call.files,
                    headers=world.headers(caller),
                )
                got = response.status_code
                ok = 200 <= got < 300 if want == "allowed" else got == want
                if want == 403 and got == 403 and not call.special:
                    ok = response.json["code"] in ("forbidden", "not_guardian")
                if not ok:
                    body = response.get_json(silent=True) or {}
                    failures.append(f"{caller:16} {method} {call.url}: {got}, want {want} {body}")
    assert not failures, "\n".join(failures)


def _missing_ids(rule: str, url: str) -> str:
    """``url`` (made from ``rule``) with every integer path argument set to one that does
    not exist."""
    pattern = re.escape(rule)
    pattern = re.sub(r"<int\\\(.*?\\\):\w+>", r"(\\d+)", pattern)
    pattern = re.sub(r"<any\\\(.*?\\\):\w+>", r"\\w+", pattern)
    match = re.match(pattern, url.split("?")[0])
    assert match, (rule, url)
    for index in reversed(range(1, (match.lastindex or 0) + 1)):
        url = url[: match.start(index)] + "2147483647" + url[match.end(index) :]
    return url


def test_an_id_that_does_not_exist_is_404(app, client, world):
    """A valid request, as the admin, to an id that does not exist."""
    failures = []
    for method, rule, _endpoint in _api_operations(app):
        if "<int" not in rule:
            continue
        call = CASES[(method, rule)](world, client)
        url = _missing_ids(rule, call.url)
        response = client.open(
            url, method=method, json=call.json, data=call.files, headers=world.headers("admin")
        )
        if response.status_code != 404:
            failures.append(f"{method} {url}: {response.status_code} {response.get_json()}")
    assert not failures, "\n".join(failures)
