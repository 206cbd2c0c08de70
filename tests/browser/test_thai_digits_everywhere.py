"""Issue 22 §1, Thai digits: every numeric box on every page (order, listing, price, receipt, payment, quote
link, group, meeting, request for quotation) keeps ๐–๙ as typed on a Thai keyboard, shows back what it
understood, and the server reads them. Chromium at 360 × 740, in Thai, on a live server."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.live import Journey, harness
from tests.browser.test_thai_journeys import world  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]
NUMERIC = "input[inputmode=numeric]:not([disabled]), input[inputmode=decimal]:not([disabled])"


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def _every_box_reads_thai(journey: Journey, path: str) -> int:
    """Type ๑,๒๕๐ in each numeric box of the page: it stays as typed and the page says it read 1,250."""
    page = journey.page
    journey.go(path)
    assert page.locator("input[type=number]").count() == 0, f"{path}: a number box drops Thai digits"
    boxes = page.locator(NUMERIC)
    count = boxes.count()
    assert count, f"{path}: no numeric box"
    for i in range(count):
        box = boxes.nth(i)
        if not box.is_visible():
            continue
        box.fill("")
        box.press_sequentially("๑,๒๕๐")
        name = box.get_attribute("id")
        assert box.input_value() == "๑,๒๕๐", f"{path} #{name} refused Thai digits"
        assert _text(page, f"[data-understood-for='{name}']") == "อ่านได้เป็น 1,250", (path, name)
    return count


def test_every_numeric_box_reads_thai_digits(browser, server, world, worker_app, committed):  # type: ignore[no-untyped-def]  # noqa: F811
    api, h, pw = worker_app.test_client(), world["h"], harness().PASSWORD
    users = world["users"]
    # The committee: the offer form (pack, minimum, prices), a receipt, a payment, a meeting, a request.
    committee = Journey(browser, server, "thai-digits-committee")
    committee.login(users["committee"].email, pw)
    assert _every_box_reads_thai(committee, f"/rounds/{world['rounds']['draft']}") >= 4
    assert _every_box_reads_thai(committee, f"/purchase-orders/{world['po']}/receipt") >= 1
    assert _every_box_reads_thai(committee, f"/summaries/{world['month']}") >= 1
    assert _every_box_reads_thai(committee, "/rfqs/new") >= 2
    committee.shot("receipt-understood")
    # A payment of ๑,๐๐๐.๕๐ baht is read as 1,000.50.
    committee.go(f"/invoices/{world['invoice']}")
    page = committee.page
    page.fill("#amount", "")
    page.locator("#amount").press_sequentially("๑,๐๐๐.๕๐")
    assert _text(page, "[data-understood-for=amount]") == "อ่านได้เป็น 1,000.50"
    committee.shot("payment-understood")
    page.locator("#payment-form button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    invoices = api.get(f"/api/v1/rounds/{world['rounds']['combined']}/invoices", headers=h["committee"]).get_json()
    paid = {inv["id"]: inv["paid"] for inv in invoices}
    assert Decimal(paid[world["invoice"]]) == Decimal("1000.50")
    committee.close()
    # The admin: a group's member counts.
    admin = Journey(browser, server, "thai-digits-admin")
    admin.login(users["admin"].email, pw)
    coop = world["groups"]["coop"].id
    _every_box_reads_thai(admin, f"/groups/{coop}/edit")
    admin.go(f"/groups/{coop}/edit")  # the stored values again, then two counts in Thai digits
    admin.page.fill("#members", "๒๐๐")
    admin.page.fill("#registered_poor_members", "๖๑")
    admin.page.locator("form.card button[type=submit]").click()
    admin.page.wait_for_selector(".flash.ok")
    committed.expire_all()  # the test's own session had the group loaded before the page saved it
    assert api.get(f"/api/v1/groups/{coop}", headers=h["admin"]).get_json()["members"] == 200
    admin.close()
    # The seller: a new listing's price and stock.
    seller = Journey(browser, server, "thai-digits-seller")
    seller.login(users["seller"].email, pw)
    assert _every_box_reads_thai(seller, "/market/mine") >= 2
    seller.close()
    # The leader: a purchase from the marketplace, and the order form.
    leader = Journey(browser, server, "thai-digits-leader")
    leader.login(users["leader"].email, pw)
    _every_box_reads_thai(leader, f"/market/listings/{world['listing']}")
    leader.page.fill("#quantity", "")
    leader.page.locator("#quantity").press_sequentially("๑๒")
    leader.page.click("#buy")
    leader.page.wait_for_selector(".flash.ok")
    assert "12 กิโลกรัม" in _text(leader.page, "main")
    assert _every_box_reads_thai(leader, f"/rounds/{world['rounds']['open']}/order") == 2
    leader.shot("order-understood")
    leader.close()
    # The supplier, by the private link, without logging in.
    supplier = Journey(browser, server, "thai-digits-supplier")
    assert _every_box_reads_thai(supplier, f"/q/{world['quote_token']}") >= 3
    supplier.shot("quote-understood")
    supplier.close()
