"""Issue 12 on the pages: a refused form is summed up at the top, one message per field; every outcome is
explained in a Thai sentence with its numbers; destructive actions ask first, with or without JS."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration import thai_world
from tests.integration.pages_helpers import login, post_form


@pytest.fixture
def world(client, db_session, make_network, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    return thai_world.build(client, make_network, make_group, make_user, token_for)


def text_of(html: str) -> str:
    """The page's text, tags removed and spaces collapsed (for sentences split over elements)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_refused_order_is_summed_up_at_the_top_one_message_per_field(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    url = f"/rounds/{world['rounds']['open']}/order"
    page = client.get(url).get_data(as_text=True)
    qty = re.search(r'name="(q_\d+)"', page).group(1)
    tol = "t_" + qty[2:]
    response = post_form(client, url, url, {qty: "abc", tol: "-2"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = re.search(r'<div class="error box summary" id="error-summary"[^>]*>(.*?)</div>', body, re.S)
    assert summary, "no error summary"
    assert "autofocus" in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    assert body.index('id="error-summary"') < body.index('id="order-form"')  # at the top, before the form
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary.group(1))
    assert [target for target, _ in links] == [qty, tol]
    assert "ปุ๋ยยูเรีย 46-0-0: จำนวน: ต้องเป็นจำนวนเต็ม" in links[0][1]  # names the product
    assert "ยังบันทึกไม่ได้ มี 2 จุดที่ต้องแก้" in body
    # One message under each field: "abc" is not also "must not be negative".
    assert body.count(f'id="{qty}-error"') == 1 and "ต้องไม่ติดลบ" not in body.split(f'id="{qty}-error"')[1][:80]
    assert len(re.findall(r'<p class="error"', body)) == 2
    assert 'value="abc"' in body and 'value="-2"' in body  # nothing typed is lost


def test_minimum_not_met_is_explained_to_the_leader_and_not_ordered_for_the_committee(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    page = text_of(client.get(f"/rounds/{world['rounds']['combined']}").get_data(as_text=True))
    # 250 + 150 litres ordered of the 1,000 the supplier requires.
    assert ("ทั้งเครือข่ายสั่ง น้ำมันถั่วเหลือง รวม 400 ลิตร จาก 1,000 ลิตร ที่ผู้ขายส่งกำหนดเป็นขั้นต่ำ "
            "จึงไม่ได้สั่งซื้อรายการนี้ กลุ่มไม่ต้องจ่ายค่ารายการนี้") in page
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    login(client, world["users"]["committee"])
    html = client.get(f"/rounds/{world['rounds']['combined']}/purchase-orders").get_data(as_text=True)
    oil_po = re.search(r'<li id="po-\d+" class="not-ordered">(.*?)</li>', html, re.S)
    assert oil_po, "the oil supplier's purchase order is not shown as not ordered"
    card = text_of(oil_po.group(1))
    assert "ไม่ได้สั่งซื้อ" in card and "ทั้งเครือข่ายสั่ง 400 ลิตร ไม่ถึงขั้นต่ำ 1,000 ลิตร" in card
    assert "0.00" not in card and "receipt" not in oil_po.group(1) and "บันทึกการรับของ" not in card


def test_a_closed_round_looks_closed(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    for url in (f"/rounds/{world['rounds']['combined']}", f"/rounds/{world['rounds']['combined']}/order"):
        html = client.get(url).get_data(as_text=True)
        assert "data-deadline" not in html, url  # no countdown
        assert "จะได้ราคา" not in html and "ราคาตอนนี้" not in html, url  # no "150 more kg for a better price"
    order = client.get(f"/rounds/{world['rounds']['combined']}/order").get_data(as_text=True)
    assert 'id="round-closed"' in order and "disabled" in order and 'id="save-order"' not in order
    # The open round still counts down and says what more would bring.
    open_page = client.get(f"/rounds/{world['rounds']['open']}").get_data(as_text=True)
    assert "data-deadline" in open_page and "จะได้ราคา" in open_page


def test_the_estimate_before_the_deadline_includes_the_fee_share(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    html = client.get(f"/rounds/{world['rounds']['open']}/order").get_data(as_text=True)
    box = re.search(r'<section class="card" id="estimate">(.*?)</section>', html, re.S)
    assert box, "no estimate"
    text = text_of(box.group(1))
    # 40 sacks (+5) in packs of 5 at 820.00 = 32,800.00; 1% network fee 328.00; no delivery fee.
    assert "ปุ๋ยยูเรีย 46-0-0 · 40 กระสอบ × 820.00 บาท = 32,800.00 บาท" in text
    assert re.search(r'id="estimate-fees">328.00<', box.group(1)) and re.search(r'id="estimate-total">33,128.00<', box.group(1))
    # 40 × (850.00 - 820.00) - 328.00 = 872.00
    assert re.search(r'id="estimate-savings">872.00<', box.group(1))
    assert 'id="estimate-negative"' not in html


def test_a_negative_estimate_is_explained(client, world, token_for):  # type: ignore[no-untyped-def]
    h = world["h"]
    rid = client.post("/api/v1/rounds", headers=h["committee"], json={
        "name": "รอบทดลองค่าขนส่งแพง", "closes_at": "2099-01-01T10:00:00+07:00"}).get_json()["id"]
    products = client.get("/api/v1/products", headers=h["committee"]).get_json()
    offer = client.post(f"/api/v1/rounds/{rid}/offers", headers=h["committee"], json={
        "product_id": products[0]["id"], "supplier_id": world["supplier"], "pack_size": 1, "min_quantity": 0,
        "reference_price": "100.00", "delivery_fee": "400.00", "tiers": [{"min_quantity": 0, "unit_price": "99.00"}]})
    assert offer.status_code == 201
    assert client.post(f"/api/v1/rounds/{rid}/open", headers=h["committee"]).status_code == 200
    assert client.put(f"/api/v1/rounds/{rid}/orders/{world['groups']['coop'].id}", headers=h["leader"], json={
        "lines": [{"offer_id": offer.get_json()["id"], "quantity": 10, "tolerance": 0}]}).status_code == 200
    login(client, world["users"]["leader"])
    text = text_of(client.get(f"/rounds/{rid}/order").get_data(as_text=True))
    # Discount 10 × 1.00 = 10.00; fees 400.00 + 1% of 990.00 = 409.90; saving -399.90.
    assert ("ตอนนี้ยังไม่คุ้ม: ส่วนลดจากการรวมซื้อ 10.00 บาท น้อยกว่าส่วนแบ่งค่าธรรมเนียมและค่าขนส่ง 409.90 บาท "
            "จึงจ่ายมากกว่าซื้อเองที่ร้าน 399.90 บาท") in text


def test_committee_home_names_the_groups(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["committee"])
    html = client.get("/").get_data(as_text=True)
    assert "ใบแจ้งหนี้ค้างชำระ" in html and "สหกรณ์การเกษตรท่าบ่อ จำกัด" in html
    assert not re.search(r"กลุ่ม #\d", html)


def csrf_of(client: Any, url: str) -> str:
    from tests.integration.pages_helpers import csrf

    return csrf(client.get(url).get_data(as_text=True))


def test_the_audit_trail_reads_as_sentences_with_names_and_baht(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["committee"])
    html = client.get("/audit").get_data(as_text=True)
    text = text_of(html)
    assert "summary.review" not in html and "order.replace" not in html and "{&#34;" not in html and '{"' not in text
    committee, leader = world["users"]["committee"].name, world["users"]["leader"].name
    assert f"{committee} เปิดรับคำสั่งซื้อรอบ «รอบปุ๋ยต้นฤดูฝน»" in text
    assert f"{leader} สั่งซื้อให้ «สหกรณ์การเกษตรท่าบ่อ จำกัด» ในรอบ «รอบปุ๋ยต้นฤดูฝน»: ปุ๋ยยูเรีย 46-0-0 40 กระสอบ (รับเพิ่มได้ 5)" in text
    assert re.search(r"บันทึกเงินที่ «สหกรณ์การเกษตรท่าบ่อ จำกัด» จ่ายค่ารอบ «รอบปุ๋ยเดือนที่แล้ว» 10,000.00 บาท "
                     r"\(จ่ายแล้ว 10,000.00 จาก [\d,]+\.\d\d บาท\)", text)
    assert "บันทึกการรับของจาก «ร้านเจริญผลการเกษตร» รอบ «รอบปุ๋ยเดือนที่แล้ว»" in text and "ปุ๋ยยูเรีย 46-0-0 120 จาก 120 กระสอบ" in text
    assert "«กลุ่มแม่บ้านเกษตรกรบ้านหม้อพัฒนาอาชีพทอผ้าไหมมัดหมี่» สั่งซื้อ «ข้าวกล้องหอมมะลิอินทรีย์» 20 กิโลกรัม เป็นเงิน 840.00 บาท" in text
    assert "ลงขาย «ข้าวกล้องหอมมะลิอินทรีย์» ราคา 42.00 บาท ต่อ กิโลกรัม มีสต็อก 5,000 กิโลกรัม" in text
    assert "สั่งสร้างสรุปเดือน" in text and " 25" in text  # a Buddhist-era month
    assert "ขอใบเสนอราคา «ขอราคาปุ๋ยฤดูหน้า» จากผู้ขายส่ง 2 ราย («ร้านเจริญผลการเกษตร», «โรงงานน้ำมันพืชอุดรธานี»)" in text
    assert "เปลี่ยนแปลงข้อมูลในระบบ" not in text  # the sentence of an action nobody described
    # Filtering by a subject with a Thai name.
    invoices = text_of(client.get("/audit?subject=invoice").get_data(as_text=True))
    assert "จ่ายค่ารอบ" in invoices and "เปิดรับคำสั่งซื้อรอบ" not in invoices


def test_the_seller_sees_who_buys_where_and_whom_to_call(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["seller"])
    text = text_of(client.get("/market/sales").get_data(as_text=True))
    assert "ผู้ซื้อ: สหกรณ์การเกษตรท่าบ่อ จำกัด · อำเภอท่าบ่อ" in text
    assert "ผู้สั่ง: นางบุญมี แก้วมณี · โทร 081-234-5678" in text
    assert 'href="tel:081-234-5678"' in client.get("/market/sales").get_data(as_text=True)


def _purchase_state(purchase_id: int) -> str:
    from core.db import db
    from market.models import Purchase

    db.session.expire_all()
    return db.session.get_one(Purchase, purchase_id).state


def test_cancelling_a_purchase_asks_first_without_javascript(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    url = f"/market/purchases/{world['purchase']}/cancel"
    asked = post_form(client, "/market/purchases", url, {"back": "purchases"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="confirm-form"' in html
    text = text_of(html)
    assert "ยกเลิกคำสั่งซื้อ ข้าวกล้องหอมมะลิอินทรีย์?" in text
    assert "1,500 กิโลกรัม เป็นเงิน 63,000.00 บาท ของ สหกรณ์การเกษตรท่าบ่อ จำกัด จะถูกยกเลิก" in text
    assert _purchase_state(world["purchase"]) == "placed"  # asking changed nothing
    assert 'name="confirmed" value="yes"' in html and 'name="back" value="purchases"' in html
    done = client.post(url, data={"csrf_token": csrf_of(client, "/market/purchases"), "back": "purchases",
                                  "confirmed": "yes"})
    assert done.status_code == 302 and _purchase_state(world["purchase"]) == "cancelled"
    # With JavaScript the same question comes in a <dialog>: the form carries its words.
    page = client.get("/market/purchases").get_data(as_text=True)
    assert "data-confirm=" not in page or "ยกเลิกคำสั่งซื้อ" in page


def test_closing_a_round_early_asks_first(client, world):  # type: ignore[no-untyped-def]
    from core.db import db
    from orders.models import BuyingRound

    login(client, world["users"]["committee"])
    rid = world["rounds"]["open"]
    asked = post_form(client, f"/rounds/{rid}", f"/rounds/{rid}/close", {})
    assert asked.status_code == 200 and "ปิดรับคำสั่งซื้อรอบ รอบปุ๋ยต้นฤดูฝน ตอนนี้?" in text_of(asked.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(BuyingRound, rid).state == "open"
    page = client.get(f"/rounds/{rid}").get_data(as_text=True)
    assert 'data-confirm="ปิดรับคำสั่งซื้อรอบ รอบปุ๋ยต้นฤดูฝน ตอนนี้?"' in page


def test_rebuilding_a_signed_summary_asks_and_keeps_the_signed_version_official(client, world):  # type: ignore[no-untyped-def]

    from core import jobs

    month = world["month"]
    url = f"/summaries/{month}"
    login(client, world["users"]["committee"])
    today = datetime.now(ZoneInfo("Asia/Bangkok")).date().isoformat()  # the network's today
    signed = post_form(client, url, url, {"meeting_date": today, "attendance": "12", "notes": ""})
    assert signed.status_code == 302
    asked = post_form(client, url, f"{url}/rebuild", {})
    assert asked.status_code == 200
    text = text_of(asked.get_data(as_text=True))
    assert "หลังคณะกรรมการรับรองแล้ว?" in text and "ฉบับที่ 1 ที่รับรองแล้วจะยังเป็นฉบับทางการ" in text
    # A late delivery, then the rebuild, confirmed: version 2, flagged; version 1 stays the official one.
    h = world["h"]
    late = client.post(f"/api/v1/listings/{world['listing']}/purchases", headers=h["leader"],
                       json={"group_id": world["groups"]["coop"].id, "quantity": 10}).get_json()
    assert client.post(f"/api/v1/purchases/{late['id']}/deliver", headers=h["seller"], json={}).status_code == 200
    # It counts in the signed month (delivered on its last day, recorded late).
    from sqlalchemy import update

    from core.db import db
    from market.models import Purchase
    from reports import periods

    year, mon = periods.add_months(*periods.parse_month(month), 1)
    last_day = periods.start_of(periods.zone("Asia/Bangkok"), year, mon) - timedelta(hours=2)
    db.session.execute(update(Purchase).where(Purchase.id == late["id"]).values(delivered_at=last_day))
    from reports.rollup_reads import rebuild

    rebuild(world["network"].id)
    db.session.commit()
    done = client.post(f"{url}/rebuild", data={"csrf_token": csrf_of(client, url), "confirmed": "yes"})
    assert done.status_code == 302
    job_id = done.headers["Location"].split("job=")[1]
    assert jobs.run_job(job_id) == "succeeded"
    page = client.get(url).get_data(as_text=True)
    assert 'id="official-version"' in page and "เปลี่ยนหลังรับรอง" in page
    assert f'href="/summaries/{month}?version=1"' in page
    official = text_of(client.get(f"{url}?version=1").get_data(as_text=True))
    assert "นี่คือฉบับทางการ (ฉบับที่ 1)" in official


def test_blank_fields_of_an_order_are_no_mistake(client, world):  # type: ignore[no-untyped-def]
    """Only typed text that is not a number is refused; a blank quantity or tolerance is simply empty."""
    login(client, world["users"]["leader"])
    url = f"/rounds/{world['rounds']['open']}/order"
    qty = re.search(r'name="(q_\d+)"', client.get(url).get_data(as_text=True)).group(1)
    saved = post_form(client, url, url, {qty: "12", "t_" + qty[2:]: ""})
    assert saved.status_code == 302, text_of(saved.get_data(as_text=True))[:400]


def test_places_and_categories_are_thai_data_with_english_as_the_translation(client, world):  # type: ignore[no-untyped-def]
    from flask import current_app

    from tests.api.authz_world import Browser

    for lang, district, other, category in (("th", "ท่าบ่อ", "ศรีเชียงใหม่", "ปุ๋ย"),
                                            ("en", "Tha Bo", "Si Chiang Mai", "Fertiliser")):
        browser = Browser(current_app)
        login(browser, world["users"]["committee"], lang)
        groups = text_of(browser.get("/groups").get_data(as_text=True))
        assert district in groups and other in groups, lang
        assert category in text_of(browser.get("/suppliers").get_data(as_text=True)), lang
    seller = Browser(current_app)
    login(seller, world["users"]["seller"], "en")
    sales = text_of(seller.get("/market/sales").get_data(as_text=True))
    assert "Buyer: สหกรณ์การเกษตรท่าบ่อ จำกัด · Tha Bo district" in sales  # a group's own name stays as typed
    # A name the glossary does not know is shown as typed.
    from core.glossary import known

    assert known("บ้านไม่มีในรายการ") == "บ้านไม่มีในรายการ"


def test_every_action_the_audit_trail_records_has_its_sentence(app):  # type: ignore[no-untyped-def]
    """Read from the source: each ``record(actor, "<action>", ...)`` call names an action a domain describes."""
    from pathlib import Path

    from core.audit_text import DESCRIBERS

    root = Path(__file__).resolve().parents[2]
    recorded = set()
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in ("tests", ".venv", "migrations", "bench"):
            continue
        recorded |= set(re.findall(r"\brecord\(\s*[^,()]+(?:\([^()]*\))?,\s*\"([a-z_]+\.[a-z_]+)\"",
                                   path.read_text(encoding="utf-8")))
    assert len(recorded) > 20, recorded
    assert sorted(recorded - set(DESCRIBERS)) == []
