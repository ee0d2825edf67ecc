"""One journey per role on a 390×844 phone in Chromium, in Chinese and in English (issue 11):
a volunteer, a resident who joins, an imported member, two organizers, a guardian and an
admin. Each asserts what the person reads, and fails on any English from the catalog on a
Chinese page (tests/e2e/pages.py) or any Content-Security-Policy violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests import sms
from tests.activities_factories import create_activity, earn
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.activities import operations as activities
from timebank.activities.models import Signup
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.people import operations as people

LANGUAGES = ["zh", "en"]
# What each person reads, as the catalog says it in each language.
SAY = {
    "zh": {
        "signed up": "您已报名此活动。",
        "typed": "手动输入签到码而非扫码",
        "checked in": "签到成功。",
        "checked out": "签退成功。",
        "approved 1": "已审核通过并记账 1 条。",
        "approved 2": "已审核通过并记账 2 条。",
        "1 h": "1小时",
        "10 points": "10 积分",
        "served": "参加活动「周六环境整治」",
        "join": "加入上坎社区时间银行",
        "verify": "验证手机号",
        "thanks": "谢谢！",
        "waiting": "您的注册正在等待组织者审核。",
        "approved": "王秀英 已成为志愿者。",
        "hello": "您好，王秀英",
        "code sent": "如果这个手机号已注册，验证码正在通过短信发送。",
        "code login": "验证码登录",
        "imported": "1 位成员已创建。",
        "new password": "新密码已设置，其他设备已退出登录。",
        "published": "周六义诊",
        "manual": "张大爷 已签到。",
        "award asked": "给 王秀英 的奖励已提交，等待另一位组织者批准。",
        "award line": "30 积分",
        "yours": "这是您提交的申请，需由另一位组织者批准。",
        "posted": "已复核并入账。",
        "award what": "社区奖励：网格模范志愿者",
        "30 points": "30 积分",
        "showing badge": "您正在出示 张奶奶 的签到码。",
        "acting": "您正在代 张奶奶 操作。",
        "ward hours": "1小时30分钟",
        "ward points": "15 积分",
        "ledger check": "账本核验",
        "intact": "账本完好：",
        "checkpoint": "已为每个账本记录检查点。",
        "2 checkpoints": "2 个检查点",
    },
    "en": {
        "signed up": "You are signed up for this activity.",
        "typed": "typed",
        "checked in": "You are checked in.",
        "checked out": "You are checked out.",
        "approved 1": "1 approved and credited.",
        "approved 2": "2 approved and credited.",
        "1 h": "1 h",
        "10 points": "10 points",
        "served": "Served at “周六环境整治”",
        "join": "Join the 上坎社区 time bank",
        "verify": "Verify your phone",
        "thanks": "Thank you!",
        "waiting": "Your registration is waiting for an organizer's approval.",
        "approved": "王秀英 is now a volunteer.",
        "hello": "Hello, 王秀英",
        "code sent": "If this phone is registered, a code is on its way by SMS.",
        "code login": "Log in with a code",
        "imported": "1 member was created.",
        "new password": "Your new password is set; other devices were logged out.",
        "published": "周六义诊",
        "manual": "张大爷 is checked in.",
        "award asked": "The award to 王秀英 waits for a second organizer.",
        "award line": "30 points",
        "yours": "You asked for this: another organizer approves it.",
        "posted": "The credit was approved and posted.",
        "award what": "Community award: 网格模范志愿者",
        "30 points": "30 points",
        "showing badge": "You are showing the badge of 张奶奶.",
        "acting": "You are acting for 张奶奶.",
        "ward hours": "1 h 30 min",
        "ward points": "15 points",
        "ledger check": "Ledger check",
        "intact": "The ledger is intact:",
        "checkpoint": "A checkpoint of each ledger was recorded.",
        "2 checkpoints": "2 checkpoints",
    },
}


@pytest.fixture
def captured_sms(app):
    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    return sms


def scan_typed_code(page, base, short_code):
    """The volunteer's phone: home, the big scan button, and the code typed (headless
    Chromium has no camera)."""
    page.goto(f"{base}/")
    page.click("#scan-button")
    page.fill("#code", short_code)
    page.click("#type-code button[type=submit]")
    return page.locator("#checkin-result h1")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_volunteer_signs_up_checks_in_and_sees_the_credit(
    app, district, make_member, live_server, browser, clock, language
):
    say = SAY[language]
    organizer = make_member(district["a"], roles=("organizer",), name="上坎网格长")
    volunteer = make_member(district["building_a"], name="王秀英")
    activity = create_activity(
        district["a"], organizer=organizer, title="周六环境整治",
        starts_at=utcnow() - timedelta(minutes=10), hours=2, points_per_hour=10,
    )  # fmt: skip
    db.session.commit()

    me = phone(browser, language)
    log_in(me, live_server, volunteer)
    me.click("[data-nav=activities]")
    me.click(f"#activity-list [data-activity-id='{activity.id}'] a")
    me.click("#signup")
    expect(me.locator("main")).to_contain_text(say["signed up"])

    kiosk = phone(browser, language)
    log_in(kiosk, live_server, organizer)
    kiosk.goto(f"{live_server}/activities/{activity.id}")
    kiosk.click("#open-kiosk")
    expect(kiosk.locator("#kiosk h1")).to_have_text("周六环境整治")
    short_code = kiosk.locator("#kiosk-short").inner_text()
    expect(scan_typed_code(me, live_server, short_code)).to_have_text(say["checked in"])
    expect(kiosk.locator("#kiosk-in")).to_have_text("1", timeout=10_000)

    clock.advance(timedelta(minutes=65))
    kiosk.reload()
    short_code = kiosk.locator("#kiosk-short").inner_text()
    expect(scan_typed_code(me, live_server, short_code)).to_have_text(say["checked out"])

    kiosk.goto(f"{live_server}/activities/{activity.id}")
    row = kiosk.locator("#attendance tbody tr", has_text="王秀英")
    expect(row).to_have_attribute("data-status", "review")  # a typed code is held for review
    expect(row).to_contain_text(say["typed"])
    row.locator("input[name=ids]").check()
    kiosk.click("#approve")
    expect(kiosk.locator(".flash.success")).to_contain_text(say["approved 1"])

    me.goto(f"{live_server}/")
    expect(me.locator("#home-hours")).to_have_text(say["1 h"])
    expect(me.locator("#home-points")).to_have_text(say["10 points"])
    me.click("#statement-link")
    hours = me.locator("#history li[data-ledger=HOURS]")
    expect(hours.locator(".what")).to_have_text(say["served"])
    assert_seen_clean(me, kiosk)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_resident_joins_is_approved_and_logs_in_by_sms(
    app, district, make_member, live_server, browser, captured_sms, language
):
    say = SAY[language]
    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    number = "13655550001"

    resident = phone(browser, language)
    resident.goto(f"{live_server}/join/{link.code}")
    expect(resident.locator("h1")).to_have_text(say["join"])
    resident.select_option("#unit_id", str(district["building_a"].id))
    resident.fill("#name", "王秀英")
    resident.fill("#phone", number)
    resident.click("main button[type=submit]")
    expect(resident.locator("h1")).to_have_text(say["verify"])
    resident.fill("#code", captured_sms.last_code(number))
    resident.fill("#password", "resident-pass-1")  # whoever proves the phone chooses it
    resident.click("main form:not(#resend-code) button[type=submit]")
    expect(resident.locator("h1")).to_have_text(say["thanks"])
    # before the approval, logging in says why it cannot
    resident.click("main a")
    resident.fill("input[name=phone]", number)
    resident.fill("input[name=password]", "resident-pass-1")
    resident.click("main button[type=submit]")
    expect(resident.locator("main")).to_contain_text(say["waiting"])

    desk = phone(browser, language)
    log_in(desk, live_server, organizer)
    desk.goto(f"{live_server}/units/{district['a'].id}/members")
    waiting = desk.locator("#pending li", has_text="王秀英")
    expect(waiting).to_contain_text(number)
    waiting.locator("form.inline button[type=submit]").click()
    expect(desk.locator(".flash.success")).to_have_text(say["approved"])

    resident.goto(f"{live_server}/login")
    resident.click("#login-with-code")
    expect(resident.locator("h1")).to_have_text(say["code login"])
    resident.fill("#use-code input[name=phone]", number)
    resident.click("#send-code")
    expect(resident.locator(".flash.success")).to_have_text(say["code sent"])
    expect(resident.locator("#use-code input[name=phone]")).to_have_value(number)
    resident.fill("#use-code input[name=code]", captured_sms.last_code(number))
    resident.click("#use-code-submit")
    expect(resident.locator("h1")).to_have_text(say["hello"])
    assert_seen_clean(resident, desk)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_imported_member_logs_in_first_by_sms_and_sets_a_password(
    app, district, make_member, live_server, browser, captured_sms, language
):
    say = SAY[language]
    organizer = make_member(district["a"], roles=("organizer",))
    number = "13655550002"

    desk = phone(browser, language)
    log_in(desk, live_server, organizer)
    desk.goto(f"{live_server}/units/{district['a'].id}/members")
    roster = f"姓名,手机号\n王秀英,{number}\n".encode()
    desk.set_input_files("#i-file", {"name": "名单.csv", "mimeType": "text/csv", "buffer": roster})
    desk.click("form[action$='/members/import'] button[type=submit]")
    expect(desk.locator(".flash.success")).to_contain_text(say["imported"])
    db.session.rollback()
    imported = people.find_member_by_phone(number)
    assert imported.password_hash is None  # nobody set a password for them
    db.session.rollback()

    member = phone(browser, language)
    member.goto(f"{live_server}/login")
    member.click("#forgot-password")
    member.fill("#use-code input[name=phone]", number)
    member.click("#send-code")
    expect(member.locator(".flash.success")).to_have_text(say["code sent"])
    member.fill("#use-code input[name=code]", captured_sms.last_code(number))
    member.fill("#use-code input[name=new_password]", "my-own-pass-9")
    member.click("#use-code-submit")
    expect(member.locator("h1")).to_have_text(say["hello"])
    expect(member.locator(".flash.success")).to_have_text(say["new password"])
    # the password works from now on
    member.context.clear_cookies()
    log_in(member, live_server, imported, password="my-own-pass-9")
    expect(member.locator("h1")).to_have_text(say["hello"])
    assert_seen_clean(desk, member)


def fill_activity_form(page, starts, ends):
    page.fill("#title", "周六义诊")
    page.fill("#starts_at", starts.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ends_at", ends.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#points_per_hour", "10")
    page.click("main button[type=submit].wide")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_organizer_runs_an_activity_and_a_second_approves_an_award(
    app, district, make_member, live_server, browser, clock, language
):
    say = SAY[language]
    volunteer = make_member(district["building_a"], name="王秀英")
    make_member(district["building_a"], name="张大爷", has_smartphone=False)
    first = make_member(district["a"], roles=("organizer",), name="李建华")
    second = make_member(district["a"], roles=("organizer",), name="马桂芳")

    asker = phone(browser, language)
    log_in(asker, live_server, first)
    asker.click("[data-nav=activities]")
    asker.click("#new-activity")
    now = utcnow().astimezone(activities.local_zone())
    fill_activity_form(asker, now - timedelta(minutes=5), now + timedelta(minutes=55))
    expect(asker.locator("h1")).to_have_text(say["published"])
    activity_url = asker.url
    asker.click("#open-kiosk")
    short_code = asker.locator("#kiosk-short").inner_text()
    helper = phone(browser, language)
    log_in(helper, live_server, volunteer)
    expect(scan_typed_code(helper, live_server, short_code)).to_have_text(say["checked in"])
    expect(asker.locator("#kiosk-in")).to_have_text("1", timeout=10_000)
    asker.goto(activity_url)
    asker.fill("#organizer-tools input[name=member]", "张大爷")
    asker.click("#organizer-tools form:not([data-confirm]) button[type=submit]")
    expect(asker.locator(".flash.success")).to_have_text(say["manual"])

    clock.advance(timedelta(minutes=70))  # the activity is over: open check-outs close
    asker.reload()
    asker.check("#attendance [data-check-all=ids]")
    asker.click("#approve")
    expect(asker.locator(".flash.success")).to_contain_text(say["approved 2"])
    expect(asker.locator("#attendance tr[data-status=approved]")).to_have_count(2)

    asker.goto(f"{live_server}/units/{district['a'].id}/members")
    asker.click(f"#members li[data-member-id='{volunteer.id}'] a")
    asker.click("#award-link")
    asker.check("input[name=ledger][value=POINTS]")
    asker.fill("#points", "30")
    asker.fill("#memo", "网格模范志愿者")
    asker.click("main button[type=submit]")
    expect(asker.locator(".flash.success")).to_have_text(say["award asked"])
    waiting = asker.locator("#waiting li").first
    expect(waiting).to_contain_text(say["award line"])
    expect(waiting).to_contain_text(say["yours"])
    expect(waiting.locator("button")).to_have_count(0)

    approver = phone(browser, language)
    log_in(approver, live_server, second)
    approver.goto(f"{live_server}/units/{district['a'].id}/pending-credits")
    item = approver.locator("#waiting li").first
    expect(item).to_contain_text("王秀英")
    expect(item).to_contain_text("李建华")
    item.locator("form[action$='/approve'] button").click()
    expect(approver.locator(".flash.success")).to_have_text(say["posted"])
    assert approver.url.endswith(f"/units/{district['a'].id}/pending-credits")

    helper.goto(f"{live_server}/me/statement")
    award = helper.locator("#history li").first
    expect(award.locator(".what")).to_have_text(say["award what"])
    expect(award.locator(".change")).to_have_text(f"+{say['30 points']}")
    assert_seen_clean(asker, helper, approver)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_guardian_acts_for_a_ward(app, district, make_member, live_server, browser, language):
    say = SAY[language]
    grandma = make_member(district["building_a"], name="张奶奶", has_smartphone=False)
    daughter = make_member(district["building_b"], name="张丽")
    organizer = make_member(district["a"], roles=("organizer",))
    people.add_guardian(grandma, daughter, relation="女儿", actor=None)
    earn(grandma, district["a"], organizer, title="四点半课堂", minutes=90, points=15,
         at=utcnow() - timedelta(days=3))  # fmt: skip
    coming = create_activity(
        district["a"], organizer=organizer, title="重阳节包饺子",
        starts_at=utcnow() + timedelta(days=2),
    )  # fmt: skip
    db.session.commit()

    page = phone(browser, language)
    log_in(page, live_server, daughter)
    ward = page.locator(f"#wards [data-ward-id='{grandma.id}']")
    expect(ward.locator("h3")).to_have_text("张奶奶")
    expect(ward).to_contain_text(say["ward hours"])
    expect(ward).to_contain_text(say["ward points"])
    ward.locator(f"#ward-badge-{grandma.id}").click()
    expect(page.locator("#badge-name")).to_have_text("张奶奶")
    expect(page.locator("main")).to_contain_text(say["showing badge"])
    expect(page.locator("#badge-qr svg")).to_be_visible()

    page.go_back()
    ward.locator(f"[data-ward-redeem='{grandma.id}']").click()
    expect(page.locator("#redeem-short")).to_contain_text(f"{grandma.id}-")
    expect(page.locator("#redeem-qr svg")).to_be_visible()

    page.go_back()
    ward.locator("a[href*='/me/activities']").click()
    expect(page.locator("#acting-for")).to_have_text(say["acting"])
    expect(page.locator("#balance-hours")).to_have_text(say["ward hours"])
    expect(page.locator("#my-attendance tr[data-status=approved]")).to_contain_text("四点半课堂")

    page.go_back()
    ward.locator("a[href^='/activities?']").click()
    expect(page.locator("#acting-for")).to_contain_text("张奶奶")
    page.click(f"#activity-list [data-activity-id='{coming.id}'] a")
    expect(page.locator("#acting-for")).to_have_text(say["acting"])
    page.click("#signup")
    expect(page.locator("#signed-up")).to_contain_text("张奶奶")
    db.session.rollback()
    signup = db.session.query(Signup).filter_by(activity_id=coming.id).one()
    assert (signup.member_id, signup.status) == (grandma.id, "signed_up")
    db.session.rollback()
    assert_seen_clean(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_admin_verifies_the_ledger(app, district, make_member, live_server, browser, language):
    say = SAY[language]
    admin = make_member(district["street"], roles=("admin",), name="街道管理员")
    organizer = make_member(district["a"], roles=("organizer",))
    volunteer = make_member(district["building_a"])
    earn(volunteer, district["a"], organizer, title="四点半课堂", minutes=60, points=10,
         at=utcnow() - timedelta(days=1))  # fmt: skip
    db.session.commit()

    page = phone(browser, language)
    log_in(page, live_server, admin)
    page.click("#ledger-check-link")
    expect(page.locator("h1")).to_have_text(say["ledger check"])
    page.click("#run-verify")
    expect(page.locator("#verify-result")).to_contain_text(say["intact"])
    page.click("#record-checkpoint")
    expect(page.locator(".flash.success")).to_have_text(say["checkpoint"])
    expect(page.locator("#checkpoints li").first).not_to_have_text("")
    page.click("#run-verify")
    expect(page.locator("#verify-result")).to_contain_text(say["2 checkpoints"])  # one per ledger
    assert_seen_clean(page)


def test_the_english_check_catches_english_on_a_chinese_page(app, live_server, browser):
    page = phone(browser, "zh")
    page.goto(f"{live_server}/login")
    page.goto(f"{live_server}/join/verify")
    expect(page.locator("h1")).to_have_text("验证手机号")
    assert len(page.chinese_pages_checked) == 2 and page.english_seen == []

    def leave_english(route):  # the login page as served, with one button left in English
        body = route.fetch().text().replace("发送验证码", "Send me a code", 1)
        route.fulfill(body=body, content_type="text/html; charset=utf-8")

    page.route(f"{live_server}/login/code", leave_english)
    page.goto(f"{live_server}/login/code")  # caught when the page loads
    expect(page.locator("#send-code")).to_have_text("Send me a code")
    page.wait_for_function("true")
    assert [msgid for _url, _line, msgid in page.english_seen] == ["Send me a code"]
    page.evaluate("document.querySelector('h1').append(' Log in with a code')")
    with pytest.raises(AssertionError, match="Log in with a code"):  # caught at the end
        assert_seen_clean(page)
    english = phone(browser, "en")
    english.goto(f"{live_server}/login")
    assert english.chinese_pages_checked == []  # an English page is not looked at
