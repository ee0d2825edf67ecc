"""Activity pages in Chromium (issue 21, finding 4): opened from the cancellation notice, a
cancelled activity says so and offers no 报名; every page says where; the live one offers
the check-in scan. In Chinese and English."""

from datetime import timedelta

from playwright.sync_api import expect

from tests import factories
from tests.activities_factories import create_activity
from tests.e2e.pages import assert_seen_clean, inbox_notice
from timebank.activities import operations as activities
from timebank.core.clock import utcnow
from timebank.extensions import db


def test_cancelled_from_the_notice_where_it_is_and_check_in_when_live(
    app, district, live_server, browser
):
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    volunteer = factories.create_member(district["building_a"], name="王秀英")
    rained_off = create_activity(
        district["a"], organizer=organizer, title="周六环境整治",
        starts_at=utcnow() + timedelta(days=2), address="上坎社区广场",
    )  # fmt: skip
    live = create_activity(
        district["a"], organizer=organizer, title="冬季楼道清理",
        starts_at=utcnow() - timedelta(minutes=20), address="上坎社区活动室，幸福路12号",
    )  # fmt: skip
    activities.sign_up(rained_off, volunteer)
    activities.cancel_activity(rained_off, actor=organizer, reason="暴雨预警")
    db.session.commit()

    mine, notice = inbox_notice(browser, live_server, volunteer, "zh", "activity_cancelled")
    expect(notice.locator(".notice-title")).to_have_text("已取消：周六环境整治")
    notice.locator("button[name=open]").click()  # "查看": marks it read and opens it
    expect(mine.locator("#cancelled-notice")).to_contain_text(
        "这个活动已取消，不用前往，也无法报名。"
    )
    expect(mine.locator("#cancelled-notice")).to_contain_text("原因：暴雨预警")
    expect(mine.locator("#signup")).to_have_count(0)
    expect(mine.locator("#withdraw")).to_have_count(0)
    expect(mine.locator("#activity-place")).to_have_text("地点：上坎社区广场")

    mine.goto(f"{live_server}/activities/{live.id}")
    expect(mine.locator("#activity-place")).to_have_text("地点：上坎社区活动室，幸福路12号")
    expect(mine.locator("#checkin-now")).to_contain_text("活动正在进行：到场后请签到。")
    expect(mine.locator("#signup")).to_be_visible()
    mine.click("#checkin-link")
    expect(mine.locator("main h1")).to_have_text("扫描签到二维码")

    mine.click("#lang-switch")
    mine.goto(f"{live_server}/activities/{live.id}")
    expect(mine.locator("#activity-place")).to_have_text("Where: 上坎社区活动室，幸福路12号")
    expect(mine.locator("#checkin-link")).to_have_text("Scan the check-in code")
    mine.goto(f"{live_server}/activities/{rained_off.id}")
    expect(mine.locator("#cancelled-notice")).to_contain_text(
        "This activity was cancelled: do not come, nothing to sign up for."
    )
    expect(mine.locator("#signup")).to_have_count(0)
    assert_seen_clean(mine)
