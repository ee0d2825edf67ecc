"""News of every decision about a person (issue 21), the shop's and the giver's part: the
owner hears that the shop was approved, turned down, suspended, reinstated or paid; staff
hear they are invited; a member hears of hours given to them and of a refund. Each is in
the inbox in the reader's language, once, sent by the channel after the commit, and its
link opens a page the reader may see."""

import pytest

from tests import channels, factories
from tests.merchants_factories import (
    create_merchant,
    create_offer,
    fund,
    redeemed_last_month,
)
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.inbox.channels import _CACHE
from timebank.inbox.models import Notification
from timebank.merchants import operations as merchants
from timebank.people import operations as people


@pytest.fixture
def captured(app):
    app.config["TIMEBANK_NOTIFY_CHANNELS"] = "tests.channels:CaptureChannel"
    app.extensions.pop(_CACHE, None)
    channels.SENT.clear()
    yield channels.SENT
    app.extensions.pop(_CACHE, None)


def news_of(member, kind) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.query(Notification).filter_by(member_id=member.id, kind=kind))


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_owner_hears_every_decision_on_the_shop(client, login, district, captured):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    owner = factories.create_member(district["building_a"], name="王建国")
    english = factories.create_member(district["building_a"], name="Tom Li")
    people.set_locale(english, "en")
    shop = create_merchant(district["a"], owner=owner, approved=False, name="上坎老王肉菜店")
    other = create_merchant(district["a"], owner=english, approved=False, name="Lanzhou Books")
    db.session.commit()
    login(organizer)
    client.post(f"/merchants/{shop.id}/approve")
    [approved] = news_of(owner, "shop_approved")
    assert approved.title == "上坎老王肉菜店 已通过审核" and "发布优惠" in approved.body
    assert [m.title for m in captured] == ["上坎老王肉菜店 已通过审核"]
    client.post(f"/merchants/{shop.id}/suspend", data={"reason": "多次拒收积分"})
    [suspended] = news_of(owner, "shop_suspended")
    assert suspended.title == "上坎老王肉菜店 已被暂停" and "原因：多次拒收积分" in suspended.body
    client.post(f"/merchants/{shop.id}/reinstate")
    assert news_of(owner, "shop_reinstated")[0].title == "上坎老王肉菜店 已恢复收积分"
    client.post(f"/merchants/{other.id}/reject", data={"reason": "No shop front"})
    [rejected] = news_of(english, "shop_rejected")
    assert rejected.title == "Lanzhou Books was not approved"
    assert rejected.body.endswith("Reason: No shop front")
    assert len(captured) == 4
    # a refused decision (approving twice) tells nobody anything
    client.post(f"/merchants/{shop.id}/approve")
    assert len(news_of(owner, "shop_approved")) == 1 and len(captured) == 4
    client.post("/logout")
    login(owner)
    assert client.get(approved.link).status_code == 200
    client.post("/logout")
    login(english)
    assert client.get(rejected.link).status_code == 200


def test_the_owner_hears_the_statement_was_paid(client, login, district, captured):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    owner = factories.create_member(district["building_a"], name="王建国")
    shop = create_merchant(district["a"], owner=owner, organizer=organizer, name="上坎老王肉菜店")
    member = factories.create_member(district["building_a"])
    fund(member, 50)
    redeemed_last_month(shop, member)
    db.session.commit()
    month = merchants.previous_month(utcnow())
    statement = merchants.build_statement(shop, month)
    db.session.commit()
    captured.clear()
    login(organizer)
    client.post(f"/statements/{statement.id}/pay", data={"reference": "ZH-20261207-01"})
    [paid] = news_of(owner, "shop_paid")
    assert paid.title == f"上坎老王肉菜店 {statement.month} 的结算款已支付"
    assert f"支付 ¥{statement.amount_fen // 100}.{statement.amount_fen % 100:02d}" in paid.body
    assert "付款凭证号：ZH-20261207-01" in paid.body
    assert [m.kind for m in captured] == ["shop_paid"]
    client.post("/logout")
    login(owner)
    assert client.get(paid.link).status_code == 200


def test_staff_hear_they_are_invited(district, captured):
    owner = factories.create_member(district["building_a"])
    shop = create_merchant(district["a"], owner=owner, name="上坎老王肉菜店")
    clerk = factories.create_member(district["building_a"])
    db.session.commit()
    captured.clear()  # the owner heard of the approval
    merchants.invite_staff(shop, phone=clerk.phone, actor=owner)
    db.session.commit()
    [invited] = news_of(clerk, "staff_invitation")
    assert invited.title == "上坎老王肉菜店 邀请您成为店员"
    assert [m.kind for m in captured] == ["staff_invitation"]


def test_the_member_hears_of_a_refund(client, login, district, captured):
    owner = factories.create_member(district["building_a"])
    shop = create_merchant(district["a"], owner=owner, name="上坎老王肉菜店")
    offer = create_offer(shop, title="满30元减5元", points_cost=10)
    member = factories.create_member(district["building_a"], name="王秀英")
    fund(member, 25)
    db.session.commit()
    held = merchants.redeem(
        code=merchants.current_redeem_code(member.id).token, offer_id=offer.id,
        idempotency_key="news-1", staff=owner,
    ).redemption  # fmt: skip
    merchants.confirm_redemption(held.id, staff=owner)
    db.session.commit()
    captured.clear()  # the owner heard of the approval
    login(owner)
    client.post(f"/redemptions/{held.id}/refund", data={"reason": "顾客退货"})
    [refunded] = news_of(member, "redemption_refunded")
    assert refunded.title == "积分已退回：满30元减5元"
    assert "上坎老王肉菜店 退回了您兑换“满30元减5元”所用的 10 积分。" in refunded.body
    assert "原因：顾客退货" in refunded.body
    assert [m.kind for m in captured] == ["redemption_refunded"]
    client.post("/logout")
    login(member)
    receipt = client.get(refunded.link)
    assert receipt.status_code == 200 and "顾客退货" in text(receipt)


def test_the_recipient_hears_of_hours_given_once(client, login, district, captured):
    donor = factories.create_member(district["building_a"], name="李美华")
    mother = factories.create_member(district["building_b"], name="张桂兰")
    son = factories.create_member(district["building_b"], name="Sam Zhang")
    people.set_locale(son, "en")
    fund(donor, 0, minutes=300)
    db.session.commit()
    login(donor)
    asked = {"to": "member", "phone": mother.phone, "hours": "1", "minutes": "30",
             "memo": "给妈妈买菜", "key": "a" * 32, "confirmed": "yes"}  # fmt: skip
    client.post("/me/donate", data=asked)
    client.post("/me/donate", data=asked)  # a double tap: one donation, one notice
    [given] = news_of(mother, "donation_received")
    assert given.title == "李美华 给您捐赠了时长"
    assert (
        given.body
        == "李美华 给您捐赠了 1小时30分钟 时间银行时长，已记入您的账单。对方留言：给妈妈买菜"
    )
    assert [m.kind for m in captured] == ["donation_received"]
    client.post("/me/donate", data={**asked, "phone": son.phone, "key": "b" * 32, "memo": ""})
    [english] = news_of(son, "donation_received")
    assert (
        english.body == "李美华 gave you 1 h 30 min of time-bank hours; they are on your statement."
    )
    # the pool hears nothing: nobody to tell
    client.post(
        "/me/donate",
        data={"to": "pool", "pool_unit_id": str(district["a"].id), "minutes": "10",
              "key": "c" * 32, "confirmed": "yes"},
    )  # fmt: skip
    assert len(captured) == 2
    client.post("/logout")
    login(mother)
    assert "（留言：给妈妈买菜）" in text(client.get(given.link))
