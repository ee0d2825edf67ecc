"""Finding 9 of issue 21 in Chromium, on a phone: a shop applies leaving the optional
latitude and longitude empty, and, once approved, publishes a fixed-discount offer filling
only the discount; the browser demands nothing it does not need and both go through."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests import factories
from tests.e2e.pages import assert_seen_clean, log_in, phone
from timebank.core.clock import utcnow
from timebank.extensions import db
from timebank.merchants import operations as merchants
from timebank.merchants.models import Merchant

ANY = re.compile(".*")  # the attribute present, whatever its value


def test_a_shop_applies_and_publishes_a_fixed_discount_offer(app, district, live_server, browser):
    owner = factories.create_member(district["building_a"], name="王建国")
    organizer = factories.create_member(district["a"], roles=("organizer",), name="上坎网格长")
    db.session.commit()

    page = phone(browser, "zh")
    log_in(page, live_server, owner)
    page.goto(f"{live_server}/merchants/apply")
    form = page.locator("#apply-form")
    for name in ("lat", "lng", "opening_hours"):
        expect(form.locator(f"[name={name}]")).not_to_have_attribute("required", ANY)
    page.fill("[name=name]", "上坎老王肉菜店")
    page.fill("[name=address]", "西固区上坎路菜市场12号摊位")
    page.fill("[name=contact_name]", "王建国")
    page.fill("[name=contact_phone]", "0931-7512345")
    page.click("#apply-form button[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("上坎老王肉菜店")

    db.session.rollback()
    merchant = db.session.query(Merchant).filter_by(name="上坎老王肉菜店").one()
    assert (merchant.lat, merchant.lng) == (None, None)
    merchants.approve_merchant(merchant, actor=organizer)
    db.session.commit()

    page.goto(f"{live_server}/merchants/{merchant.id}")
    page.click("#offers summary")
    offer_form = page.locator("#offer-form")
    for name in ("percent_off", "cap_yuan", "item_name", "stock", "budget_points"):
        expect(offer_form.locator(f"[name={name}]")).not_to_have_attribute("required", ANY)
    page.fill("#offer-form [name=title]", "满30元减5元")
    page.fill("#offer-form [name=points_cost]", "10")
    page.select_option("#offer-form [name=benefit]", "discount")
    page.fill("#offer-form [name=discount_yuan]", "5")
    today = utcnow().date()
    page.fill("#offer-form [name=valid_from]", today.isoformat())
    page.fill("#offer-form [name=valid_until]", (today + timedelta(days=30)).isoformat())
    page.click("#offer-form button[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("满30元减5元")
    expect(page.locator("#offers li[data-status=active]")).to_contain_text("满30元减5元")
    assert_seen_clean(page)
