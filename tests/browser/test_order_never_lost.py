"""Issue 22 §1 in Chromium at 360 × 740, in Thai, on a live server: a leader never loses an order without
being asked. A blank form sent by the page's script keeps the order; Thai digits are read, and shown
back as understood; a save that removes lines asks first, listing them; a box that cannot be read is
an error, never "nothing". Screenshots: test-artifacts/screenshots/never-lost-*.png."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.live import PHONE, Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def _order(api: Any, w: dict[str, Any], rid: int) -> dict[int, int]:
    got = api.get(f"/api/v1/rounds/{rid}/orders/{w['groups']['coop'].id}", headers=w["h"]["leader"])
    assert got.status_code == 200
    return {line["offer_id"]: line["quantity"] for line in got.get_json()["lines"]}


def _in_view(page: Any, selector: str) -> bool:
    page.wait_for_load_state("load")
    top = page.evaluate(f"() => document.querySelector({selector!r}).getBoundingClientRect().top")
    assert -1 <= top < PHONE["height"], (selector, top)
    return True


def _two_line_round(api: Any, w: dict[str, Any]) -> tuple[int, int, int]:
    """An open round of fertiliser and oil; the leader's group has ordered 40 sacks and 250 litres."""
    h = w["h"]
    products = {p["name"]: p["id"] for p in api.get("/api/v1/products", headers=h["committee"]).get_json()}
    rid = api.post("/api/v1/rounds", headers=h["committee"], json={
        "name": "รอบปุ๋ยและน้ำมันปลายฝน", "closes_at": "2099-01-01T10:00:00+07:00"}).get_json()["id"]
    offers = []
    for name, price in (("ปุ๋ยยูเรีย 46-0-0", "820.00"), ("น้ำมันถั่วเหลือง", "48.00")):
        offers.append(api.post(f"/api/v1/rounds/{rid}/offers", headers=h["committee"], json={
            "product_id": products[name], "supplier_id": w["supplier"], "pack_size": 1, "min_quantity": 0,
            "reference_price": "900.00", "tiers": [{"min_quantity": 0, "unit_price": price}]}).get_json()["id"])
    assert api.post(f"/api/v1/rounds/{rid}/open", headers=h["committee"]).status_code == 200
    urea, oil = offers
    assert api.put(f"/api/v1/rounds/{rid}/orders/{w['groups']['coop'].id}", headers=h["leader"], json={
        "lines": [{"offer_id": urea, "quantity": 40}, {"offer_id": oil, "quantity": 250}]}).status_code == 200
    return rid, urea, oil


def test_a_blank_form_sent_by_the_script_keeps_the_order(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    leader = Journey(browser, server, "never-lost-blank")
    leader.login(world["users"]["leader"].email, harness().PASSWORD)
    page, api = leader.page, worker_app.test_client()
    rid = world["rounds"]["open"]
    before = _order(api, world, rid)
    assert before  # 40 sacks
    leader.go(f"/rounds/{rid}/order")
    for box in page.locator("#order-form input:not([type=hidden])").all():
        box.fill("")
    page.click("#save-order")
    page.wait_for_selector("#error-summary")
    assert "ทุกช่องว่างอยู่ จึงไม่ได้บันทึก" in _text(page, "#error-summary")
    assert _in_view(page, "#error-summary")
    assert page.locator(".flash.ok").count() == 0  # never "saved" beside the refusal
    leader.shot("blank-refused")
    assert _order(api, world, rid) == before, "a blank form withdrew the group's order"
    # Offline too: the phone refuses it itself and keeps nothing to send.
    leader.go(f"/rounds/{rid}/order")
    leader.context.set_offline(True)
    for box in page.locator("#order-form input:not([type=hidden])").all():
        box.fill("")
    page.click("#save-order")
    page.wait_for_selector("#error-summary.offline-summary")
    assert "ทุกช่องว่างอยู่" in _text(page, "#error-summary") and page.locator("[data-outbox]").count() == 0
    leader.context.set_offline(False)
    assert _order(api, world, rid) == before
    leader.close()


def test_thai_digits_are_read_and_removing_a_line_asks_first(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    api = worker_app.test_client()
    rid, urea, oil = _two_line_round(api, world)
    leader = Journey(browser, server, "never-lost-thai-digits")
    leader.login(world["users"]["leader"].email, harness().PASSWORD)
    page = leader.page
    leader.go(f"/rounds/{rid}/order")
    # ๓๐ typed on a Thai keyboard stays in the box, and the page says what it understood.
    oil_box = page.locator(f"#q_{oil}")
    oil_box.fill("")
    oil_box.press_sequentially("๓๐")
    assert oil_box.input_value() == "๓๐", "the quantity box refused Thai digits"
    assert _text(page, f"[data-understood-for=q_{oil}]") == "อ่านได้เป็น 30"
    leader.shot("thai-digits-understood")
    page.click("#save-order")
    page.wait_for_url(f"**/rounds/{rid}/order")
    page.wait_for_selector(".flash.ok")
    assert _order(api, world, rid) == {urea: 40, oil: 30}, "Thai digits dropped the line"
    # A box that cannot be read is an error, never "nothing".
    urea_box = page.locator(f"#q_{urea}")
    urea_box.fill("")
    urea_box.press_sequentially("๔o")  # a letter o for the zero
    assert _text(page, f"[data-understood-for=q_{urea}]").startswith("อ่านไม่ออก")
    page.click("#save-order")
    page.wait_for_selector("#error-summary")
    assert _in_view(page, "#error-summary")
    assert _order(api, world, rid) == {urea: 40, oil: 30}
    leader.shot("unreadable-refused")
    # Emptying one line asks first, naming it with its quantity; "no" changes nothing.
    leader.go(f"/rounds/{rid}/order")
    page.locator(f"#q_{urea}").fill("")
    page.click("#save-order")
    page.wait_for_selector("dialog[open] #removed-lines")
    assert _text(page, "#removed-lines") == "ปุ๋ยยูเรีย 46-0-0 · 40 กระสอบ"
    assert "ลบ 1 รายการ" in _text(page, "dialog[open] h2")
    leader.shot("removal-asks")
    page.click("#dialog-no")
    assert page.locator("dialog[open]").count() == 0
    assert _order(api, world, rid) == {urea: 40, oil: 30}
    page.click("#save-order")
    page.click("dialog[open] #dialog-yes")
    page.wait_for_selector(".flash.ok")
    assert _order(api, world, rid) == {oil: 30}
    leader.shot("removed-after-asking")
    leader.close()


def test_without_javascript_removing_a_line_asks_on_a_page(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    api = worker_app.test_client()
    rid, urea, oil = _two_line_round(api, world)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="th-TH",
                                  java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/login")
    page.fill("#email", world["users"]["leader"].email)
    page.fill("#password", harness().PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")
    page.goto(f"{server}/rounds/{rid}/order")
    page.fill(f"#q_{oil}", "")
    page.fill(f"#q_{urea}", "๔๕")
    page.click("#save-order")
    page.wait_for_selector("#confirm-form")
    assert "น้ำมันถั่วเหลือง · 250 ลิตร" in _text(page, "#confirm-consequence")
    assert _order(api, world, rid) == {urea: 40, oil: 250}
    page.click("#confirm-yes")
    page.wait_for_selector(".flash.ok")
    assert _order(api, world, rid) == {urea: 45}
    context.close()
