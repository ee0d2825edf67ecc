"""Join posters in Chromium (issue 21, finding 7): the first link is made without a
question or a warning about old posters; a new link asks first (dismissing keeps the
poster); a resident scanning an old poster is told to ask the community it names."""

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.extensions import db
from timebank.people import operations as people


def test_a_new_join_link_asks_first_and_an_old_poster_names_the_community(
    app, district, live_server, browser
):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    db.session.commit()
    unit_id = district["a"].id
    questions, answer = [], {"accept": False}

    def ask(dialog):
        questions.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    mine = phone(browser, "zh")
    mine.on("dialog", ask)
    log_in(mine, live_server, organizer)
    mine.goto(f"{live_server}/units/{unit_id}/poster")
    expect(mine.locator("#renew-join-link")).to_have_text("生成入会链接")
    expect(mine.locator("#renew-warning")).to_have_count(0)
    mine.click("#renew-join-link")
    expect(mine.locator(".flash.success")).to_have_text("入会链接已生成，请打印海报。")
    assert questions == []  # the first link asks nothing
    first = mine.locator(".poster .url code").inner_text()

    # a new one asks; dismissing keeps the printed posters working
    expect(mine.locator("#renew-join-link")).to_have_text("重新生成入会链接")
    expect(mine.locator("#renew-warning")).to_be_visible()
    mine.click("#renew-join-link")
    assert questions and questions[0].startswith("确定重新生成入会链接吗？已经打印的海报将失效")
    expect(mine.locator(".poster .url code")).to_have_text(first)
    db.session.rollback()
    assert first.endswith(people.current_join_link(unit_id).code)
    db.session.rollback()  # SQLite: let the server write again
    answer["accept"] = True
    mine.click("#renew-join-link")
    expect(mine.locator(".flash.success")).to_have_text(
        "已生成新的入会链接，使用旧链接的海报随即失效。"
    )
    expect(mine.locator(".poster .url code")).not_to_have_text(first)

    resident = phone(browser, "zh")
    old_path = first[first.index("/join/") :]
    resident.goto(f"{live_server}{old_path}")
    expect(resident.locator("main h1")).to_have_text("这个入会链接已失效")
    expect(resident.locator("#join-link-dead")).to_contain_text("请联系上坎社区索取新的海报或链接")
    resident.goto(f"{live_server}/join/nosuchcode")
    expect(resident.locator("#join-link-dead")).to_contain_text(
        "请联系您所在的社区索取入会海报或链接"
    )
    english = phone(browser, "en")
    english.goto(f"{live_server}{old_path}")
    expect(english.locator("main h1")).to_have_text("This join link no longer works")
    expect(english.locator("#join-link-dead")).to_contain_text(
        "Ask 上坎社区 for the new poster or link"
    )
    assert_seen_clean(mine, resident, english)
