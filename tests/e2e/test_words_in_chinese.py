"""Finding 16 of issue 21 in Chromium, on a phone: a need's history says in Chinese why it
changed and masks the resident as the "who" column does (and in English in English); the
admin reads the audit trail's values and the jobs page in Chinese; a wrong join code is
refused in Chinese."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from tests.projects_factories import merged_needs
from timebank.core.audit import record_audit
from timebank.extensions import db
from timebank.people import operations as people


def test_a_needs_history_in_chinese_and_in_english(app, district, live_server, browser):
    needs = merged_needs(district)
    first, second, neighbour = needs["first"], needs["second"], needs["neighbour"]
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, neighbour)
    page.goto(f"{live_server}/needs/{first.id}")
    history = page.locator("#history")
    expect(history).to_contain_text("上坎网格长 代 王** 提交")
    expect(history).to_contain_text(f"#{second.id} 三号楼路灯坏了 已合并到这里")
    expect(history).not_to_contain_text("王秀英")
    expect(page.locator("#need")).to_contain_text("由上坎网格长代王**提交")  # masked alike
    expect(history).not_to_contain_text("merged in")
    page.goto(f"{live_server}/needs/{second.id}")
    expect(page.locator("#history")).to_contain_text(f"与 #{first.id} 路灯不亮 重复")
    assert_seen_clean(page)

    english = phone(browser, "en")
    people.set_locale(neighbour, "en")
    db.session.commit()
    log_in(english, live_server, neighbour)
    english.goto(f"{live_server}/needs/{first.id}")
    expect(english.locator("#history")).to_contain_text("filed for 王** by 上坎网格长")
    expect(english.locator("#history")).to_contain_text(
        f"#{second.id} 三号楼路灯坏了 was merged in"
    )


def test_the_admin_reads_the_audit_trail_and_the_jobs_in_chinese(
    app, district, live_server, browser
):
    admin = factories.create_member(district["street"], roles=("admin",), name="街道管理员")
    paid = {"status": "paid", "ledger": "POINTS"}
    record_audit(
        "statement.pay", actor=admin, target="statement:16", before={"status": "open"}, after=paid
    )
    factories.job_run_an_hour_ago(
        "release-holds", outcome="failed", error="OperationalError: database is locked"
    )
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, admin)
    page.goto(f"{live_server}/admin/audit")
    row = page.locator("#audit-table tbody tr").first
    expect(row).to_contain_text("结算单 #16")
    expect(row).to_contain_text("状态：未结清")
    expect(row).to_contain_text("状态：已支付；账本：积分")
    expect(row).not_to_contain_text("POINTS")
    page.goto(f"{live_server}/admin/jobs")
    expect(page.locator("#job-release-holds")).to_contain_text("释放超时的冻结（商户兑换）")
    expect(page.locator("#job-release-holds .job-schedule")).to_have_text("每 1 分钟")
    failed = page.locator("#job-runs li[data-outcome=failed]").first
    expect(failed.locator(".run-error")).to_have_text("任务中止：数据库繁忙或无法连接。")
    expect(failed.locator("pre")).not_to_be_visible()  # the exception, for developers, folded
    assert_seen_clean(page)


def test_a_wrong_join_code_is_refused_in_chinese(app, district, live_server, browser):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    page = phone(browser, "zh")
    page.goto(f"{live_server}/join/{link.code}")
    page.fill("input[name=name]", "王小新")
    page.fill("input[name=phone]", "13622227777")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/join/verify*")
    page.fill("input[name=code]", "000000")
    page.fill("input[name=password]", "p-123456-x")
    page.click("main form button[type=submit] >> nth=0")
    expect(page.locator("main")).to_contain_text("验证码错误。")
    expect(page.locator("main")).not_to_contain_text("The code is wrong.")
    assert_seen_clean(page)
