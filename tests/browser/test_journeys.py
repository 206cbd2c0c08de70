"""The three journeys of issue 6, end to end in Chromium at a 360 px phone viewport, on a live server
(gunicorn) on PostgreSQL with a real Celery worker. Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.live import CHROMIUM_ARGS, Journey, harness, live_server

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(database, celery_worker, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with live_server(database, tmp_path / "gunicorn.log") as url:
        yield url


def _people(session: Any) -> dict[str, Any]:
    from werkzeug.security import generate_password_hash

    from network.models import Group, Network, User

    h = harness()
    network = Network(name="เครือข่ายหนองคาย", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
    session.add(network)
    session.flush()
    groups = {
        "a": Group(network_id=network.id, name="กลุ่มแม่บ้านบ้านหม้อ", district="ศรีเชียงใหม่", members=40,
                   registered_poor_members=12),
        "b": Group(network_id=network.id, name="สหกรณ์โพนพิสัย", district="โพนพิสัย", members=120,
                   registered_poor_members=30),
        "mill": Group(network_id=network.id, name="โรงสีชุมชนท่าบ่อ", district="ท่าบ่อ", members=25,
                      registered_poor_members=5, kind="community_enterprise"),
    }
    session.add_all(groups.values())
    session.flush()
    hashed = generate_password_hash(h.PASSWORD)
    users = {}
    for key, role, group in [("admin", "admin", None), ("committee", "committee", None),
                             ("leader", "leader", groups["a"]), ("leader_b", "leader", groups["b"]),
                             ("seller", "seller", groups["mill"])]:
        users[key] = User(network_id=network.id, email=f"{key}@ruamsue.test", name=f"คุณ{key}", role=role,
                          group_id=group.id if group else None, password_hash=hashed, session_version=0,
                          active=True)
    session.add_all(users.values())
    session.commit()
    return {"network": network, "groups": groups, "users": users, "password": h.PASSWORD}


def _open_round(session: Any, network: Any) -> Any:
    from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

    supplier = Supplier(network_id=network.id, name="ร้านปุ๋ยเจริญ", phone="042-000000")
    fert = Product(network_id=network.id, name="ปุ๋ยสูตร 15-15-15", unit="กระสอบ", category="ปุ๋ย")
    oil = Product(network_id=network.id, name="น้ำมันพืช", unit="ขวด", category="อาหาร")
    session.add_all([supplier, fert, oil])
    session.flush()
    now = datetime.now(timezone.utc)
    rnd = BuyingRound(network_id=network.id, name="รอบปุ๋ยต้นฤดู", state="open", closes_at=now + timedelta(days=2),
                      opened_at=now)
    session.add(rnd)
    session.flush()
    fert_offer = Offer(round_id=rnd.id, product_id=fert.id, supplier_id=supplier.id, pack_size=10, min_quantity=0,
                       reference_price=Decimal("950.00"), delivery_fee=Decimal("300.00"))
    fert_offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("900.00")),
                        PriceTier(min_quantity=50, unit_price=Decimal("860.00"))]
    oil_offer = Offer(round_id=rnd.id, product_id=oil.id, supplier_id=supplier.id, pack_size=12, min_quantity=0,
                      reference_price=Decimal("55.00"), delivery_fee=Decimal("0"))
    oil_offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("48.00"))]
    session.add_all([fert_offer, oil_offer])
    session.commit()
    return rnd, fert_offer, oil_offer


def test_journey_1_order_close_deliver_savings(browser, server, committed):  # type: ignore[no-untyped-def]
    world = _people(committed)
    rnd, fert, oil = _open_round(committed, world["network"])
    pw = world["password"]

    # Another group has ordered already: the leader sees the network's total so far.
    leader_b = Journey(browser, server, "j1-leader-b")
    leader_b.login(world["users"]["leader_b"].email, pw)
    leader_b.go(f"/rounds/{rnd.id}/order")
    leader_b.page.fill(f"#q_{fert.id}", "30")
    leader_b.page.click("#save-order")
    leader_b.page.wait_for_selector(".flash.ok")
    leader_b.close()

    leader = Journey(browser, server, "j1-leader")
    leader.login(world["users"]["leader"].email, pw)
    page = leader.page
    assert page.locator("#attention").inner_text().find("รอบปุ๋ยต้นฤดู") >= 0
    leader.shot("home")
    page.click("#attention a")
    page.click("#order-link")
    body = page.locator("#order-form").inner_text()
    assert "ทั้งเครือข่ายสั่งแล้ว 30" in body and "อีก 20" in body
    page.fill(f"#q_{fert.id}", "15")
    page.fill(f"#t_{fert.id}", "5")
    page.fill(f"#q_{oil.id}", "24")
    # live total: 15 x 900 + 24 x 48 = 14,652.00 (45 pooled, the 860 tier not reached yet)
    assert page.locator("#order-total").inner_text() == "14,652.00"
    leader.shot("order-filled")
    page.click("#save-order")
    page.wait_for_selector(".flash.ok")
    assert page.input_value(f"#q_{fert.id}") == "15"
    leader.shot("order-saved")
    # change the order: 25 sacks reaches the 860 tier for the whole network (55 pooled)
    page.fill(f"#q_{fert.id}", "25")
    assert page.locator("#order-total").inner_text() == f"{25 * 860 + 24 * 48:,}.00"
    page.click("#save-order")
    page.wait_for_selector(".flash.ok")
    assert "ทั้งเครือข่ายสั่งแล้ว 55" in page.locator("#order-form").inner_text()
    assert "ได้ราคาดีที่สุดแล้ว" in page.locator("#order-form").inner_text()
    leader.shot("order-changed")

    committee = Journey(browser, server, "j1-committee")
    committee.login(world["users"]["committee"].email, pw)
    cpage = committee.page
    committee.go(f"/rounds/{rnd.id}")
    committee.shot("round-open")
    cpage.click("#close-now")
    # the job's progress shows on the page and it reloads itself when the worker is done
    cpage.wait_for_selector("[data-job-url]")
    committee.shot("combining")
    cpage.wait_for_function("document.querySelector('#round-state') && "
                            "document.querySelector('#round-state').textContent.includes('รวมยอดแล้ว')",
                            timeout=60_000)
    committee.shot("combined")
    cpage.click("text=ใบสั่งซื้อ")
    cpage.wait_for_selector("#purchase-orders")
    committee.shot("purchase-orders")
    cpage.click("[id^=receipt-]")
    # the supplier delivered 50 sacks of the 60 ordered
    cpage.fill(f"#r_{fert.id}", "50")
    committee.shot("receipt")
    cpage.click("#save-receipt")
    cpage.wait_for_selector(".flash.ok")
    assert "รับของแล้ว" in cpage.locator("#purchase-orders").inner_text()
    committee.shot("delivered")
    committee.go(f"/rounds/{rnd.id}/distribution")
    committee.shot("distribution")
    committee.go(f"/rounds/{rnd.id}/invoices")
    committee.shot("invoices")
    committee.close()

    page.goto(server + f"/rounds/{rnd.id}")
    savings = page.locator("#group-savings").inner_text()
    assert "กลุ่มประหยัดได้" in savings
    amount = re.search(r"กลุ่มประหยัดได้\s*([-\d,]+\.\d\d)", savings)
    assert amount and Decimal(amount.group(1).replace(",", "")) > 0
    leader.shot("results")
    page.click("text=ดูใบแจ้งหนี้")
    leader.shot("invoice")
    # English too
    leader.go("/lang/en")
    leader.go(f"/rounds/{rnd.id}")
    assert "The group saved" in page.locator("#group-savings").inner_text()
    leader.shot("results-en")
    leader.close()
