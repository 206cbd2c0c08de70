"""Marketplace and report pages: roles, Thai and English, CSRF, errors that keep the input."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.pages_helpers import csrf, login, post_form


@pytest.fixture
def market(make_network, make_group, make_user):  # type: ignore[no-untyped-def]
    from core.db import db
    from market.models import Listing

    network = make_network()
    mill = make_group(network, name="โรงสีชุมชน", district="ท่าบ่อ")
    buyers = make_group(network, name="กลุ่มแม่บ้าน", district="โพนพิสัย")
    users = {"seller": make_user(network, "seller", mill), "leader": make_user(network, "leader", buyers),
             "committee": make_user(network, "committee"), "admin": make_user(network, "admin")}
    rice = Listing(network_id=network.id, group_id=mill.id, name="ข้าวกล้องหอมมะลิ", unit="กก.", category="ข้าว",
                   price=Decimal("40.00"), outside_price=Decimal("32.00"), reference_price=Decimal("48.00"),
                   stock=100, district="ท่าบ่อ", state="active")
    cloth = Listing(network_id=network.id, group_id=mill.id, name="ผ้าทอมือ", unit="ผืน", category="ผ้า",
                    price=Decimal("350.00"), stock=3, district="ท่าบ่อ", state="active")
    db.session.add_all([rice, cloth])
    # committed into the test's outer transaction (still rolled back after the test): a service that
    # rolls back on a refusal (out of stock) must not take the fixture's rows with it
    db.session.commit()
    return {"network": network, "mill": mill, "buyers": buyers, "users": users, "rice": rice, "cloth": cloth}


def _assert_no_thai(body: str, market: dict[str, Any]) -> None:
    import re

    text = body.replace('lang="th">ไทย<', "")
    for value in sorted({market["mill"].name, market["buyers"].name, market["mill"].district,
                         market["buyers"].district, market["rice"].name, market["rice"].unit,
                         market["rice"].category, market["cloth"].name, market["cloth"].unit,
                         market["cloth"].category, "ข้าว"}, key=len, reverse=True):
        text = text.replace(value, "")
    leftover = re.findall(r"[^<>\"]*[\u0e00-\u0e7f][^<>\"]*", text)
    assert not leftover, leftover[:5]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_market_pages_render(client, market, lang):  # type: ignore[no-untyped-def]
    rice = market["rice"]
    pages = {"leader": ["/market", "/market?q=ข้าว&category=ข้าว&sort=price", f"/market/listings/{rice.id}",
                        "/market/purchases", "/savings"],
             "seller": ["/market", "/market/mine", f"/market/listings/{rice.id}/edit", "/market/sales", "/savings"],
             "committee": ["/market", f"/market/listings/{rice.id}", "/summaries"]}
    for role, urls in pages.items():
        login(client, market["users"][role], lang)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            assert f'lang="{lang}"' in response.get_data(as_text=True)
            assert len(response.data) < 150_000
            if lang == "en":
                _assert_no_thai(response.get_data(as_text=True), market)
        client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))})


@pytest.mark.parametrize("role,url", [("committee", "/market/mine"), ("committee", "/market/sales"),
                                      ("leader", "/summaries"), ("seller", "/summaries/2026-01.csv"),
                                      ("committee", "/savings"), ("leader", "/market/listings/{rice}/edit")])
def test_market_reports_forbidden(client, market, role, url):  # type: ignore[no-untyped-def]
    login(client, market["users"][role])
    assert client.get(url.format(rice=market["rice"].id)).status_code == 403


def test_filter_finds_by_text_and_category(client, market):  # type: ignore[no-untyped-def]
    login(client, market["users"]["leader"])
    body = client.get("/market?category=ผ้า").get_data(as_text=True)
    assert "ผ้าทอมือ" in body and "ข้าวกล้องหอมมะลิ" not in body
    body = client.get("/market?q=ข้าวกล้อง").get_data(as_text=True)
    assert "ข้าวกล้องหอมมะลิ" in body and "ผ้าทอมือ" not in body


def test_seller_lists_pauses_and_errors_keep_input(client, market):  # type: ignore[no-untyped-def]
    login(client, market["users"]["seller"])
    bad = post_form(client, "/market/mine", "/market/mine", {"name": "น้ำพริกเผา", "unit": "กระปุก",
                                                               "price": "45.555", "stock": "-2"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "น้ำพริกเผา" in body and "45.555" in body and 'value="-2"' in body
    ok = post_form(client, "/market/mine", "/market/mine", {"name": "น้ำพริกเผา", "unit": "กระปุก",
                                                              "price": "45", "stock": "20", "outside_price": "35"})
    assert ok.status_code == 302
    rice = market["rice"]
    paused = post_form(client, "/market/mine", f"/market/listings/{rice.id}/state", {"state": "paused"})
    assert paused.status_code == 302
    body = client.get("/market/mine").get_data(as_text=True)
    assert "น้ำพริกเผา" in body and "หยุดขายชั่วคราว" in body
    edit = f"/market/listings/{rice.id}/edit"
    response = post_form(client, edit, edit, {"name": "ข้าวกล้องหอมมะลิ", "unit": "กก.", "price": "41",
                                              "stock": "150"})
    assert response.status_code == 302
    assert rice.stock == 150


def test_buy_confirm_deliver_income_gain(client, market):  # type: ignore[no-untyped-def]
    rice, cloth = market["rice"], market["cloth"]
    login(client, market["users"]["leader"])
    url = f"/market/listings/{cloth.id}"
    short = post_form(client, url, url, {"quantity": "5"})
    body = short.get_data(as_text=True)
    assert short.status_code == 422 and 'value="5"' in body and "เหลือเพียง 3" in body
    url = f"/market/listings/{rice.id}"
    bought = post_form(client, url, url, {"quantity": "10"})
    assert bought.status_code == 302
    assert "ข้าวกล้องหอมมะลิ" in client.get("/market/purchases").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))})

    from market import services

    login(client, market["users"]["seller"])
    home = client.get("/").get_data(as_text=True)
    assert "คำสั่งซื้อรอยืนยัน" in home
    purchase = services.list_sales(market["users"]["seller"])[0]
    token = csrf(client.get("/market/sales").get_data(as_text=True))
    assert client.post(f"/market/purchases/{purchase.id}/confirm").status_code == 400  # no CSRF token
    assert client.post(f"/market/purchases/{purchase.id}/confirm", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/market/purchases/{purchase.id}/deliver", data={"csrf_token": token}).status_code == 302
    body = client.get("/market/sales").get_data(as_text=True)
    assert "80.00" in body  # 10 x (40 - 32)


def test_seller_cannot_buy(client, market, make_group, make_user):  # type: ignore[no-untyped-def]
    login(client, market["users"]["seller"])
    url = f"/market/listings/{market['rice'].id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="buy-form"' not in page
    assert client.post(url, data={"csrf_token": csrf(page), "quantity": "1"}).status_code == 403


def _month_now() -> str:
    from zoneinfo import ZoneInfo

    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok"))
    return f"{local.year:04d}-{local.month:02d}"


def _last_month() -> str:
    from zoneinfo import ZoneInfo

    from reports import periods

    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok"))
    return periods.label(*periods.add_months(local.year, local.month, -1))


@pytest.mark.parametrize("lang", ["th", "en"])
def test_summary_pages_and_review(client, market, lang):  # type: ignore[no-untyped-def]
    from reports import services

    month = _last_month()  # a month that has ended: the one the committee signs off
    login(client, market["users"]["committee"], lang)
    assert client.get(f"/summaries/{month}").status_code == 200  # not built yet: offers to build it
    services.build_summary(market["network"].id, month)
    page = client.get(f"/summaries/{month}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="review-form"' in body
    for kind in ("savings", "bargaining", "groups"):
        chart = client.get(f"/summaries/{month}/charts/{kind}.svg")
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml" and b"<text" in chart.data
        assert f'id="chart-{kind}"' in body  # drawn inline on the page too: no extra request on 3G
    assert client.get(f"/summaries/{month}.csv").status_code == 200
    assert client.get("/summaries").status_code == 200
    url = f"/summaries/{month}"
    bad = post_form(client, url, url, {"meeting_date": "2026-13-40", "attendance": "-1", "notes": "ประชุมประจำเดือน"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "ประชุมประจำเดือน" in text and 'value="-1"' in text
    today = datetime.now(ZoneInfo("Asia/Bangkok")).date().isoformat()  # the network's today
    ok = post_form(client, url, url, {"meeting_date": today, "attendance": "9",
                                      "notes": "ประชุมประจำเดือน"})
    assert ok.status_code == 302
    assert 'id="reviewed"' in client.get(url).get_data(as_text=True)


def test_rebuild_shows_job(client, market):  # type: ignore[no-untyped-def]
    month = _last_month()
    login(client, market["users"]["committee"])
    response = post_form(client, f"/summaries/{month}", f"/summaries/{month}/rebuild", {})
    assert response.status_code == 302 and "job=" in response.headers["Location"]
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-job-url" in body


def test_leader_savings_by_month(client, market):  # type: ignore[no-untyped-def]
    """Only the months in which the group bought or sold, a running total, a small chart with text."""
    from datetime import UTC

    from core.db import db
    from market.models import Purchase
    from reports import periods, services

    month = _month_now()
    login(client, market["users"]["leader"])
    services.build_summary(market["network"].id, month)
    empty = client.get("/savings").get_data(as_text=True)
    assert 'id="no-months"' in empty and 'id="months"' not in empty and "0.00</td>" not in empty
    rice, now = market["rice"], datetime.now(UTC)
    year, mon = periods.parse_month(month)
    earlier = periods.label(*periods.add_months(year, mon, -2))
    middle = periods.start_of(periods.zone("Asia/Bangkok"), *periods.add_months(year, mon, -2)) + timedelta(days=10)
    for qty, when in ((1000, now), (10, middle)):
        db.session.add(Purchase(
            network_id=market["network"].id, listing_id=rice.id, buyer_group_id=market["buyers"].id,
            seller_group_id=market["mill"].id, quantity=qty, unit_price=rice.price, outside_price=rice.outside_price,
            reference_price=rice.reference_price, amount=qty * rice.price, income_gain=qty * Decimal("8.00"),
            buyer_saving=qty * Decimal("8.00"), state="delivered", delivered_at=when))
    db.session.flush()
    from reports.rollup_reads import rebuild

    rebuild(market["network"].id)  # written behind the delivery service: its roll-ups recomputed
    db.session.commit()
    for m in (month, periods.label(*periods.add_months(year, mon, -1)), earlier):
        services.build_summary(market["network"].id, m)
    page = client.get("/savings")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="months"' in body and 'id="savings-chart"' in body
    rows = re.findall(r"<tr><td data-label=[^>]*>([^<]*)", body)
    assert len(rows) == 2, rows  # two months with purchases; the month between them is left out
    assert "80.00" in body and "8,000.00" in body and "8,080.00" in body  # each month and the running total
    assert "<svg" in body and "<text" in body
    assert client.get(f"/summaries/{month}/charts/savings.svg").status_code == 200
    own = client.get(f"/summaries/{month}/charts/groups.svg")  # a leader's "groups" chart is the group's own
    assert own.status_code == 200 and market["buyers"].name.encode() in own.data
