"""Issue 17 in Chromium at 360x740 in Thai, on a live gunicorn: the leader's order page opened without
a signal from the phone's copy ("as of"), an order kept on the phone and sent exactly once when the
signal returns, the deadline passing while offline, and two phones of one group.
Screenshots: test-artifacts/screenshots/offline-*.png."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.live import Journey, harness

pytestmark = [pytest.mark.browser]
WAIT = 20_000  # ms: the shared machine can be slow; a real failure still fails


@pytest.fixture
def world(committed) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from werkzeug.security import generate_password_hash

    from network.models import Group, Network, User
    from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

    s = committed
    network = Network(name="เครือข่ายสังคม", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
    s.add(network)
    s.flush()
    group = Group(network_id=network.id, name="กลุ่มแม่บ้านโพธิ์ตาก", district="โพธิ์ตาก", members=30,
                  registered_poor_members=8)
    s.add(group)
    s.flush()
    hashed = generate_password_hash(harness().PASSWORD)
    leader = User(network_id=network.id, email="leader@ruamsue.test", name="คุณสมศรี", role="leader",
                  group_id=group.id, password_hash=hashed, session_version=0, active=True)
    deputy = User(network_id=network.id, email="deputy@ruamsue.test", name="คุณบุญมี", role="leader",
                  group_id=group.id, password_hash=hashed, session_version=0, active=True)
    supplier = Supplier(network_id=network.id, name="ร้านปุ๋ยเจริญ")
    fert = Product(network_id=network.id, name="ปุ๋ยสูตร 15-15-15", unit="กระสอบ", category="ปุ๋ย")
    oil = Product(network_id=network.id, name="น้ำมันพืช", unit="ขวด", category="อาหาร")
    s.add_all([leader, deputy, supplier, fert, oil])
    s.flush()
    now = datetime.now(UTC)
    rnd = BuyingRound(network_id=network.id, name="รอบปุ๋ยต้นฤดู", state="open", opened_at=now,
                      closes_at=now + timedelta(days=2))
    s.add(rnd)
    s.flush()
    offers = {}
    for key, product, price in (("fert", fert, "900.00"), ("oil", oil, "48.00")):
        offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id, pack_size=1, min_quantity=0,
                      reference_price=Decimal(price) + 50, delivery_fee=Decimal("0"))
        offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal(price))]
        s.add(offer)
        offers[key] = offer
    s.commit()
    return {"round": rnd, "group": group, "leader": leader, "deputy": deputy, "password": harness().PASSWORD,
            "fert": offers["fert"], "oil": offers["oil"], "session": s}


# --- what the database holds -----------------------------------------------------------------------

def _order(world: dict[str, Any]) -> dict[int, tuple[int, int]]:
    from orders.models import GroupOrder, OrderLine

    s = world["session"]
    s.rollback()
    rows = s.execute(select(OrderLine.offer_id, OrderLine.quantity, OrderLine.tolerance).join(GroupOrder)
                     .where(GroupOrder.round_id == world["round"].id, GroupOrder.group_id == world["group"].id))
    return {offer_id: (q, t) for offer_id, q, t in rows}


def _writes(world: dict[str, Any], user: Any) -> tuple[int, list[str]]:
    """Order writes of this user (audit trail) and the Idempotency-Keys the server kept for them."""
    from core.models import AuditEvent, IdempotencyRecord

    s = world["session"]
    s.rollback()
    writes = s.scalar(select(func.count()).select_from(AuditEvent)
                      .where(AuditEvent.action == "order.replace", AuditEvent.user_id == user.id))
    keys = list(s.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.user_id == user.id)))
    return int(writes or 0), keys


# --- the phone -------------------------------------------------------------------------------------

def _phone(browser: Any, server: str, name: str, user: Any, password: str) -> Journey:
    phone = Journey(browser, server, name)
    phone.login(user.email, password)
    # The service worker installs on the first page and takes the page over.
    assert phone.page.evaluate("() => navigator.serviceWorker.ready.then(r => !!r.active)")
    _until(lambda: phone.page.evaluate("() => !!navigator.serviceWorker.controller"), what="service worker in control")
    return phone


def _until(check: Any, timeout: float = 20.0, what: str = "", page: Any = None) -> None:
    """Poll; through the page's own wait when given, so that Playwright's route handlers run meanwhile."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)


def _kept(phone: Journey, path: str) -> bool:
    return bool(phone.page.evaluate(
        "url => caches.open('ruamsue-pages-v1').then(c => c.match(url)).then(r => !!r)", phone.base + path))


def _go_offline(phone: Journey, path: str) -> None:
    """Open a page from the phone's copy. Chromium's offline emulation now and then lets the page just
    shown from the copy come back in place of the one asked for (no request reaches the server either
    way): ask once more, and say so if the page still is not there."""
    for _ in range(3):
        phone.go(path)
        if phone.page.url == phone.base + path:
            return
        phone.page.wait_for_timeout(300)
    raise AssertionError(f"offline, {path} did not open: still at {phone.page.url}")


def _open_online_then_go_offline(phone: Journey, order_path: str) -> None:
    phone.go("/rounds")
    phone.go(order_path)
    _until(lambda: _kept(phone, order_path) and _kept(phone, "/rounds"), what="pages kept on the phone")
    phone.context.set_offline(True)


def _outbox(phone: Journey) -> list[dict[str, Any]]:
    """What the phone keeps in IndexedDB (asked again if the page was reloading itself)."""
    for attempt in range(10):
        try:
            phone.page.wait_for_load_state("load")
            return list(phone.page.evaluate("() => self.RuamsueOutbox.box.all()"))
        except Exception as exc:  # noqa: BLE001
            if ("context was destroyed" not in str(exc) and "reading 'box'" not in str(exc)) or attempt == 9:
                raise
            phone.page.wait_for_timeout(200)
    raise AssertionError("unreachable")


def test_order_placed_offline_is_sent_once_when_the_signal_returns(browser, server, world):  # type: ignore[no-untyped-def]
    rnd, fert, oil = world["round"], world["fert"], world["oil"]
    order_path = f"/rounds/{rnd.id}/order"
    phone = _phone(browser, server, "offline-1", world["leader"], world["password"])
    page = phone.page
    _open_online_then_go_offline(phone, order_path)

    # Reopened without a signal: the phone's copy, saying as of when.
    phone.go("/rounds")
    expect(page.locator("#as-of")).to_contain_text("ข้อมูล ณ", timeout=WAIT)
    assert "รอบปุ๋ยต้นฤดู" in page.locator("main").inner_text()
    phone.shot("rounds-as-of")
    _go_offline(phone, order_path)
    as_of = page.locator("#as-of").inner_text()
    assert "ข้อมูล ณ" in as_of and str(datetime.now(ZoneInfo("Asia/Bangkok")).year + 543) in as_of, as_of
    phone.shot("order-as-of")

    page.fill(f"#q_{fert.id}", "15")
    page.fill(f"#t_{fert.id}", "5")
    page.fill(f"#q_{oil.id}", "24")
    expect(page.locator("#order-total")).to_have_text("14,652.00", timeout=WAIT)
    page.click("#save-order")
    pending = page.locator(".flash.pending")
    expect(pending).to_contain_text("บันทึกไว้ในโทรศัพท์ ยังไม่ได้ส่ง", timeout=WAIT)
    expect(pending).to_contain_text("ปุ๋ยสูตร 15-15-15 (กระสอบ): 15 (รับเพิ่มได้ 5)", timeout=WAIT)
    phone.shot("saved-on-phone")
    assert _order(world) == {} and _writes(world, world["leader"]) == (0, [])
    [kept] = _outbox(phone)
    assert kept["state"] == "pending" and len(kept["key"]) >= 16

    # Still offline, the page opened again shows what waits, in the form too.
    _go_offline(phone, order_path)
    expect(page.locator(".flash.pending")).to_be_visible(timeout=WAIT)
    assert page.input_value(f"#q_{fert.id}") == "15" and page.input_value(f"#q_{oil.id}") == "24"

    # The first send reaches the server but its answer is lost on the way back.
    seen: list[tuple[int, str | None]] = []

    def lose_the_first_answer(route: Any) -> None:
        if route.request.method != "PUT":
            route.continue_()
            return
        answer = route.fetch()
        seen.append((answer.status, route.request.headers.get("idempotency-key")))
        if len(seen) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=answer)

    phone.context.route("**/rounds/*/order", lose_the_first_answer)
    phone.context.set_offline(False)
    _until(lambda: bool(seen), what="the first send", page=page)
    assert seen[0] == (200, kept["key"])
    assert _order(world) == {fert.id: (15, 5), oil.id: (24, 0)}
    # The phone did not hear back, so it sends the same again: Background Sync may do it at once, the
    # next page load does it at the latest.
    try:
        _until(lambda: [i["state"] for i in _outbox(phone)] == ["sent"], timeout=5, what="a background send",
               page=page)
    except AssertionError:
        phone.go(order_path)
    sent = page.locator(".flash.ok")
    expect(sent).to_contain_text("ส่งคำสั่งซื้อที่บันทึกไว้ในโทรศัพท์แล้ว", timeout=WAIT)
    expect(page.locator("#as-of")).to_have_count(0, timeout=WAIT)
    assert page.input_value(f"#q_{fert.id}") == "15"
    phone.shot("sent-when-online")
    assert [i["state"] for i in _outbox(phone)] == ["sent"]  # told, then forgotten

    # Exactly once: one write, one key, whatever the phone repeated.
    assert len(seen) >= 1 and {key for _, key in seen} == {kept["key"]}
    assert _order(world) == {fert.id: (15, 5), oil.id: (24, 0)}
    assert _writes(world, world["leader"]) == (1, [kept["key"]])
    phone.close()


def test_deadline_passed_while_offline(browser, server, world):  # type: ignore[no-untyped-def]
    rnd, fert = world["round"], world["fert"]
    order_path = f"/rounds/{rnd.id}/order"
    phone = _phone(browser, server, "offline-2", world["leader"], world["password"])
    page = phone.page
    _open_online_then_go_offline(phone, order_path)
    _go_offline(phone, order_path)
    page.fill(f"#q_{fert.id}", "12")
    page.fill(f"#t_{fert.id}", "2")
    page.click("#save-order")
    expect(page.locator(".flash.pending")).to_contain_text("ยังไม่ได้ส่ง", timeout=WAIT)

    # The round closes while the phone has no signal.
    s = world["session"]
    s.rollback()
    from orders.models import BuyingRound

    closing = s.get(BuyingRound, rnd.id)
    closing.closes_at = datetime.now(UTC) - timedelta(minutes=5)
    closing.state = "closed"
    closing.closed_at = datetime.now(UTC) - timedelta(minutes=5)
    s.commit()

    phone.context.set_offline(False)
    late = page.locator(".flash.late")
    expect(late).to_contain_text("ส่งไม่ทัน", timeout=WAIT)
    expect(late).to_contain_text("รอบปุ๋ยต้นฤดู", timeout=WAIT)
    expect(late).to_contain_text("โทรแจ้งคณะกรรมการเครือข่าย", timeout=WAIT)
    expect(late).to_contain_text("ปุ๋ยสูตร 15-15-15 (กระสอบ): 12 (รับเพิ่มได้ 2)", timeout=WAIT)
    phone.shot("too-late")
    assert _order(world) == {} and _writes(world, world["leader"]) == (0, [])

    # It stays on the phone until the leader has phoned it in, on any page.
    phone.go("/rounds")
    expect(page.locator(".flash.late")).to_contain_text("ส่งไม่ทัน", timeout=WAIT)
    page.click(".flash.late button")  # confirmed (the dialog is accepted)
    expect(page.locator(".flash.late")).to_have_count(0, timeout=WAIT)
    assert _outbox(phone) == []
    assert _order(world) == {}
    phone.close()


def test_two_phones_of_one_group(browser, server, world):  # type: ignore[no-untyped-def]
    rnd, fert = world["round"], world["fert"]
    order_path = f"/rounds/{rnd.id}/order"
    a = _phone(browser, server, "offline-3a", world["leader"], world["password"])
    b = _phone(browser, server, "offline-3b", world["deputy"], world["password"])

    # Phone A (no signal) keeps an order of 10 sacks.
    _open_online_then_go_offline(a, order_path)
    a.go(order_path)
    a.page.fill(f"#q_{fert.id}", "10")
    a.page.click("#save-order")
    expect(a.page.locator(".flash.pending")).to_be_visible(timeout=WAIT)

    # Phone B (signal) saves 20 sacks.
    b.go(order_path)
    b.page.fill(f"#q_{fert.id}", "20")
    b.page.click("#save-order")
    expect(b.page.locator(".flash.ok")).to_contain_text("บันทึกคำสั่งซื้อของกลุ่มแล้ว", timeout=WAIT)
    assert _order(world) == {fert.id: (20, 0)}

    # A's signal returns: the later write wins (as always), and A is told it replaced B's.
    a.context.set_offline(False)
    ok = a.page.locator(".flash.ok")
    expect(ok).to_contain_text("ส่งคำสั่งซื้อที่บันทึกไว้ในโทรศัพท์แล้ว", timeout=WAIT)
    expect(ok).to_contain_text("แทนที่คำสั่งซื้อที่บันทึกจากเครื่องอื่นเมื่อ", timeout=WAIT)
    a.shot("replaced-the-other")
    assert _order(world) == {fert.id: (10, 0)}

    # B opens the order page: told that the other phone's order stands, and what B had sent.
    b.go(order_path)
    told = b.page.locator("#other-phone")
    expect(told).to_contain_text("ถูกแก้จากเครื่องอื่นเมื่อ", timeout=WAIT)
    standing, yours = told.locator("ul").all()
    assert "ปุ๋ยสูตร 15-15-15 (กระสอบ): 10" in standing.inner_text()
    assert "ปุ๋ยสูตร 15-15-15 (กระสอบ): 20" in yours.inner_text()
    assert b.page.input_value(f"#q_{fert.id}") == "10"
    b.shot("told-which-order-stands")
    # Told once.
    b.go(order_path)
    expect(b.page.locator("#other-phone")).to_have_count(0, timeout=WAIT)
    assert _writes(world, world["leader"])[0] == 1 and _writes(world, world["deputy"])[0] == 1
    a.close()
    b.close()
