"""Paying (issue 25) in Chromium at 360 px in Thai, on a live server: the admin sets the network's PromptPay
id (a wrong one refused in Thai), the committee's invoice page shows a QR that decodes to the payload of the
amount due, a part payment with a slip issues a numbered receipt and a new QR for what is left, the same
slip again is refused in Thai with nothing written, and the receipt prints on A5 with the amount in words."""
from __future__ import annotations

import base64
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pricing.baht_words import baht_words
from pricing.promptpay import promptpay_payload
from tests.browser.live import Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401 - the same Thai world and Chromium
from tests.paying_support import decode_svg_qr, slip_payload, slip_png

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def _invoice(worker_app: Any, w: dict[str, Any]) -> dict[str, Any]:
    api = worker_app.test_client()
    return api.get(f"/api/v1/invoices/{w['invoice']}", headers=w["h"]["committee"]).get_json()


def test_paying_an_invoice_on_a_phone(browser, server, world, worker_app):  # type: ignore[no-untyped-def]  # noqa: F811
    pw = harness().PASSWORD
    admin = Journey(browser, server, "thai-paying-admin")
    admin.login(world["users"]["admin"].email, pw)
    admin.go("/network/settings")
    admin.page.fill("#promptpay_id", "1-1111-11111-11-1")
    admin.page.click("#network-settings button[type=submit]")
    admin.page.wait_for_selector("#error-summary")
    assert "เลข 13 หลักนี้ไม่ถูกต้อง" in _text(admin.page, "main")
    admin.shot("promptpay-refused")
    admin.page.fill("#promptpay_id", "๐๘๙-๑๑๒-๒๓๓๔")  # Thai digits from a Thai keyboard
    admin.page.click("#network-settings button[type=submit]")
    admin.page.wait_for_selector(".flash.ok")
    assert admin.page.input_value("#promptpay_id") == "0891122334"
    admin.close()

    committee = Journey(browser, server, "thai-paying-committee")
    page = committee.page
    committee.login(world["users"]["committee"].email, pw)
    committee.go(f"/invoices/{world['invoice']}")
    due = Decimal(_invoice(worker_app, world)["due"])
    svg = page.locator("#promptpay .pay-qr svg").evaluate("e => e.outerHTML")
    assert decode_svg_qr(svg) == [promptpay_payload("0891122334", due)]
    assert "จ่ายให้" in _text(page, "#promptpay") and "089-112-2334" in _text(page, "#promptpay")
    assert _text(page, "#due-words") == f"({baht_words(due)})" and "สตางค์" in _text(page, "#due-words")
    committee.shot("invoice-qr")

    # A part payment by PromptPay with the slip's photo: a numbered receipt, and a QR of what is left.
    slip = Path(tempfile.mkdtemp()) / "slip.png"
    slip.write_bytes(base64.b64decode(slip_png(slip_payload("2026120412345678ABCD"))))
    page.fill("#amount", "1,000.50")
    page.select_option("#method", "promptpay")
    page.set_input_files("#slip", str(slip))
    page.click("#payment-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    number = re.search(r"25\d\d/\d{6}", _text(page, ".flash.ok"))
    assert number is not None
    after = _invoice(worker_app, world)
    assert Decimal(after["due"]) == due - Decimal("1000.50")
    svg = page.locator("#promptpay .pay-qr svg").evaluate("e => e.outerHTML")
    assert decode_svg_qr(svg) == [after["payment"]["payload"]] and after["payment"]["amount"] == after["due"]
    committee.shot("part-paid")

    # The same slip again: refused in Thai, nothing written.
    page.fill("#amount", "10")
    page.select_option("#method", "transfer")
    page.set_input_files("#slip", str(slip))
    page.click("#payment-form button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert "สลิปนี้เคยใช้บันทึกการชำระเงินไปแล้ว" in _text(page, "main")
    assert _invoice(worker_app, world)["due"] == after["due"]
    committee.shot("slip-reused")

    # The receipt: number, Buddhist-era date, payer, method, amount in figures and words; fits, prints on A5.
    page.locator("#receipts a").last.click()
    page.wait_for_selector("#receipt")
    assert _text(page, "#receipt-number") == number.group(0)
    assert re.search(r"25\d\d", _text(page, "#receipt-date"))
    assert _text(page, "#amount") == "1,000.50 บาท"
    assert _text(page, "#amount-words") == "(หนึ่งพันบาทห้าสิบสตางค์)"
    assert "พร้อมเพย์" in _text(page, "#method") and "014-2026120412345678ABCD" in _text(page, "#method")
    assert world["network"].name in _text(page, "#receipt")
    committee.shot("receipt")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible() and not page.locator("[data-print]").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    assert b"/MediaBox [0 0 419.52 595.2" in pdf or b"/MediaBox [0 0 420" in pdf, pdf[:2000]  # A5 in points
    committee.close()
