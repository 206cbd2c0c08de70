"""Issue 12 in Chromium at 360×740 in Thai, on a live server (gunicorn, PostgreSQL, a real Celery worker):
each point a village group leader, a seller and the committee meet, with screenshots in
test-artifacts/screenshots/ (thai-*.png)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.live import PHONE, Journey, harness
from tests.conftest import wait_for_job
from tests.integration import thai_world

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# Each line of a Thai text must end where a word ends (Chromium's ICU dictionary; Intl.Segmenter agrees).
LINE_ENDS_AT_WORDS = """(el) => {
  const node = [...el.childNodes].find(n => n.nodeType === 3 && n.textContent.trim().length > 0);
  if (!node) { return {lines: 0, bad: []}; }
  const text = node.textContent, range = document.createRange();
  const tops = [];
  for (let i = 0; i < text.length; i++) {
    range.setStart(node, i); range.setEnd(node, i + 1);
    const r = range.getClientRects()[0];
    tops.push(r ? Math.round(r.top) : null);
  }
  const words = new Set([0, text.length]);
  for (const s of new Intl.Segmenter('th', {granularity: 'word'}).segment(text)) {
    words.add(s.index); words.add(s.index + s.segment.length);
  }
  const bad = [];
  let lines = 1, last = tops.find(t => t !== null);
  for (let i = 1; i < text.length; i++) {
    if (tops[i] === null || last === null) { continue; }
    if (tops[i] > last + 2) {
      lines++;
      if (!words.has(i)) { bad.push(text.slice(Math.max(0, i - 4), i) + '|' + text.slice(i, i + 4)); }
    }
    last = tops[i];
  }
  return {lines, bad};
}"""


@pytest.fixture
def world(worker_app, committed) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The Thai world of the page tests, committed for the live server to see."""
    from werkzeug.security import generate_password_hash

    from core.auth import hash_token, new_token
    from network.models import ApiToken, Group, Network, User

    hashed = generate_password_hash(harness().PASSWORD)

    def make_network(name: str, fee_percent: str = "0") -> Network:
        network = Network(name=name, timezone="Asia/Bangkok", fee_percent=Decimal(fee_percent))
        committed.add(network)
        committed.commit()
        return network

    def make_group(network: Network, **kw: Any) -> Group:
        group = Group(network_id=network.id, **kw)
        committed.add(group)
        committed.commit()
        return group

    def make_user(network: Network, role: str, group: Group | None = None) -> User:
        user = User(network_id=network.id, email=f"{role}-{uuid.uuid4().hex[:6]}@ruamsue.test", name=role, role=role,
                    group_id=group.id if group else None, password_hash=hashed, session_version=0, active=True)
        committed.add(user)
        committed.commit()
        return user

    def token_for(user: User) -> dict[str, str]:
        token = new_token()
        committed.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
        committed.commit()
        return {"Authorization": f"Bearer {token}"}

    return thai_world.build(worker_app.test_client(), make_network, make_group, make_user, token_for,
                            run_job=lambda job_id: wait_for_job(worker_app, job_id))


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text())


def test_leader_on_a_phone(browser, server, world, worker_app):  # type: ignore[no-untyped-def]
    leader = Journey(browser, server, "thai-leader")
    page = leader.page
    pw = harness().PASSWORD
    # Signed out: the login page says why, in Thai.
    leader.go("/savings")
    assert "กรุณาเข้าสู่ระบบก่อนใช้หน้านี้" in _text(page, "main")
    leader.shot("login-message")
    page.fill("#email", world["users"]["leader"].email)
    page.fill("#password", pw)
    page.click("button[type=submit]")
    page.wait_for_url("**/savings")

    # Savings: only the months with activity, a running total, a small chart whose text is text.
    assert page.locator("#months tbody tr").count() == 1
    assert "svg" in page.locator("#savings-chart").inner_html() and "<text" in page.locator("#savings-chart").inner_html()
    assert re.search(r"ตั้งแต่เดือน\S+ 25\d\d", _text(page, "#savings-total"))
    leader.shot("savings")

    # The estimate before the deadline includes the fee share.
    leader.go(f"/rounds/{world['rounds']['open']}/order")
    assert _text(page, "#estimate-fees") == "328.00" and _text(page, "#estimate-total") == "33,128.00"
    leader.shot("order-estimate")
    # A refused form: one message per field, a summary at the top that has the focus.
    # (a number input takes no letters from a keyboard; a phone's paste or an old browser can send them)
    page.evaluate("() => { const q = document.querySelector('input[data-qty]'); q.type = 'text'; q.value = 'abc'; }")
    page.click("#save-order")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "error-summary"
    assert page.evaluate("() => document.getElementById('error-summary').getBoundingClientRect().top") < PHONE["height"]
    assert "ต้องเป็นจำนวนเต็ม" in _text(page, "#error-summary") and page.locator("p.error").count() == 1
    leader.shot("order-refused")
    # Without a signal the phone draws the same summary itself, with the focus, one message per field.
    leader.context.set_offline(True)
    page.evaluate("() => { const q = document.querySelector('input[data-qty]'); q.type = 'text'; q.value = 'x1'; }")
    page.click("#save-order")
    page.wait_for_selector("#error-summary.offline-summary")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "error-summary"
    assert "ยังบันทึกไม่ได้ มี 1 จุดที่ต้องแก้" in _text(page, "#error-summary")
    assert "ปุ๋ยยูเรีย 46-0-0: จำนวน (กระสอบ): ต้องเป็นจำนวนเต็ม" in _text(page, "#error-summary")
    assert page.locator("p.error:visible").count() == 1
    leader.shot("order-refused-offline")
    leader.context.set_offline(False)
    # Withdrawing the group's whole order asks first, on its own page that lists what goes.
    leader.go(f"/rounds/{world['rounds']['open']}/order")
    page.click("#withdraw-order")
    page.wait_for_selector("#confirm-withdraw")
    assert "ปุ๋ยยูเรีย 46-0-0 · 40 กระสอบ (รับเพิ่มได้ 5)" in _text(page, "#withdrawn-lines")
    leader.shot("withdraw-asks")
    page.click("text=กลับ ไม่ถอน")
    page.wait_for_selector("#estimate")
    assert _text(page, "#estimate-total") == "33,128.00"  # asking changed nothing

    # A negative saving is explained: the fee share was larger than the discount.
    api, h = worker_app.test_client(), world["h"]
    rid = api.post("/api/v1/rounds", headers=h["committee"], json={
        "name": "รอบทดลองค่าขนส่งแพง", "closes_at": "2099-01-01T10:00:00+07:00"}).get_json()["id"]
    product = api.get("/api/v1/products", headers=h["committee"]).get_json()[0]["id"]
    offer = api.post(f"/api/v1/rounds/{rid}/offers", headers=h["committee"], json={
        "product_id": product, "supplier_id": world["supplier"], "pack_size": 1, "min_quantity": 0,
        "reference_price": "100.00", "delivery_fee": "400.00", "tiers": [{"min_quantity": 0, "unit_price": "99.00"}]})
    assert api.post(f"/api/v1/rounds/{rid}/open", headers=h["committee"]).status_code == 200
    assert api.put(f"/api/v1/rounds/{rid}/orders/{world['groups']['coop'].id}", headers=h["leader"], json={
        "lines": [{"offer_id": offer.get_json()["id"], "quantity": 10, "tolerance": 0}]}).status_code == 200
    leader.go(f"/rounds/{rid}/order")
    assert ("ส่วนลดจากการรวมซื้อ 10.00 บาท น้อยกว่าส่วนแบ่งค่าธรรมเนียมและค่าขนส่ง 409.90 บาท "
            "จึงจ่ายมากกว่าซื้อเองที่ร้าน 399.90 บาท") in _text(page, "#estimate-negative")
    assert re.fullmatch(r"\d{1,3}(,\d{3})+ วัน \d\d:\d\d:\d\d", _text(page, "[data-deadline]"))  # 2099: 26,000-odd days
    leader.shot("estimate-negative")

    # A closed round looks closed; the offer whose minimum was not met says so with its numbers.
    leader.go(f"/rounds/{world['rounds']['combined']}")
    assert page.locator("[data-deadline]").count() == 0 and "จะได้ราคา" not in _text(page, "main")
    assert "รวม 400 ลิตร จาก 1,000 ลิตร" in _text(page, "#results")
    leader.shot("round-closed-not-ordered")
    leader.go(f"/rounds/{world['rounds']['combined']}/order")
    assert page.locator("#round-closed").is_visible() and page.locator("#save-order").count() == 0
    leader.shot("order-closed")

    # Cancelling a marketplace purchase asks first, in a <dialog>.
    leader.go("/market/purchases")
    page.locator("form[data-confirm] button").first.click()
    page.wait_for_selector("dialog[open]")
    assert "ยกเลิกคำสั่งซื้อ ข้าวกล้องหอมมะลิอินทรีย์?" in _text(page, "dialog[open]")
    leader.shot("cancel-dialog")
    page.click("#dialog-no")
    assert page.locator("dialog[open]").count() == 0 and page.locator("form[data-confirm]").count() == 1
    page.locator("form[data-confirm] button").first.click()
    page.click("#dialog-yes")
    page.wait_for_selector(".flash.ok")
    assert "ยกเลิกแล้ว" in _text(page, "#purchases")
    leader.shot("cancelled")
    leader.close()


def test_without_javascript_the_server_asks(browser, server, world):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                                  locale="th-TH", java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/login")
    page.fill("#email", world["users"]["seller"].email)
    page.fill("#password", harness().PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")
    page.goto(server + "/market/sales")
    # The seller sees who buys, where, and whom to call.
    sales = re.sub(r"\s+", " ", page.locator("#sales").inner_text())
    assert "ผู้ซื้อ: สหกรณ์การเกษตรท่าบ่อ จำกัด · อำเภอท่าบ่อ" in sales and "โทร 081-234-5678" in sales
    page.screenshot(path=str(_shot("thai-seller-01-sales-nojs")), full_page=True)
    page.locator("form[data-confirm] button").first.click()
    page.wait_for_selector("#confirm-form")
    assert "ยกเลิกคำสั่งซื้อ" in page.locator("#confirm-question").inner_text()
    page.screenshot(path=str(_shot("thai-seller-02-confirm-page-nojs")), full_page=True)
    page.click("#confirm-no")
    page.wait_for_url("**/market/sales")
    context.close()


def _shot(name: str) -> Any:
    from tests.browser.live import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"


def _delivered_on_the_last_day_of(month: str, purchase_id: int, session: Any) -> None:
    """A sale recorded late: delivered on the signed month's last day, so the rebuild changes that month."""
    from datetime import timedelta

    from sqlalchemy import update

    from market.models import Purchase
    from reports import periods

    year, mon = periods.add_months(*periods.parse_month(month), 1)
    last_day = periods.start_of(periods.zone("Asia/Bangkok"), year, mon) - timedelta(hours=2)
    session.execute(update(Purchase).where(Purchase.id == purchase_id).values(delivered_at=last_day))
    # Moved behind the delivery service's back: the month's roll-ups are rebuilt, as the backfill tool does.
    from reports.rollup_reads import rebuild

    rebuild(session.get_one(Purchase, purchase_id).network_id)
    session.commit()


def test_committee_on_a_phone(browser, server, world, worker_app, committed):  # type: ignore[no-untyped-def]
    committee = Journey(browser, server, "thai-committee")
    committee.login(world["users"]["committee"].email, harness().PASSWORD)
    page = committee.page
    # Group names, not "กลุ่ม #1".
    assert "สหกรณ์การเกษตรท่าบ่อ จำกัด" in _text(page, "#attention") and not re.search(r"#\d", _text(page, "#attention"))
    committee.shot("home")
    # The supplier whose minimum was not met: "not ordered", no 0.00 order, no receipt button.
    committee.go(f"/rounds/{world['rounds']['combined']}/purchase-orders")
    not_ordered = page.locator("li.not-ordered")
    assert not_ordered.count() == 1 and "ไม่ได้สั่งซื้อ" in not_ordered.inner_text()
    assert not_ordered.locator("a.button").count() == 0
    committee.shot("purchase-orders")
    # A long Thai group name wraps between words, never inside one.
    committee.go("/groups")
    cell = page.locator("td", has_text="กลุ่มแม่บ้านเกษตรกรบ้านหม้อพัฒนาอาชีพทอผ้าไหมมัดหมี่").first
    found = cell.evaluate(LINE_ENDS_AT_WORDS)
    assert found["lines"] >= 2 and found["bad"] == [], found
    committee.shot("groups-wrapping")
    # The audit trail in sentences.
    committee.go("/audit")
    assert "เปิดรับคำสั่งซื้อรอบ «รอบปุ๋ยต้นฤดูฝน»" in _text(page, "#audit") and "order.replace" not in page.content()
    committee.shot("audit")
    # The month: SVG charts with Thai text, legible at 360 px; sign off; a rebuild asks first.
    committee.go(f"/summaries/{world['month']}")
    for kind in ("savings", "bargaining", "groups"):
        chart = page.locator(f"#chart-{kind} svg")
        assert chart.count() == 1
        box = chart.bounding_box()
        assert box and box["width"] <= PHONE["width"]
        smallest = chart.evaluate(
            "svg => Math.min(...[...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect().height))")
        assert smallest >= 10, (kind, smallest)  # about 12 px text on a 360 px phone
    assert re.search(r"[ก-ฮ]+\.[ก-ฮ]+\. 25\d\d", page.locator("#chart-savings").inner_text())
    committee.shot("summary-charts")
    # The meeting date is a Buddhist-era Thai date in a text box (never the phone's Gregorian picker),
    # today in Bangkok unless changed; its hint says the day in words.
    today = datetime.now(ZoneInfo("Asia/Bangkok")).date()
    assert page.locator("#meeting_date").get_attribute("type") == "text"
    assert page.input_value("#meeting_date") == f"{today.day:02d}/{today.month:02d}/{today.year + 543}"
    assert re.fullmatch(r"คือวันที่ \d+ [ก-๙]+ 25\d\d", _text(page, "#meeting_date-hint"))
    page.fill("#attendance", "12")
    page.click("#sign-off")
    page.wait_for_selector("#reviewed")
    # A sale delivered after the sign-off, then a rebuild.
    api = worker_app.test_client()
    h = world["h"]
    late = api.post(f"/api/v1/listings/{world['listing']}/purchases", headers=h["leader"],
                    json={"group_id": world["groups"]["coop"].id, "quantity": 10}).get_json()
    assert api.post(f"/api/v1/purchases/{late['id']}/deliver", headers=h["seller"], json={}).status_code == 200
    _delivered_on_the_last_day_of(world["month"], late["id"], committed)
    page.click("#rebuild")
    page.wait_for_selector("dialog[open] #dialog-yes")
    assert "หลังคณะกรรมการรับรองแล้ว" in _text(page, "dialog[open]")
    committee.shot("rebuild-asks")
    page.click("#dialog-yes")
    page.wait_for_selector("[data-job-url]")
    from playwright.sync_api import expect

    expect(page.locator("#official-version")).to_be_visible(timeout=60_000)
    assert "เปลี่ยนหลังรับรอง" in _text(page, "#official-version")
    committee.shot("changed-since-sign-off")
    # Printed, the page keeps its charts (text as text) and drops the menus.
    page.emulate_media(media="print")
    assert page.locator("#chart-groups svg text").first.is_visible() and not page.locator("header.top").is_visible()
    committee.shot("summary-printed")
    page.emulate_media(media="screen")
    # The same chart alone, as the API serves it: an SVG document whose words are text.
    committee.go(f"/summaries/{world['month']}/charts/groups.svg")
    words = page.evaluate("() => [...document.querySelectorAll('text')].map(t => t.textContent).join(' ')")
    assert "สหกรณ์การเกษตรท่าบ่อ จำกัด" in words and "11,180.00" in words  # the rebuilt version: 80.00 more
    # Opened alone, a phone lays it out 980 px wide and zooms out to fit: the text still reads at 12 px or more.
    on_screen = page.evaluate("() => Math.min(...[...document.querySelectorAll('text')].map("
                              "t => t.getBoundingClientRect().height)) * window.visualViewport.scale")
    assert on_screen >= 12, on_screen
    page.screenshot(path=str(_shot("thai-committee-08b-groups-chart-svg-alone")))
    # In English, places and categories are translated; a group's name stays as it was typed.
    committee.go("/groups")
    page.click("a.lang")
    committee.go("/groups")
    assert "Tha Bo" in _text(page, "main") and "สหกรณ์การเกษตรท่าบ่อ จำกัด" in _text(page, "main")
    committee.shot("groups-english")
    committee.close()
