import io
import re

from tests import factories
from timebank.extensions import db
from timebank.people import operations as people


def test_login_page_and_home(client, district, make_member, login):
    member = make_member(district["building_a"], name="陈静")
    page = client.get("/login")
    assert page.status_code == 200
    login(member)
    home = client.get("/")
    assert home.status_code == 200
    assert "陈静" in home.get_data(as_text=True)


def test_chinese_is_the_default_and_english_is_switchable(client, district, make_member, login):
    login(make_member(district["a"]))
    zh = client.get("/").get_data(as_text=True)
    assert "我的角色" in zh and "退出" in zh
    client.post("/lang/en")
    en = client.get("/").get_data(as_text=True)
    assert "My roles" in en and "Log out" in en
    english_browser = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english_browser.status_code == 200


def test_wrong_login_shows_a_message_in_chinese(client, district, make_member):
    member = make_member(district["a"])
    page = client.post("/login", data={"phone": member.phone, "password": "wrong-one"})
    assert page.status_code == 200
    assert "手机号或密码错误" in page.get_data(as_text=True)


def test_pages_require_login(client):
    response = client.get("/units")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unit_tree_page_shows_what_the_api_lists(client, district, make_member, login, token_for):
    """Organizers see their subtree; a volunteer sees the line above their home, on the
    page as in GET /api/v1/units (they used to get a 403 on the page)."""
    login(make_member(district["a"], roles=("organizer",)))
    page = client.get("/units").get_data(as_text=True)
    assert "上坎社区" in page and "101号楼" in page and "古浪路社区" not in page
    client.post("/logout")
    volunteer = make_member(district["building_a"])
    login(volunteer)
    page = client.get("/units")
    assert page.status_code == 200
    listed = client.get("/api/v1/units", headers=token_for(volunteer)).json
    assert [u["name"] for u in listed] == ["西柳沟街道", "上坎社区", "第1网格", "101号楼"]
    shown = re.findall(r'data-unit-id="(\d+)"', page.get_data(as_text=True))
    assert shown == [str(u["id"]) for u in listed]
    assert client.get(f"/units/{district['a'].id}").status_code == 200
    assert client.get(f"/units/{district['b'].id}").status_code == 403
    assert client.get(f"/units/{district['a'].id}/members").status_code == 403


def test_other_community_page_is_forbidden_with_readable_message(
    client, district, make_member, login
):
    login(make_member(district["a"], roles=("organizer",)))
    response = client.get(f"/units/{district['b'].id}")
    assert response.status_code == 403
    assert "权限" in response.get_data(as_text=True)
    missing = client.get("/units/999999")
    assert missing.status_code == 404


def test_organizer_adds_unit_member_and_imports_on_pages(client, district, make_member, login):
    login(make_member(district["a"], roles=("organizer",)))
    created = client.post(
        f"/units/{district['a'].id}", data={"u-name": "第9网格", "u-kind": "grid"}
    )
    assert created.status_code == 302
    assert "第9网格" in client.get(f"/units/{district['a'].id}").get_data(as_text=True)
    client.post(
        f"/units/{district['a'].id}/members",
        data={"m-name": "孙丽", "m-phone": "bad"},
    )
    members_page = client.get(f"/units/{district['a'].id}/members").get_data(as_text=True)
    assert "11 位" in members_page  # the flashed error, in Chinese
    client.post(
        f"/units/{district['a'].id}/members",
        data={"m-name": "孙丽", "m-phone": "13733334444", "m-has_smartphone": "y"},
    )
    assert "孙丽" in client.get(f"/units/{district['a'].id}/members").get_data(as_text=True)
    report = client.post(
        f"/units/{district['a'].id}/members/import",
        data={"i-file": (io.BytesIO("姓名,手机号\n周杰,13733335555\n,1\n".encode()), "r.csv")},
        content_type="multipart/form-data",
    )
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and "周杰" not in text and "第 3 行" not in text
    assert "1 位成员已创建" in text


def test_join_pages_and_approval(client, app, district, make_member, login, caplog):
    import logging

    from timebank.extensions import db
    from timebank.people import operations as people

    organizer = make_member(district["a"], roles=("organizer",))
    link = people.renew_join_link(district["a"].id, actor=organizer)
    db.session.commit()
    page = client.get(f"/join/{link.code}")
    assert page.status_code == 200 and "上坎社区" in page.get_data(as_text=True)
    with caplog.at_level(logging.WARNING, logger="timebank.sms"):
        sent = client.post(
            f"/join/{link.code}",
            data={"name": "新邻居", "phone": "13744445555"},
        )
    assert sent.status_code == 302
    code = (
        [r for r in caplog.records if r.name == "timebank.sms"][-1]
        .getMessage()
        .split("验证码 ")[1][:6]
    )
    done = client.post(
        "/join/verify", data={"phone": "13744445555", "code": code, "password": "p-1234567"}
    )
    assert done.status_code == 200 and "验证" in done.get_data(as_text=True)
    login(organizer)
    pending = client.get(f"/units/{district['a'].id}/members").get_data(as_text=True)
    assert "新邻居" in pending and "待审核" in pending
    joined = people.find_member_by_phone("13744445555")
    client.post(f"/members/{joined.id}/approve")
    db.session.refresh(joined)
    assert joined.status == "active"


def test_poster_has_a_qr_svg(client, district, make_member, login):
    login(make_member(district["a"], roles=("organizer",)))
    page = client.get(f"/units/{district['a'].id}/poster").get_data(as_text=True)
    assert "<svg" not in page and "renew-join-link" in page
    assert client.post(f"/units/{district['a'].id}/poster").status_code == 302
    page = client.get(f"/units/{district['a'].id}/poster").get_data(as_text=True)
    assert "<svg" in page and "/join/" in page


def test_party_page_lists_who_has_not_reported(client, district, make_member, login):
    from timebank.extensions import db
    from timebank.people import operations as people

    silent = make_member(district["building_a"], name="未报到党员")
    people.register_party(silent, branch="某党支部")
    db.session.commit()
    login(make_member(district["a"], roles=("organizer",)))
    page = client.get(f"/units/{district['a'].id}/party").get_data(as_text=True)
    assert "未报到党员" in page


def test_csrf_is_enforced_on_forms(app, district, make_member):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    member = make_member(district["a"])
    response = client.post("/login", data={"phone": member.phone, "password": factories.PASSWORD})
    assert response.status_code == 302  # back to the form, not logged in
    assert client.get("/").status_code == 302
    assert client.get("/login").status_code == 200  # a GET needs no token
    # the API's bearer tokens are exempt: a POST there is not refused for a missing token
    refused = client.post("/api/v1/auth/token", json={"phone": member.phone, "password": "x"})
    assert refused.status_code == 401 and refused.json["code"] != "csrf"


def test_a_resident_who_waits_or_was_turned_down_is_told_why_in_their_language(
    client, district, make_member
):
    """The login page says a registration is waiting, or that it was not approved and the
    organizer's reason, in the reader's language (the review saw English on the 中文 page)."""
    organizer = make_member(district["a"], roles=("organizer",))
    waiting = make_member(district["building_a"], status="pending")
    turned_down = make_member(district["building_a"], status="pending")
    people.reject_member(turned_down, actor=organizer, reason="不是本社区居民")
    db.session.commit()

    def log_in(member) -> str:
        page = client.post("/login", data={"phone": member.phone, "password": factories.PASSWORD})
        assert page.status_code == 200
        return page.get_data(as_text=True)

    assert "您的注册正在等待组织者审核。" in log_in(waiting)
    assert "您的注册未获通过：不是本社区居民" in log_in(turned_down)
    client.post("/lang/en")
    assert "Your registration is waiting for an organizer&#39;s approval." in log_in(waiting)
    assert "Your registration was not approved: 不是本社区居民" in log_in(turned_down)
