"""Giving hours in Chromium (issue 21, finding 5): the first tap shows whom the hours go
to, masked, so a mistyped phone is caught; the second gives them; the note shows on the
donor's and the recipient's statements, in Chinese and English."""

from playwright.sync_api import expect

from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.merchants_factories import fund
from timebank.extensions import db


def test_giving_hours_names_the_recipient_first_and_both_see_the_note(
    app, district, make_member, live_server, browser
):
    donor = make_member(district["building_a"], name="李美华")
    mother = make_member(district["building_b"], name="张桂兰", phone="13811112222")
    fund(donor, 0, minutes=180)
    db.session.commit()

    mine = phone(browser, "zh")
    log_in(mine, live_server, donor)
    mine.goto(f"{live_server}/me/donate")
    mine.fill("#phone", "13811112222")
    mine.fill("#hours", "1")
    mine.fill("#memo", "给妈妈买菜")
    mine.click("#donate-form button[type=submit]")
    expect(mine.locator("#donate-to")).to_have_text("把 1小时 捐给 张**（138****2222）？")
    expect(mine.locator("#donate-memo")).to_have_text("您的留言：给妈妈买菜")
    # nothing given yet: "修改" brings the filled form back
    mine.click("#donate-change")
    expect(mine.locator("#phone")).to_have_value("13811112222")
    mine.click("#donate-form button[type=submit]")
    mine.click("#donate-yes")
    expect(mine.locator(".flash.success")).to_contain_text("谢谢您，时长已捐出。")
    expect(mine.locator("main")).to_contain_text("捐给 张桂兰（留言：给妈妈买菜）")

    theirs = phone(browser, "zh")
    log_in(theirs, live_server, mother)
    theirs.goto(f"{live_server}/me/statement")
    expect(theirs.locator("main")).to_contain_text("收到 李美华 捐赠的时长（留言：给妈妈买菜）")
    expect(theirs.locator("[data-balance=HOURS]")).to_have_text("1小时")

    # and in English, the question before giving
    mine.click("#lang-switch")
    mine.goto(f"{live_server}/me/donate")
    mine.fill("#phone", "13811112222")
    mine.fill("#minutes", "30")
    mine.click("#donate-form button[type=submit]")
    expect(mine.locator("#donate-to")).to_have_text("Give 30 min to 张** (138****2222)?")
    expect(mine.locator("#donate-yes")).to_have_text("Yes, give the hours")
    theirs.click("#lang-switch")
    expect(theirs.locator("main")).to_contain_text("Hours received from 李美华 (note: 给妈妈买菜)")
    assert_seen_clean(mine, theirs)
