"""The pages of requests for quotation: the committee asks, a supplier quotes on its link, comparison,
own choice with the difference in baht, award with confirmation; refusals in Thai."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.pages_helpers import csrf, login


@pytest.fixture
def committee_pages(client, db_session, make_network, make_user):  # type: ignore[no-untyped-def]
    from orders.models import Product, Supplier

    network = make_network()
    committee = make_user(network, "committee")
    suppliers = [Supplier(network_id=network.id, name=n) for n in ("ร้านเอ", "ร้านบี")]
    products = [Product(network_id=network.id, name="ข้าวสาร", unit="กก."),
                Product(network_id=network.id, name="น้ำมันพืช", unit="ขวด")]
    db_session.add_all([*suppliers, *products])
    db_session.commit()
    login(client, committee)
    return {"network": network, "committee": committee, "suppliers": suppliers, "products": products}


def _create(client: Any, s: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    page = client.get("/rfqs/new")
    assert page.status_code == 200
    rice, oil = s["products"]
    a, b = s["suppliers"]
    data = {"csrf_token": csrf(page.get_data(as_text=True)), "name": "ข้าวและน้ำมัน", "closes_at": "2099-01-10T17:00",
            f"p{rice.id}-on": "1", f"p{rice.id}-qty": "1,000", f"p{rice.id}-ref": "32.00",
            f"p{oil.id}-on": "1", f"p{oil.id}-qty": "40", f"p{oil.id}-ref": "55",
            f"s{a.id}": "1", f"s{b.id}": "1"}
    created = client.post("/rfqs/new", data=data)
    html = created.get_data(as_text=True)
    assert created.status_code == 201, html[:2000]
    links = dict(re.findall(r'value="[^"]*/q/([^"]+)" aria-label="[^"]*" data-supplier="(\d+)"', html))
    return created, {supplier: token for token, supplier in links.items()}


def _quote(client: Any, token: str, lines: dict[int, tuple[str, str, list[tuple[str, str]]]], fee: str) -> Any:
    page = client.get(f"/q/{token}")
    assert page.status_code == 200
    data = {"csrf_token": csrf(page.get_data(as_text=True)), "delivery_fee": fee}
    for pid, (pack, minimum, tiers) in lines.items():
        data.update({f"p{pid}-on": "1", f"p{pid}-pack": pack, f"p{pid}-min": minimum})
        for i, (q, p) in enumerate(tiers):
            data.update({f"p{pid}-t{i}-min": q, f"p{pid}-t{i}-price": p})
    return client.post(f"/q/{token}", data=data)


def test_committee_asks_suppliers_quote_and_the_committee_awards(client, committee_pages, db_session):  # type: ignore[no-untyped-def]
    from quotes.models import Rfq

    s = committee_pages
    rice, oil = s["products"]
    a, b = s["suppliers"]
    created, links = _create(client, s)
    assert "ระบบแสดงลิงก์นี้ครั้งเดียว" in created.get_data(as_text=True)
    assert set(links) == {str(a.id), str(b.id)}
    # Each link also goes out by LINE: LINE's share link with a Thai message that carries the supplier's link.
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    shares = dict((supplier, unescape(url)) for supplier, url in re.findall(
        r'class="button line share-line" data-supplier="(\d+)" rel="noopener" href="([^"]+)"', created.get_data(as_text=True)))
    assert set(shares) == set(links)
    share = urlsplit(shares[str(a.id)])
    assert (share.scheme, share.netloc, share.path) == ("https", "line.me", "/R/share")
    text = parse_qs(share.query)["text"][0]
    assert text.startswith("ขอใบเสนอราคา: ข้าวและน้ำมัน กรุณาเสนอราคาภายใน 10 ม.ค. 2642 17:00")
    assert text.endswith(f"/q/{links[str(a.id)]}")

    # A supplier on its link, logged out: a Thai page with the products and the tier rows.
    client.post("/logout", data={"csrf_token": csrf(client.get("/rfqs").get_data(as_text=True))})
    supplier_page = client.get(f"/q/{links[str(a.id)]}").get_data(as_text=True)
    assert "ใบเสนอราคา: ข้าวและน้ำมัน" in supplier_page and "จำนวนที่ต้องการ 1,000 กก." in supplier_page
    assert "ขั้นที่ 2" in supplier_page and "32.00" not in supplier_page  # the shop price is not shown
    bad = _quote(client, links[str(a.id)], {rice.id: ("1", "0", [("0", "30.00"), ("500", "31.00")])}, "0")
    assert bad.status_code == 422 and "ขั้นราคาไม่ถูกต้อง" in bad.get_data(as_text=True)
    ok = _quote(client, links[str(a.id)], {rice.id: ("1", "0", [("0", "30.00"), ("1000", "29.00")]),
                                           oil.id: ("1", "0", [("0", "50.00")])}, "300")
    assert ok.status_code == 302
    again = client.get(f"/q/{links[str(a.id)]}").get_data(as_text=True)
    assert "บันทึกใบเสนอราคาแล้ว" in again and "รวม 29,000.00 บาท" in again
    assert _quote(client, links[str(b.id)], {oil.id: ("12", "0", [("0", "45.00")])}, "100").status_code == 302
    assert client.get("/q/" + "x" * 43).status_code == 404

    login(client, s["committee"])
    rfq_id = db_session.query(Rfq).filter_by(network_id=s["network"].id).one().id
    page = client.get(f"/rfqs/{rfq_id}")
    html = page.get_data(as_text=True)
    # Best: rice from A (29,000), oil from A (2,000) + 300 = 31,300; B's oil (48 x 45 = 2,160 + 100) costs more.
    assert page.status_code == 200 and 'id="best-total">31,300.00<' in html
    token = csrf(html)
    own = client.post(f"/rfqs/{rfq_id}", data={"csrf_token": token, "do": "preview", f"c{rice.id}": str(a.id),
                                               f"c{oil.id}": str(b.id)})
    own_html = own.get_data(as_text=True)
    # 29,000 + 2,160 + 300 + 100: the difference from the best is shown in baht before anything is decided.
    assert "ยอดที่เลือก 31,560.00 บาท" in own_html
    assert "แพงกว่าการตัดสินที่ถูกที่สุด 260.00 บาท" in own_html
    unconfirmed = client.post(f"/rfqs/{rfq_id}", data={"csrf_token": token, "do": "award", f"c{rice.id}": str(a.id),
                                                       f"c{oil.id}": str(a.id)})
    assert unconfirmed.status_code == 422 and "ติ๊กยืนยันก่อนตัดสิน" in unconfirmed.get_data(as_text=True)
    assert db_session.get(Rfq, rfq_id).state == "open"
    done = client.post(f"/rfqs/{rfq_id}", data={"csrf_token": token, "do": "award", "confirm": "1",
                                                f"c{rice.id}": str(a.id), f"c{oil.id}": str(a.id)})
    assert done.status_code == 302 and "/rounds/" in done.headers["Location"]
    db_session.expire_all()
    assert db_session.get(Rfq, rfq_id).awarded_total == Decimal("31300.00")
    round_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "ค่าขนส่งของผู้ขายส่งทั้งรอบ" in round_page and "300.00" in round_page


def test_leaders_cannot_open_the_committee_pages(client, db_session, make_network, make_user, make_group):  # type: ignore[no-untyped-def]
    network = make_network()
    leader = make_user(network, "leader", make_group(network))
    login(client, leader)
    assert client.get("/rfqs").status_code == 403
    assert client.get("/rfqs/new").status_code == 403
