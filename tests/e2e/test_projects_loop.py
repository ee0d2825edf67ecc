"""The three lists end to end in Chromium, a volunteer (in English) and an organizer (in
Chinese) in two browser contexts: the volunteer files a need (点单), the organizer makes a
project of it and assigns the volunteer (派单), who accepts (接单); the project starts, the
volunteer reports hours with a photo, the organizer approves them in the queue, the
volunteer's statement shows the credit, the project is verified, the need is resolved and
the volunteer rates the result."""

from datetime import timedelta

from playwright.sync_api import expect

from tests import factories
from tests.projects_factories import PNG
from timebank.core.clock import utcnow
from timebank.projects import operations as projects


def log_in(page, base, member):
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", member.phone)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def local_input(moment) -> str:
    """A moment as a datetime-local field shows it in the deployment's zone."""
    return moment.astimezone(projects.local_zone()).strftime("%Y-%m-%dT%H:%M")


def test_from_a_need_to_verified_hours_through_the_pages(
    app, district, make_member, live_server, browser, tmp_path
):
    app.config["TIMEBANK_PHOTO_DIR"] = str(tmp_path / "photos")
    organizer = make_member(district["a"], roles=("organizer",), name="上坎网格长")
    volunteer = make_member(district["building_a"], name="Wang Xiuying")
    base = live_server

    resident = browser.new_context(locale="en-US").new_page()
    log_in(resident, base, volunteer)
    resident.goto(f"{base}/needs/new")
    resident.fill("input[name=title]", "污水外溢")
    resident.select_option("select[name=category]", "sanitation")
    resident.select_option("select[name=urgency]", "urgent")
    resident.fill("textarea[name=description]", "1号楼东侧下水井冒水")
    resident.click("main button[type=submit]")
    expect(resident.locator("#need-status")).to_have_text("Open")
    need_url = resident.url

    office = browser.new_context(locale="zh-CN").new_page()
    log_in(office, base, organizer)
    office.goto(f"{base}/needs")
    office.click("#need-list a:has-text('污水外溢')")
    expect(office.locator("#need-status")).to_have_text("待处理")
    expect(office.locator("#need-contact")).to_contain_text(volunteer.phone)
    office.click("#new-project-for-need")
    expect(office.locator("input[name=title]")).to_have_value("污水外溢")
    office.fill("input[name=title]", "下水管道疏通")
    start = utcnow() - timedelta(minutes=30)
    office.fill("input[name=starts_at]", local_input(start))
    office.fill("input[name=ends_at]", local_input(start + timedelta(hours=4)))
    office.fill("input[name=places]", "2")
    office.click("main #project-form button[type=submit]")
    expect(office.locator("#project-status")).to_have_text("开放认领")
    project_url = office.url

    # 派单: the community assigns; 接单: the volunteer accepts
    office.fill("#assign-member", volunteer.phone)
    office.click("#assign")
    expect(office.locator(f"#claims tr[data-member-id='{volunteer.id}']")).to_contain_text("待答复")
    resident.goto(f"{base}/me/projects")
    expect(resident.locator("#my-claims")).to_contain_text("下水管道疏通")
    resident.click("main button.accept-assignment")
    expect(resident.locator("#my-claims li[data-status=active]")).to_contain_text("Serving")

    office.goto(project_url)
    office.click("#move-in_progress")
    expect(office.locator("#project-status")).to_have_text("实施中")

    resident.goto(project_url)
    resident.click("#report-hours")
    resident.fill("input[name=minutes]", "90")
    resident.fill("textarea[name=description]", "Cleared the drain, two carts of silt")
    resident.set_input_files(
        "input[name=photo]", {"name": "drain.png", "mimeType": "image/png", "buffer": PNG}
    )
    resident.click("main #hour-log-form button[type=submit]")
    expect(resident.locator("#my-hour-logs tr[data-status=pending] .log-status")).to_have_text(
        "Waiting for approval"
    )

    office.click("#nav-queue")
    row = office.locator("#queue tr[data-status=pending]")
    expect(row).to_contain_text("Cleared the drain")
    expect(row.locator("a:has-text('照片')")).to_be_visible()
    row.locator("input[name=ids]").check()
    office.click("#approve")
    expect(office.locator("p.flash.success")).to_contain_text("1")
    expect(office.locator("#queue tr[data-status=pending]")).to_have_count(0)

    resident.goto(f"{base}/me/statement")
    expect(resident.locator("[data-balance=HOURS]")).to_have_text("1 h 30 min")
    expect(resident.locator("[data-balance=POINTS]")).to_have_text("15 points")
    resident.goto(f"{base}/me/hour-logs")
    expect(resident.locator("#my-hour-logs tr[data-status=approved]")).to_contain_text(
        "90 min, 15 points credited"
    )

    office.goto(project_url)
    office.click("#move-done")
    expect(office.locator("#project-status")).to_have_text("已完成")
    office.click("#move-verified")
    expect(office.locator("#project-status")).to_have_text("已验收")
    expect(office.locator("#history")).to_contain_text("已完成 → 已验收")

    resident.goto(need_url)
    expect(resident.locator("#need-status")).to_have_text("Resolved")
    expect(resident.locator("#answering-projects")).to_contain_text("Verified")
    resident.check("input[name=rating][value='5']")
    resident.fill("input[name=feedback]", "The drain works again")
    resident.click("#confirm-need")
    expect(resident.locator("#need-rating")).to_contain_text("★★★★★")
    office.goto(need_url)
    expect(office.locator("#need-status")).to_have_text("已解决")
