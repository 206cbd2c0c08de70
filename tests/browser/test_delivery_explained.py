"""Issue 22 §2 in Chromium at 360 × 740, in Thai, on a live server: a purchase order page shows what was
received against what was ordered and its total after the shortage; a group's invoice explains each line
that changed or fell to zero, and lists the payments made and what is left to pay."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.live import Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def test_a_short_delivery_is_explained_on_the_order_and_the_invoice(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    api, h = worker_app.test_client(), world["h"]
    rid = world["rounds"]["combined"]
    [po] = [p for p in api.get(f"/api/v1/rounds/{rid}/purchase-orders", headers=h["committee"]).get_json()
            if p["id"] == world["po"]]
    urea = po["lines"][0]["offer_id"]
    assert po["lines"][0]["ordered_quantity"] == 90
    # 80 of the 90 sacks arrive.
    got = api.post(f"/api/v1/purchase-orders/{po['id']}/receipt", headers=h["committee"],
                   json={"lines": [{"offer_id": urea, "received_quantity": 80}]})
    assert got.status_code == 200, got.get_json()
    invoice = world["invoice"]
    assert api.post(f"/api/v1/invoices/{invoice}/payments", headers=h["committee"],
                    json={"amount": "1000.00", "note": "เงินสด"}).status_code == 201
    committee = Journey(browser, server, "delivery-explained")
    committee.login(world["users"]["committee"].email, harness().PASSWORD)
    page = committee.page
    committee.go(f"/purchase-orders/{po['id']}")
    row = _text(page, f"[data-po-line='{urea}']")
    assert "สั่ง 90 กระสอบ" in row and "ได้รับ 80 กระสอบ" in row and "ขาด 10 กระสอบ" in row, row
    # 80 × 820.00 + delivery 500.00 + network fee 738.00 (1 % of the 73,800.00 ordered)
    assert "66,838.00" in _text(page, "#po-after-shortage"), _text(page, "#po-after-shortage")
    committee.shot("po-received")
    committee.go(f"/invoices/{invoice}")
    explained = _text(page, "#invoice-lines")
    assert "ส่งของขาด" in explained, explained
    assert "ไม่ถึงขั้นต่ำ" in explained and "ไม่ต้องจ่าย" in explained, explained  # the oil: 400 of 1,000 litres
    payments = _text(page, "#receipts")
    assert "1,000.00" in payments, payments
    assert "ค้างชำระ" in _text(page, "#left-to-pay")
    committee.shot("invoice-explained")
    committee.close()
