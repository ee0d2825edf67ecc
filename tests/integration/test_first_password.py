"""Issue 21, findings 1 and 8: a member who logs in by SMS code with no password yet sets
one (on the code login page, or on /me/security with no current password to give), and the
forgot-password page asks for the phone once, requires the new password it names, and its
button says what it does."""

from __future__ import annotations

from tests import factories, sms
from timebank.extensions import db
from timebank.people import operations as people
from timebank.people.errors import InvalidCredentials


def english(app):
    """A browser that chose English (the choice outlives the login)."""
    client = app.test_client()
    client.post("/lang/en")
    return client


def _code_for(app, client, phone: str, *, reset: bool = False) -> str:
    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    sent = client.post(f"/login/code/send{'?reset=1' if reset else ''}", data={"phone": phone})
    assert sent.status_code == 302
    return sms.last_code(phone)


def test_an_imported_member_logs_in_by_code_and_is_offered_a_password(app, district, make_member):
    imported = make_member(district["building_a"], password=None)
    client = english(app)
    code = _code_for(app, client, imported.phone)
    done = client.post("/login/code", data={"phone": imported.phone, "code": code})
    assert done.status_code == 302 and done.headers["Location"].endswith("/me/security")
    page = client.get("/me/security").get_data(as_text=True)
    assert "Set a password" in page and "You have no password yet" in page
    assert 'name="current"' not in page  # no current password that doesn't exist
    assert client.post("/me/security", data={"new": "short"}).status_code == 200  # redisplayed
    db.session.expire_all()
    assert not people.has_password(imported)
    set_ = client.post("/me/security", data={"new": "my-own-pass-9"}, follow_redirects=True)
    assert "Your password is set; log in with it next time." in set_.get_data(as_text=True)
    # from now on the password logs in, and the page asks for it before changing it
    again = english(app)
    login = {"phone": imported.phone, "password": "my-own-pass-9"}
    assert again.post("/login", data=login).status_code == 302
    page = again.get("/me/security").get_data(as_text=True)
    assert 'name="current"' in page and "Change your password" in page
    refused = again.post("/me/security", data={"new": "another-pass-7"})
    assert refused.status_code == 200  # the current one is required now
    assert again.post("/login", data=login).status_code == 302


def test_the_api_sets_a_first_password_without_a_current_one_but_never_replaces_one(
    app, district, make_member, token_for
):
    imported = make_member(district["building_a"], password=None)
    client = english(app)
    headers = token_for(imported)
    assert client.get("/api/v1/me", headers=headers).json["has_password"] is False
    first = client.post("/api/v1/me/password", json={"new": "my-own-pass-9"}, headers=headers)
    assert first.status_code == 204
    member = make_member(district["building_a"])
    headers = token_for(member)
    assert client.get("/api/v1/me", headers=headers).json["has_password"] is True
    refused = client.post("/api/v1/me/password", json={"new": "other-pass-77"}, headers=headers)
    assert refused.status_code == 401 and refused.json["code"] == "invalid_credentials"
    db.session.expire_all()
    assert people.authenticate(member.phone, factories.PASSWORD) == member


def test_a_password_set_meanwhile_is_not_replaced_unproved(app, district, make_member):
    """The page read "no password" before another device set one: the locked row decides."""
    imported = make_member(district["building_a"], password=None)
    seen = people.get_member(imported.id)
    db.session.execute(
        db.text("UPDATE members SET password_hash = 'x' WHERE id = :id"), {"id": imported.id}
    )
    try:
        people.change_password(seen, current=None, new="my-own-pass-9")
    except InvalidCredentials as error:
        assert "meanwhile" in error.message
    else:
        raise AssertionError("a password set meanwhile was replaced")
    db.session.rollback()


def test_a_code_login_may_set_a_password_and_says_so_plainly(app, district, make_member):
    imported = make_member(district["building_a"], password=None)
    client = english(app)
    page = client.get("/login/code").get_data(as_text=True)
    assert "keep" not in page  # no "leave empty to keep the old one" for one who has none
    assert "Password (optional)" in page
    code = _code_for(app, client, imported.phone)
    done = client.post(
        "/login/code",
        data={"phone": imported.phone, "code": code, "new_password": "my-own-pass-9"},
    )
    assert done.status_code == 302 and not done.headers["Location"].endswith("/me/security")
    assert people.authenticate(imported.phone, "my-own-pass-9").id == imported.id


def test_the_forgot_password_page_asks_the_phone_once_and_requires_the_new_password(
    app, district, make_member
):
    member = make_member(district["building_a"])
    client = english(app)
    page = client.get("/login/code?reset=1").get_data(as_text=True)
    assert page.count('name="phone"') == 1
    assert "Reset password</button>" in page and "Log in</button>" not in page
    assert "optional" not in page.lower() and "empty" not in page
    code = _code_for(app, client, member.phone, reset=True)
    # no new password: the code is kept and the page says what is missing
    missing = client.post("/login/code?reset=1", data={"phone": member.phone, "code": code})
    assert missing.status_code == 200 and "This field is required." in missing.get_data(
        as_text=True
    )
    done = client.post(
        "/login/code?reset=1",
        data={"phone": member.phone, "code": code, "new_password": "n3w-pass-word"},
    )
    assert done.status_code == 302
    assert people.authenticate(member.phone, "n3w-pass-word").id == member.id


def test_the_forgot_password_page_in_chinese(app, district):
    client = app.test_client()
    page = client.get("/login/code?reset=1", headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert "<h1>重置密码</h1>" in html and "重置密码</button>" in html
    assert "选填" not in html and "不填" not in html
