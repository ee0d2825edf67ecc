from tests import factories
from timebank.extensions import db


def test_organizer_logs_in_switches_language_and_sees_the_unit_tree(
    app, district, make_member, live_server, browser
):
    organizer = make_member(district["a"], roles=("organizer",), name="上坎网格长")
    db.session.commit()
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login")
    assert page.locator("h1").inner_text() == "登录"
    page.fill("input[name=phone]", organizer.phone)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert "您好，上坎网格长" in page.locator("h1").inner_text()

    page.click("#lang-switch")
    page.wait_for_selector("text=My roles")
    assert page.locator("#lang-switch").inner_text() == "中文"

    page.click("a[data-nav=units]")
    page.wait_for_selector("#unit-tree")
    assert page.locator("h1").inner_text() == "Grids and communities"
    tree = page.locator("#unit-tree").inner_text()
    assert "上坎社区" in tree and "第1网格" in tree and "101号楼" in tree
    assert "古浪路社区" not in tree  # another community's organizer's business
    page.click(f"li[data-unit-id='{district['grid_a'].id}'] > a")
    page.wait_for_selector("#saved-place")
    assert "101号楼" in page.content()
