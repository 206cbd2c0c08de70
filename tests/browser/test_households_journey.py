"""Households in Chromium at 360 x 740, in Thai, on a live server with a real Celery worker: the leader opens the
round's link (a LINE share button), households enter their quantities on their phones without an account (Thai
digits, a wrong value explained), the leader adopts the households' totals as the group's order, the round is
combined by the worker, the supplier delivers short, and each household sees its bill at its link; the leader's
bills add up to the group's invoice. Every page must fit the phone."""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.live import Journey, harness

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def _world(session: Any) -> dict[str, Any]:
    from werkzeug.security import generate_password_hash

    from core.auth import hash_token, new_token
    from households.models import Household
    from network.models import ApiToken, Group, Network, User
    from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

    network = Network(name="เครือข่ายหนองคาย", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
    session.add(network)
    session.flush()
    group = Group(network_id=network.id, name="กลุ่มแม่บ้านบ้านหม้อ", members=40, registered_poor_members=12)
    session.add(group)
    session.flush()
    hashed = generate_password_hash(harness().PASSWORD)
    leader = User(network_id=network.id, email="leader@households.test", name="คุณผู้นำ", role="leader",
                  group_id=group.id, password_hash=hashed, session_version=0, active=True)
    committee = User(network_id=network.id, email="committee@households.test", name="คุณกรรมการ", role="committee",
                     password_hash=hashed, session_version=0, active=True)
    session.add_all([leader, committee])
    supplier = Supplier(network_id=network.id, name="ร้านข้าวเจริญ")
    rice = Product(network_id=network.id, name="ข้าวหอมมะลิ", unit="กก.", category="อาหาร")
    session.add_all([supplier, rice])
    session.flush()
    now = datetime.now(UTC)
    rnd = BuyingRound(network_id=network.id, name="รอบข้าว ธ.ค.", state="open", closes_at=now + timedelta(days=2),
                      opened_at=now)
    session.add(rnd)
    session.flush()
    offer = Offer(round_id=rnd.id, product_id=rice.id, supplier_id=supplier.id, pack_size=5, min_quantity=0,
                  reference_price=Decimal("50.00"), delivery_fee=Decimal("35.00"))
    offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("44.00"))]
    houses = [Household(network_id=network.id, group_id=group.id, name=n, registered_poor=p)
              for n, p in (("บ้านเลขที่ 1 นายมา", True), ("บ้านเลขที่ 2 นางมี", False), ("บ้านเลขที่ 3 นายสุข", True))]
    session.add_all([offer, *houses])
    session.flush()
    token = new_token()
    session.add(ApiToken(user_id=committee.id, token_hash=hash_token(token)))
    session.commit()
    return {"round": rnd, "group": group, "offer": offer, "leader": leader, "houses": houses, "committee": committee,
            "committee_api": {"Authorization": f"Bearer {token}"}}


def _api(base: str, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={**headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _until(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.5)


def _household_enters(browser: Any, link: str, name: str, typed: str, shot: str) -> Journey:
    phone = Journey(browser, "", shot)
    page = phone.page
    page.goto(link)
    phone.shot("sheet")
    assert "สั่งของรอบ รอบข้าว ธ.ค." in page.inner_text("h1")
    page.select_option("#h", label=name)
    page.click("#pick")
    page.wait_for_selector("#sheet-form")
    page.fill("input[id^=q-]", typed)
    page.click("#save-sheet")
    page.wait_for_selector(".flash.ok")
    phone.shot("saved")
    return phone


def test_households_order_by_link_and_get_their_bills(browser, server, committed):  # type: ignore[no-untyped-def]
    w = _world(committed)
    rnd, group = w["round"], w["group"]

    leader = Journey(browser, server, "households-leader")
    leader.login(w["leader"].email, harness().PASSWORD)
    lpage = leader.page
    leader.go(f"/rounds/{rnd.id}/groups/{group.id}/households")
    leader.shot("no-link-yet")
    lpage.click("#open-sheet")
    lpage.wait_for_selector("#sheet-link")
    link = lpage.input_value("#sheet-url")
    assert "/h/" in link
    share = lpage.get_attribute("#line-share", "href")
    assert share is not None and share.startswith("https://line.me/R/share?text=")
    assert link in urllib.parse.unquote(share.split("text=", 1)[1])
    leader.shot("link-and-line-share")

    # Households on their own phones, no account: Thai digits accepted; a wrong value is explained in Thai.
    first = _household_enters(browser, link, "บ้านเลขที่ 1 นายมา", "๔", "households-house1")
    assert first.page.input_value("input[id^=q-]") == "4"
    second = Journey(browser, "", "households-house2")
    p2 = second.page
    p2.goto(link)
    p2.select_option("#h", label="บ้านเลขที่ 2 นางมี")
    p2.click("#pick")
    p2.wait_for_selector("#sheet-form")
    assert p2.input_value("input[id^=q-]") == ""  # never another household's quantities
    p2.fill("input[id^=q-]", "สาม")
    p2.click("#save-sheet")
    p2.wait_for_selector("p.error[id$=-error]")
    assert "จำนวนเต็ม" in p2.inner_text("p.error[id$=-error]") or "ตัวเลข" in p2.inner_text("p.error[id$=-error]")
    second.shot("wrong-value-explained")
    p2.fill("input[id^=q-]", "3")
    p2.click("#save-sheet")
    p2.wait_for_selector(".flash.ok")
    third = _household_enters(browser, link, "บ้านเลขที่ 3 นายสุข", "3", "households-house3")

    # The leader adopts the households' totals as the group's order.
    leader.go(f"/rounds/{rnd.id}/groups/{group.id}/households")
    assert "10" in lpage.inner_text("#totals")
    leader.shot("households-totals")
    lpage.click("#fill-order")
    lpage.wait_for_selector(".flash.ok")
    leader.shot("order-from-households")
    order = _api(server, "GET", f"/api/v1/rounds/{rnd.id}/orders/{group.id}", w["committee_api"])
    assert [ln["quantity"] for ln in order["lines"]] == [10]

    # Close; the worker combines; the supplier delivers 5 kg short.
    _api(server, "POST", f"/api/v1/rounds/{rnd.id}/close", w["committee_api"], {})
    _until(lambda: _api(server, "GET", f"/api/v1/rounds/{rnd.id}", w["committee_api"])["state"] == "combined", 90)
    third.page.reload()
    assert third.page.is_visible("#sheet-closed")
    assert third.page.is_visible("#household-bill")
    third.shot("closed-with-bill")
    po = _api(server, "GET", f"/api/v1/rounds/{rnd.id}/purchase-orders", w["committee_api"])[0]
    _api(server, "POST", f"/api/v1/purchase-orders/{po['id']}/receipt", w["committee_api"],
         {"lines": [{"offer_id": w["offer"].id, "received_quantity": 5}]})

    # Each household sees its bill at its own link: 5 kg over 4, 3, 3 -> 2, 2, 1 (ties to the smaller id).
    first.page.reload()
    assert "2 กก." in first.page.inner_text("#household-bill td[data-label=ได้รับ]")
    assert first.page.is_visible("#bill-savings")
    first.shot("bill-after-short-delivery")
    bills = _api(server, "GET", f"/api/v1/rounds/{rnd.id}/groups/{group.id}/household-bills", w["committee_api"])
    invoices = _api(server, "GET", f"/api/v1/rounds/{rnd.id}/invoices", w["committee_api"])
    total = next(Decimal(i["total"]) for i in invoices if i["group_id"] == group.id)
    assert sum(Decimal(r["total"]) for r in bills["rows"]) == total
    got = {r["name"]: r["lines"][0]["allocated"] for r in bills["rows"] if r["household_id"] is not None}
    assert got == {"บ้านเลขที่ 1 นายมา": 2, "บ้านเลขที่ 2 นางมี": 2, "บ้านเลขที่ 3 นายสุข": 1}
    first_row = next(r for r in bills["rows"] if r["name"] == "บ้านเลขที่ 1 นายมา")
    assert first.page.inner_text("#bill-total").replace(",", "").strip().startswith(
        f"{Decimal(first_row['total']):,.2f}".replace(",", ""))

    # The leader's printable bills: one section per household, in Thai, on the phone.
    leader.go(f"/rounds/{rnd.id}/groups/{group.id}/household-bills")
    assert lpage.locator("section.bill").count() == 3
    leader.shot("bills")
    leader.go(f"/rounds/{rnd.id}/groups/{group.id}/household-bills?print=each")
    assert lpage.locator("section.bill[data-page=each]").count() == 3
    # The month's summary: this group's reach to registered-poor households is measured from its bills, and
    # the committee's page says so.
    from zoneinfo import ZoneInfo

    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok")).strftime("%Y-%m")
    summary = _api(server, "GET", f"/api/v1/summaries/{month}", w["committee_api"])
    line = next(g for g in summary["groups"] if g["group_id"] == group.id)
    poor = sum(Decimal(r["savings"]) for r in bills["rows"] if r["registered_poor"])
    assert (line["registered_poor_basis"], line["households_reached"]) == ("households", 3)
    assert Decimal(line["registered_poor_savings"]) == poor
    committee = Journey(browser, server, "households-committee")
    committee.login(w["committee"].email, harness().PASSWORD)
    committee.go(f"/summaries/{month}")
    assert "วัดจากบิลครัวเรือน" in committee.page.inner_text("#groups")
    committee.shot("summary-measured")
    for phone in (leader, first, second, third, committee):
        phone.close()
