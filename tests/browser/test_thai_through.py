"""Issue 22 §2–§4 in Chromium at 360 × 740, in Thai, on a live server: a Buddhist-era month in the address
opens that month; the add-user form starts at the least powerful role and an e-mail already used is one
message, once; a supplier's new link has a copy button; the seller's "รายได้เพิ่ม" page leads with the
seller's extra income."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.live import Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def test_committee_and_admin_pages_speak_thai_dates_and_roles(browser, server, world):  # type: ignore[no-untyped-def]  # noqa: F811
    pw = harness().PASSWORD
    committee = Journey(browser, server, "thai-through-committee")
    committee.login(world["users"]["committee"].email, pw)
    page = committee.page
    # /summaries/2569-11 (Buddhist era) is November 2026, not "พฤศจิกายน 3112".
    year, mon = (int(x) for x in world["month"].split("-"))
    committee.go(f"/summaries/{year + 543}-{mon:02d}")
    assert page.url.endswith(f"/summaries/{world['month']}"), page.url
    heading = _text(page, "h1")
    assert str(year + 543) in heading and str(year + 1086) not in heading, heading
    committee.shot("buddhist-era-month")
    # A supplier's new link can be copied with one button.
    committee.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    committee.go(f"/rfqs/{world['rfq']}")
    page.locator("form[data-confirm] button").first.click()
    page.click("#dialog-yes")
    page.wait_for_selector("#links")
    link = page.locator("#links input").first.input_value()
    from playwright.sync_api import expect

    page.locator("#links [data-copy]").first.click()
    expect(page.locator("#links [data-copy]").first).to_have_text("คัดลอกแล้ว")  # the clipboard answers later
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    committee.shot("copy-link")
    committee.close()

    admin = Journey(browser, server, "thai-through-admin")
    admin.login(world["users"]["admin"].email, pw)
    page = admin.page
    admin.go("/users")
    assert page.locator("#role").input_value() == "seller", "the add-user form starts at a powerful role"
    # An e-mail already used: one message for the field, once in the summary.
    page.fill("#name", "นายทดสอบ ซ้ำ")
    page.fill("#email", world["users"]["leader"].email)
    page.fill("#password", "long-enough-22")
    page.select_option("#group_id", str(world["groups"]["mill"].id))
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#error-summary")
    items = page.locator("#error-summary li")
    assert items.count() == 1, _text(page, "#error-summary")
    assert page.locator(".field.has-error").count() == 1 and page.locator("p.error").count() == 1
    admin.shot("email-used-once")
    admin.close()


def test_the_sellers_page_leads_with_extra_income(browser, server, world):  # type: ignore[no-untyped-def]  # noqa: F811
    seller = Journey(browser, server, "thai-through-seller")
    seller.login(world["users"]["seller"].email, harness().PASSWORD)
    page = seller.page
    seller.go("/savings")
    assert "รายได้" in _text(page, "h1"), _text(page, "h1")
    first = page.locator("main .card").first
    assert first.get_attribute("id") == "income-total", first.inner_text()
    assert "140.00" in first.inner_text()  # 20 kg sold at 42.00 instead of 35.00 to a middleman
    seller.shot("income-first")
    seller.close()


def test_a_quantity_never_touches_a_number_in_a_name(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    api, h = worker_app.test_client(), world["h"]
    product = api.post("/api/v1/products", headers=h["committee"],
                       json={"name": "ข้าวหอมมะลิ 105", "unit": "กก.", "category": "ข้าว"}).get_json()["id"]
    rid = api.post("/api/v1/rounds", headers=h["committee"], json={
        "name": "รอบข้าวสารต้นปี", "closes_at": "2099-01-01T10:00:00+07:00"}).get_json()["id"]
    oid = api.post(f"/api/v1/rounds/{rid}/offers", headers=h["committee"], json={
        "product_id": product, "supplier_id": world["supplier"], "pack_size": 1, "min_quantity": 0,
        "reference_price": "30.00", "tiers": [{"min_quantity": 0, "unit_price": "27.50"}]}).get_json()["id"]
    assert api.post(f"/api/v1/rounds/{rid}/open", headers=h["committee"]).status_code == 200
    assert api.put(f"/api/v1/rounds/{rid}/orders/{world['groups']['coop'].id}", headers=h["leader"], json={
        "lines": [{"offer_id": oid, "quantity": 400}]}).status_code == 200
    leader = Journey(browser, server, "thai-through-name-numbers")
    leader.login(world["users"]["leader"].email, harness().PASSWORD)
    page = leader.page
    leader.go(f"/rounds/{rid}/order")
    assert "105 400" not in _text(page, "#estimate") and "ข้าวหอมมะลิ 105 · 400 กก." in _text(page, "#estimate")
    leader.go(f"/rounds/{rid}/order/withdraw")
    assert _text(page, "#withdrawn-lines") == "ข้าวหอมมะลิ 105 · 400 กก."
    leader.shot("name-and-quantity")
    leader.close()
