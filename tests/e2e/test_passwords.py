"""Issue 21, findings 1 and 8 on a phone, in Chinese and in English: an imported member's
first login by SMS code leads to setting a password (no current one asked for), and the
forgot-password page asks for the phone once, names the password it requires, and its
button says 重置密码 / Reset password."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import sms
from tests.e2e.pages import assert_seen_clean, log_in, phone

SAY = {
    "zh": {
        "welcome": "欢迎！设置一个密码，以后不用验证码也能登录。",
        "set a password": "设置密码",
        "set button": "设置密码",
        "no password yet": "您还没有密码，目前用短信验证码登录。",
        "set": "密码已设置，下次可以用它登录。",
        "reset": "重置密码",
        "reset title": "重置密码",
        "new password": "新密码",
        "optional": "密码（选填）",
        "log in": "登录",
        "reset done": "新密码已设置，其他设备已退出登录。",
    },
    "en": {
        "welcome": "Welcome! Set a password so you can log in without a code.",
        "set a password": "Set a password",
        "set button": "Set password",
        "no password yet": "You have no password yet: you log in with a code by SMS.",
        "set": "Your password is set; log in with it next time.",
        "reset": "Reset password",
        "reset title": "Reset your password",
        "new password": "New password",
        "optional": "Password (optional)",
        "log in": "Log in",
        "reset done": "Your new password is set; other devices were logged out.",
    },
}


@pytest.fixture
def captured_sms(app):
    app.config["TIMEBANK_SMS_ADAPTER"] = "tests.sms:CaptureSms"
    return sms


def ask_code(page, number: str) -> str:
    page.fill("#use-code input[name=phone]", number)
    page.click("#send-code")
    expect(page.locator("#use-code input[name=phone]")).to_have_value(number)
    return sms.last_code(number)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_imported_member_logs_in_by_code_then_sets_a_first_password(
    app, district, make_member, live_server, browser, captured_sms, language
):
    say = SAY[language]
    imported = make_member(district["building_a"], name="王秀英", password=None)
    number = imported.phone
    page = phone(browser, language)
    page.goto(f"{live_server}/login")
    page.click("#login-with-code")
    expect(page.locator("#use-code label:has(input[name=new_password])")).to_contain_text(
        say["optional"]
    )
    page.fill("#use-code input[name=code]", ask_code(page, number))
    expect(page.locator("#use-code-submit")).to_have_text(say["log in"])
    page.click("#use-code-submit")
    page.wait_for_url(f"{live_server}/me/security")
    expect(page.locator(".flash")).to_have_text(say["welcome"])
    form = page.locator("#change-password")
    expect(form.locator("h2")).to_have_text(say["set a password"])
    expect(form).to_contain_text(say["no password yet"])
    expect(form.locator("input[name=current]")).to_have_count(0)
    form.locator("input[name=new]").fill("my-own-pass-9")
    expect(form.locator("button[type=submit]")).to_have_text(say["set button"])
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_have_text(say["set"])
    assert_seen_clean(page)
    # the password logs in from now on
    again = phone(browser, language)
    log_in(again, live_server, imported, password="my-own-pass-9")
    again.goto(f"{live_server}/me/security")
    expect(again.locator("#change-password input[name=current]")).to_have_count(1)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_forgot_password_page_asks_once_and_says_reset(
    app, district, make_member, live_server, browser, captured_sms, language
):
    say = SAY[language]
    member = make_member(district["building_a"], name="王秀英")
    page = phone(browser, language)
    page.goto(f"{live_server}/login")
    page.click("#forgot-password")
    expect(page.locator("h1")).to_have_text(say["reset title"])
    expect(page.locator("input[name=phone]")).to_have_count(1)  # the phone, asked once
    password = page.locator("#use-code input[name=new_password]")
    expect(password).to_have_attribute("required", "")
    label = page.locator("#use-code label:has(input[name=new_password])")
    expect(label).to_have_text(say["new password"])
    expect(page.locator("#use-code-submit")).to_have_text(say["reset"])
    page.fill("#use-code input[name=code]", ask_code(page, member.phone))
    expect(page.locator("h1")).to_have_text(say["reset title"])  # still the reset page
    password.fill("n3w-pass-word")
    page.click("#use-code-submit")
    expect(page.locator(".flash.success")).to_have_text(say["reset done"])
    assert_seen_clean(page)
