"""GET /api/v1/summaries/<month>/charts/<kind>.svg: SVG whose every title, label and value is text (the
phone's fonts draw the Thai), Thai month names with Buddhist-era years, thousands separators, legible on
a 360 px screen, and each role sees only what it may."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from market.models import Listing, Purchase
from reports import services
from reports.rollup_reads import rebuild

MONTH = "2026-03"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def net(db_session, make_network, make_group, make_user, token_for):
    network = make_network()
    g1 = make_group(network, name="สหกรณ์การเกษตรบ้านนาเพื่อการตลาดลูกค้า ธ.ก.ส.", members=40, registered_poor_members=10,
                    district="ท่าบ่อ")
    g2 = make_group(network, name="กลุ่มแม่บ้านทอผ้า", members=30, registered_poor_members=6)
    rice = Listing(network_id=network.id, group_id=g2.id, name="ข้าวหอมมะลิ", unit="kg", price=Decimal("35.00"),
                   outside_price=Decimal("28.00"), reference_price=Decimal("40.00"), stock=100000)
    db_session.add(rice)
    db_session.flush()
    for buyer, seller, qty, when in ((g1, g2, 1000, "2026-03-05T03:00:00"), (g2, g1, 4, "2026-03-06T03:00:00"),
                                     (g1, g2, 10, "2026-01-06T03:00:00")):
        db_session.add(Purchase(
            network_id=network.id, listing_id=rice.id, buyer_group_id=buyer.id, seller_group_id=seller.id,
            quantity=qty, unit_price=Decimal("35.00"), outside_price=Decimal("28.00"),
            reference_price=Decimal("40.00"), amount=qty * Decimal("35.00"), income_gain=qty * Decimal("7.00"),
            buyer_saving=qty * Decimal("5.00"), state="delivered",
            delivered_at=datetime.fromisoformat(when).replace(tzinfo=UTC)))
    db_session.flush()
    rebuild(network.id)  # purchases written behind the delivery service: its roll-ups recomputed
    users = {role: make_user(network, role=role) for role in ("committee", "admin")}
    users["leader"] = make_user(network, role="leader", group=g1)
    users["seller"] = make_user(network, role="seller", group=g2)
    services.build_summary(network.id, MONTH)
    services.build_summary(network.id, "2026-01")
    return {"network": network, "g1": g1, "g2": g2, "users": users,
            "h": {role: token_for(user) for role, user in users.items()}}


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def assert_phone_ready(svg: str) -> None:
    """Text as text, nothing fetched, no server font, drawn 360 units wide with text >= 11 units."""
    root = ET.fromstring(svg)
    assert root.get("viewBox", "").startswith("0 0 360 ")
    assert root.get("width") == "100%"  # opened alone, as wide as the phone's screen (drawn 360 units wide)
    assert not list(root.iter(SVG + "image")) and "@font-face" not in svg and "url(" not in svg
    assert "<path" not in svg  # glyphs drawn as outlines would be paths
    sizes = [float(t.get("font-size", "0")) for t in root.iter(SVG + "text")]
    assert sizes and min(sizes) >= 11, sizes
    assert root.find(SVG + "title") is not None


@pytest.mark.parametrize("kind", ["savings", "bargaining", "groups"])
def test_committee_gets_each_chart_as_thai_text(client, net, kind):
    resp = client.get(f"/api/v1/summaries/{MONTH}/charts/{kind}.svg", headers=net["h"]["committee"])
    assert resp.status_code == 200, resp.data
    assert resp.mimetype == "image/svg+xml"
    assert "script-src" not in resp.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    svg = resp.get_data(as_text=True)
    assert_phone_ready(svg)
    words = " ".join(texts(svg))
    assert re.search(r"[\u0e00-\u0e7f]", words), words  # Thai
    assert not re.search(r"\b(baht|savings|Jan|Mar|price reduction)\b", words, re.I), words
    if kind == "savings":
        assert "มี.ค. 2569" in words and "ม.ค. 2569" in words  # Buddhist era, Thai month names
        assert "5,020.00" in words  # 1,000 kg saved 5 baht each, and the other group's 4 kg: 20.00
    if kind == "groups":
        assert "สหกรณ์การเกษตรบ้านนาเพื่อการตลาดลูกค้า" in words and "กลุ่มแม่บ้านทอผ้า" in words
        assert "5,000.00" in words and "มีนาคม 2569" in words


def test_a_leader_sees_only_their_own_group(client, net):
    for kind in ("savings", "bargaining", "groups"):
        resp = client.get(f"/api/v1/summaries/{MONTH}/charts/{kind}.svg", headers=net["h"]["leader"])
        assert resp.status_code == 200, (kind, resp.data)
        svg = resp.get_data(as_text=True)
        assert_phone_ready(svg)
        assert "กลุ่มแม่บ้านทอผ้า" not in svg, kind
    savings = " ".join(texts(client.get(f"/api/v1/summaries/{MONTH}/charts/savings.svg",
                                        headers=net["h"]["leader"]).get_data(as_text=True)))
    # Only the group's own months with activity: January (10 kg) and March (1,000 kg).
    assert "5,000.00" in savings and "50.00" in savings and "ก.พ." not in savings
    groups = " ".join(texts(client.get(f"/api/v1/summaries/{MONTH}/charts/groups.svg",
                                       headers=net["h"]["leader"]).get_data(as_text=True)))
    assert "35,000.00" in groups and "40,000.00" in groups  # spent, and what buying alone would have cost


def test_english_on_request_and_errors(client, net):
    en = client.get(f"/api/v1/summaries/{MONTH}/charts/savings.svg?lang=en", headers=net["h"]["committee"])
    words = " ".join(texts(en.get_data(as_text=True)))
    assert "Mar 2026" in words and "baht" in words
    assert client.get(f"/api/v1/summaries/{MONTH}/charts/pie.svg", headers=net["h"]["committee"]).status_code == 404
    bad = client.get("/api/v1/summaries/2026-13/charts/savings.svg", headers=net["h"]["committee"])
    assert bad.status_code == 422 and "month" in bad.json["error"]["fields"]
    assert client.get(f"/api/v1/summaries/{MONTH}/charts/savings.svg").status_code == 401


def test_json_carries_thai_as_characters(client, net):
    resp = client.get(f"/api/v1/summaries/{MONTH}", headers=net["h"]["committee"])
    assert resp.status_code == 200
    assert "กลุ่มแม่บ้านทอผ้า".encode() in resp.data and b"\\u0e" not in resp.data
    missing = client.get("/api/v1/summaries/2026-13", headers=net["h"]["committee"])
    assert b"\\u" not in missing.data


def test_wrap_never_cuts_a_word():
    from core.svgchart import text_width, wrap

    name = "กลุ่มวิสาหกิจชุมชนผู้ปลูกข้าวอินทรีย์ บ้านหนองสองห้อง ตำบลโพนสว่าง อำเภอศรีเชียงใหม่"
    lines = wrap(name, 13, 348)
    assert " ".join(lines) == name and len(lines) > 1
    assert all(text_width(line, 13) <= 348 for line in lines)
    assert text_width("ที่", 10) == text_width("ท", 10)  # marks above and below take no width
