"""Requests for quotation in Chromium at 360 x 740, in Thai, on a live server: the committee asks, two
suppliers quote on their phones by their links, the committee compares, prices its own choice and
awards. Every page must fit the phone (no sideways scrolling). Screenshots: tests/browser/screenshots/."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.live import Journey, harness

pytestmark = [pytest.mark.browser]
SHOTS = Path(__file__).resolve().parent / "screenshots"


class Phone(Journey):
    """A journey whose screenshots go to tests/browser/screenshots/."""

    def shot(self, label: str) -> None:
        self.step += 1
        self.page.wait_for_load_state("load")
        self.assert_fits()
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.step:02d}-{label}.png"), full_page=True)


def _world(session: Any) -> dict[str, Any]:
    from werkzeug.security import generate_password_hash

    from network.models import Network, User
    from orders.models import Product, Supplier

    network = Network(name="เครือข่ายอุดรธานี", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
    session.add(network)
    session.flush()
    committee = User(network_id=network.id, email="committee@rfq.test", name="คุณประธาน", role="committee",
                     password_hash=generate_password_hash(harness().PASSWORD), session_version=0, active=True)
    suppliers = [Supplier(network_id=network.id, name=n, phone="042-000000")
                 for n in ("ห้างหุ้นส่วนจำกัด อุดรค้าส่ง", "ร้านเจริญการเกษตร")]
    products = [Product(network_id=network.id, name="ข้าวหอมมะลิ", unit="กก.", category="อาหาร"),
                Product(network_id=network.id, name="ปุ๋ยยูเรีย 46-0-0", unit="กระสอบ", category="ปุ๋ย")]
    session.add_all([committee, *suppliers, *products])
    session.commit()
    return {"committee": committee, "suppliers": suppliers, "products": products}


def test_rfq_on_phones(browser, server, committed):  # type: ignore[no-untyped-def]
    world = _world(committed)
    rice, urea = world["products"]
    s1, s2 = world["suppliers"]

    committee = Phone(browser, server, "rfq-committee")
    committee.login(world["committee"].email, harness().PASSWORD)
    page = committee.page
    committee.go("/rfqs")
    committee.shot("list")
    page.click("#new-rfq")
    page.wait_for_url("**/rfqs/new")
    page.fill("#name", "ข้าวและปุ๋ย ต้นฤดู")
    closes = datetime.now(ZoneInfo("Asia/Bangkok")) + timedelta(days=2)  # typed the Thai way, Buddhist era
    page.fill("#closes_at", f"{closes.day}/{closes.month}/{closes.year + 543} {closes:%H:%M}")
    for product, quantity, price in ((rice, "500", "42.00"), (urea, "60", "850.00")):
        page.check(f"input[name=p{product.id}-on]")
        page.fill(f"#p{product.id}-qty", quantity)
        page.fill(f"#p{product.id}-ref", price)
    page.check(f"input[name=s{s1.id}]")
    page.check(f"input[name=s{s2.id}]")
    committee.shot("new-filled")
    page.click("#rfq-form button[type=submit]")
    page.wait_for_selector("#links")
    committee.shot("links")
    links = {int(el.get_attribute("data-supplier")): el.get_attribute("value")
             for el in page.locator("#links input").all()}
    assert set(links) == {s1.id, s2.id} and all("/q/" in link for link in links.values())

    # The first supplier, on its phone, no account: both products, tiers.
    supplier = Phone(browser, server, "rfq-supplier")
    sp = supplier.page
    sp.goto(links[s1.id])
    assert "ใบเสนอราคา: ข้าวและปุ๋ย ต้นฤดู" in sp.locator("h1").inner_text()
    assert "จำนวนที่ต้องการ 500 กก." in sp.locator(f"#product-{rice.id}").inner_text()
    supplier.shot("empty")
    sp.check(f"input[name=p{rice.id}-on]")
    sp.fill(f"#p{rice.id}-pack", "50")
    sp.fill(f"#p{rice.id}-t0-price", "40.00")
    sp.fill(f"#p{rice.id}-t1-min", "500")
    sp.fill(f"#p{rice.id}-t1-price", "38.50")
    sp.check(f"input[name=p{urea.id}-on]")
    sp.fill(f"#p{urea.id}-t0-price", "820.00")
    sp.fill("#delivery_fee", "500")
    supplier.shot("filled")
    sp.click("#send-quote")
    sp.wait_for_selector(".flash.ok")
    assert "รวม 19,250.00 บาท" in sp.locator(f"#product-{rice.id}").inner_text()  # 500 x 38.50
    supplier.shot("saved")
    supplier.close()

    # The second supplier quotes urea only, cheaper, with a larger fee.
    other = Phone(browser, server, "rfq-supplier2")
    other.page.goto(links[s2.id])
    other.page.check(f"input[name=p{urea.id}-on]")
    other.page.fill(f"#p{urea.id}-pack", "10")
    other.page.fill(f"#p{urea.id}-t0-price", "790.00")
    other.page.fill("#delivery_fee", "800")
    other.page.click("#send-quote")
    other.page.wait_for_selector(".flash.ok")
    other.close()

    # The comparison: best = supplier 1 alone (19,250 + 49,200 + 500 = 68,950); urea from supplier 2
    # would save 1,800 on the goods but add its 800 fee: 68,950 - 1,800 + 800 = 67,950. So the best mixes.
    page.click("text=ไปหน้าการเปรียบเทียบ")
    page.wait_for_url("**/rfqs/*")
    assert page.locator("#best-total").inner_text() == "67,950.00"
    committee.shot("comparison")
    page.select_option(f"#c{urea.id}", str(s1.id))
    page.click("button[value=preview]")
    page.wait_for_selector("#preview")
    assert "แพงกว่าการตัดสินที่ถูกที่สุด 1,000.00 บาท" in page.locator("#preview").inner_text()
    committee.shot("own-choice")
    page.select_option(f"#c{urea.id}", str(s2.id))
    page.check("input[name=confirm]")
    page.click("#award")
    page.wait_for_url("**/rounds/*")
    assert "ค่าขนส่งของผู้ขายส่งทั้งรอบ" in page.content()
    committee.shot("round")
    committee.close()
