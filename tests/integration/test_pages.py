"""Pages: every page renders in Thai and English for its roles, refuses the others, forms keep input."""
from __future__ import annotations

import io
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.pages_helpers import PASSWORD, csrf, login, post_form


@pytest.fixture
def world(make_network, make_group, make_user, make_round, make_offer, place_order):  # type: ignore[no-untyped-def]
    network = make_network(fee_percent="2")
    group_a = make_group(network, name="กลุ่มแม่บ้านโพนพิสัย", district="โพนพิสัย")
    group_b = make_group(network, name="สหกรณ์ท่าบ่อ", district="ท่าบ่อ")
    users = {
        "admin": make_user(network, "admin"),
        "committee": make_user(network, "committee"),
        "leader": make_user(network, "leader", group_a),
        "leader_b": make_user(network, "leader", group_b),
        "seller": make_user(network, "seller", group_b),
    }
    rnd = make_round(network, name="รอบปุ๋ยเดือนมิถุนายน")
    rice = make_offer(rnd, tiers=[(0, "90.00"), (100, "85.00")], pack_size=10, reference_price="100.00")
    oil = make_offer(rnd, tiers=[(0, "50.00")], reference_price="55.00")
    place_order(rnd, group_b, [(rice, 40, 5)])
    draft = make_round(network, state="draft", name="รอบร่าง")
    return {"network": network, "a": group_a, "b": group_b, "users": users, "round": rnd, "rice": rice,
            "oil": oil, "draft": draft}


def _combine(world: dict[str, Any]) -> None:
    from core.db import db
    from orders import combine

    rnd = world["round"]
    rnd.state = "closed"
    db.session.flush()
    combine.combine_round(rnd.id) if hasattr(combine, "combine_round") else _run_handler(rnd.id)


def _run_handler(round_id: int) -> None:
    from core.jobs import HANDLERS

    HANDLERS["combine_round"](round_id=round_id)


def test_login_page_th_and_en(client):  # type: ignore[no-untyped-def]
    th = client.get("/login?lang=th").get_data(as_text=True)
    assert "เข้าสู่ระบบ" in th and 'lang="th"' in th
    en = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in en and 'lang="en"' in en


def test_home_requires_login(client):  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_keeps_email(client, world):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    response = client.post("/login", data={"email": world["users"]["leader"].email, "password": "nope-nope",
                                           "csrf_token": csrf(page.get_data(as_text=True))})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert world["users"]["leader"].email in body and "อีเมลหรือรหัสผ่านไม่ถูกต้อง" in body


def test_post_without_csrf_token_is_refused(client, world):  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"email": world["users"]["leader"].email, "password": PASSWORD})
    assert response.status_code == 400
    login(client, world["users"]["leader"])
    rnd = world["round"]
    response = client.post(f"/rounds/{rnd.id}/order", data={f"q_{world['rice'].id}": "5"})
    assert response.status_code == 400
    response = client.post("/logout")
    assert response.status_code == 400


LEADER_PAGES = ["/", "/rounds", "/rounds/{round}", "/rounds/{round}/order", "/invoices"]
COMMITTEE_PAGES = ["/", "/rounds", "/rounds/{round}", "/rounds/{draft}", "/suppliers", "/groups"]
ADMIN_PAGES = COMMITTEE_PAGES + ["/users", "/groups/{a}/edit"]


def _fmt(url: str, world: dict[str, Any]) -> str:
    return url.format(round=world["round"].id, draft=world["draft"].id, a=world["a"].id)


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize("role,pages", [("leader", LEADER_PAGES), ("committee", COMMITTEE_PAGES),
                                        ("admin", ADMIN_PAGES), ("seller", ["/", "/rounds", "/invoices"])])
def test_pages_render_for_role(client, world, role, pages, lang):  # type: ignore[no-untyped-def]
    login(client, world["users"][role], lang)
    for url in pages:
        response = client.get(_fmt(url, world))
        assert response.status_code == 200, (url, response.status_code)
        body = response.get_data(as_text=True)
        assert f'lang="{lang}"' in body
        assert len(response.data) < 150_000
        if lang == "en":
            assert "Log out" in body
            _assert_no_thai(body, world)


def _assert_no_thai(body: str, world: dict[str, Any]) -> None:
    """Every visible string is translated: no Thai left once the data users typed is taken out."""
    import re

    text = body.replace('lang="th">ไทย<', "")
    for value in (world["a"].name, world["b"].name, world["a"].district, world["b"].district,
                  world["round"].name, world["draft"].name):
        text = text.replace(value, "")
    leftover = re.findall(r"[^<>\"]*[\u0e00-\u0e7f][^<>\"]*", text)
    assert not leftover, leftover[:5]


@pytest.mark.parametrize("role,url", [
    ("leader", "/suppliers"), ("leader", "/groups"), ("leader", "/users"), ("committee", "/users"),
    ("seller", "/rounds/{round}/order"), ("committee", "/rounds/{round}/order"), ("leader", "/groups/{a}/edit_b"),
])
def test_wrong_role_is_forbidden(client, world, role, url):  # type: ignore[no-untyped-def]
    login(client, world["users"][role])
    if url.endswith("_b"):
        url = f"/groups/{world['b'].id}/edit"
    response = client.get(_fmt(url, world))
    assert response.status_code == 403


def test_leader_cannot_post_committee_actions(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    page = client.get("/rounds")
    token = csrf(page.get_data(as_text=True))
    assert client.post(f"/rounds/{world['round'].id}/close", data={"csrf_token": token}).status_code == 403
    assert client.post("/suppliers", data={"csrf_token": token, "supplier-name": "x"}).status_code == 403


def test_order_form_shows_tier_and_saves(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    rnd, rice, oil = world["round"], world["rice"], world["oil"]
    url = f"/rounds/{rnd.id}/order"
    body = client.get(url).get_data(as_text=True)
    assert "ทั้งเครือข่ายสั่งแล้ว 40" in body
    assert "อีก 60" in body  # 100 - 40 to the next tier
    assert 'data-tiers="0:90.00,100:85.00"' in body
    response = post_form(client, url, url, {f"q_{rice.id}": "70", f"t_{rice.id}": "5", f"q_{oil.id}": ""})
    assert response.status_code == 302
    body = client.get(url).get_data(as_text=True)
    assert "ทั้งเครือข่ายสั่งแล้ว 110" in body and 'value="70"' in body


def test_order_form_errors_keep_input(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"], "en")
    rnd, rice, oil = world["round"], world["rice"], world["oil"]
    url = f"/rounds/{rnd.id}/order"
    response = post_form(client, url, url, {f"q_{rice.id}": "-3", f"q_{oil.id}": "12", f"t_{oil.id}": "abc"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="-3"' in body and 'value="12"' in body and 'value="abc"' in body
    assert 'class="error"' in body


def test_order_after_deadline_is_refused_readably(client, world, db_session):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    rnd, rice = world["round"], world["rice"]
    url = f"/rounds/{rnd.id}/order"
    page = client.get(url)
    from datetime import datetime

    rnd.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db_session.flush()
    response = client.post(url, data={f"q_{rice.id}": "33", "csrf_token": csrf(page.get_data(as_text=True))})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "เลยกำหนดปิดรับแล้ว" in body and 'value="33"' in body


def test_committee_creates_round_and_offer(client, world):  # type: ignore[no-untyped-def]
    from core.db import db
    from orders.models import Product, Supplier

    login(client, world["users"]["committee"])
    response = post_form(client, "/rounds", "/rounds", {"name": "รอบข้าวสาร", "closes_at": "2099-01-31T17:00"})
    assert response.status_code == 302
    rnd_url = response.headers["Location"]
    round_id = int(rnd_url.rstrip("/").split("/")[-1])
    supplier = Supplier(network_id=world["network"].id, name="โรงสีหนองคาย")
    product = Product(network_id=world["network"].id, name="ข้าวหอมมะลิ", unit="กก.")
    db.session.add_all([supplier, product])
    db.session.flush()
    bad = post_form(client, rnd_url, f"/rounds/{round_id}/offers", {
        "offer-product_id": product.id, "offer-supplier_id": supplier.id, "offer-pack_size": "0",
        "offer-min_quantity": "0", "offer-reference_price": "30.123", "offer-tiers": "10:25"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "30.123" in body and "10:25" in body
    good = post_form(client, rnd_url, f"/rounds/{round_id}/offers", {
        "offer-product_id": product.id, "offer-supplier_id": supplier.id, "offer-pack_size": "50",
        "offer-min_quantity": "0", "offer-reference_price": "30.00", "offer-delivery_fee": "200",
        "offer-tiers": "0:28.00\n500:26.50"})
    assert good.status_code == 302
    opened = post_form(client, rnd_url, f"/rounds/{round_id}/open", {})
    assert opened.status_code == 302
    body = client.get(rnd_url).get_data(as_text=True)
    assert "ข้าวหอมมะลิ" in body and "เปิดรับคำสั่งซื้อ" in body and "26.50" in body


def test_round_in_the_past_is_refused_with_input_kept(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["committee"])
    response = post_form(client, "/rounds", "/rounds", {"name": "รอบเก่า", "closes_at": "2001-01-01T10:00"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "รอบเก่า" in body and "ต้องเป็นเวลาในอนาคต" in body


def test_close_now_shows_job_and_json(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["committee"])
    rnd = world["round"]
    # Closing early is asked first (the round's state does not change until confirmed) ...
    asked = post_form(client, f"/rounds/{rnd.id}", f"/rounds/{rnd.id}/close", {})
    assert asked.status_code == 200 and 'name="confirmed"' in asked.get_data(as_text=True)
    assert rnd.state == "open"
    # ... then closed.
    response = post_form(client, f"/rounds/{rnd.id}", f"/rounds/{rnd.id}/close", {"confirmed": "yes"})
    assert response.status_code == 302 and "job=" in response.headers["Location"]
    job_id = response.headers["Location"].split("job=")[1]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/jobs/{job_id}.json" in page
    data = client.get(f"/jobs/{job_id}.json").get_json()
    assert data["state"] == "pending"


def test_results_receipt_invoice_payment(client, world, place_order):  # type: ignore[no-untyped-def]
    rnd, rice = world["round"], world["rice"]
    place_order(rnd, world["a"], [(rice, 65, 0)])
    _combine(world)
    login(client, world["users"]["committee"])
    pos_page = client.get(f"/rounds/{rnd.id}/purchase-orders")
    assert pos_page.status_code == 200
    from orders.invoices import list_invoices
    from orders.reads import purchase_orders

    po = purchase_orders(world["users"]["committee"], rnd.id)[0]
    assert client.get(f"/purchase-orders/{po['id']}").status_code == 200
    csv_resp = client.get(f"/purchase-orders/{po['id']}.csv")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    assert client.get(f"/rounds/{rnd.id}/distribution").status_code == 200
    assert client.get(f"/rounds/{rnd.id}/invoices").status_code == 200
    url = f"/purchase-orders/{po['id']}/receipt"
    fields = {f"r_{line['offer_id']}": str(line["ordered_quantity"]) for line in po["lines"]}
    bad = post_form(client, url, url, {k: "99999" for k in fields})
    assert bad.status_code == 422 and "99999" in bad.get_data(as_text=True)
    ok = post_form(client, url, url, fields)
    assert ok.status_code == 302
    invoices = list_invoices(world["users"]["committee"], rnd.id)
    inv = next(i for i in invoices if i.group_id == world["a"].id)
    url = f"/invoices/{inv.id}"
    too_much = post_form(client, url, url, {"amount": str(inv.total + Decimal("1"))})
    assert too_much.status_code == 422 and str(inv.total + Decimal("1")) in too_much.get_data(as_text=True)
    paid = post_form(client, url, url, {"amount": "100.00"})
    assert paid.status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))})
    for lang in ("th", "en"):
        login(client, world["users"]["leader"], lang)
        body = client.get(f"/rounds/{rnd.id}").get_data(as_text=True)
        assert "group-savings" in body
        assert client.get(f"/invoices/{inv.id}").status_code == 200
        assert client.get("/invoices").status_code == 200
        # a leader may not see another group's invoice nor the purchase orders
        other = next(i for i in invoices if i.group_id == world["b"].id)
        assert client.get(f"/invoices/{other.id}").status_code == 404
        assert client.get(f"/rounds/{rnd.id}/purchase-orders").status_code == 403
        client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))})


def test_price_list_import_all_or_nothing(client, world):  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from core.db import db
    from orders.models import Offer, Supplier

    supplier = Supplier(network_id=world["network"].id, name="ร้านปุ๋ยศรีเชียงใหม่")
    db.session.add(supplier)
    db.session.flush()
    login(client, world["users"]["committee"])
    draft = world["draft"]
    bad_csv = ("product,unit,category,pack_size,min_quantity,reference_price,delivery_fee,tiers\n"
               "ปุ๋ย 16-16-16,กระสอบ,ปุ๋ย,1,0,950,0,0:900;20:880\n"
               "ปุ๋ยยูเรีย,กระสอบ,ปุ๋ย,0,0,900,0,0:850\n"
               "ปุ๋ยอินทรีย์,กระสอบ,ปุ๋ย,1,0,abc,0,10:850\n")
    page = client.get("/suppliers")
    response = client.post("/price-lists", data={
        "csrf_token": csrf(page.get_data(as_text=True)), "import-supplier_id": str(supplier.id),
        "import-round_id": str(draft.id), "import-file": (io.BytesIO(bad_csv.encode()), "prices.csv")},
        content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "บรรทัด 3" in body and "บรรทัด 4" in body and "บรรทัด 2" not in body
    count = db.session.scalar(select(func.count()).select_from(Offer).where(Offer.round_id == draft.id))
    assert count == 0
    good_csv = bad_csv.splitlines()[0] + "\n" + bad_csv.splitlines()[1] + "\n"
    page = client.get("/suppliers")
    response = client.post("/price-lists", data={
        "csrf_token": csrf(page.get_data(as_text=True)), "import-supplier_id": str(supplier.id),
        "import-round_id": str(draft.id), "import-file": (io.BytesIO(good_csv.encode()), "prices.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    count = db.session.scalar(select(func.count()).select_from(Offer).where(Offer.round_id == draft.id))
    assert count == 1


def test_admin_creates_group_and_user_errors_kept(client, world):  # type: ignore[no-untyped-def]
    login(client, world["users"]["admin"])
    dup = post_form(client, "/groups", "/groups", {"name": world["a"].name, "kind": "cooperative",
                                                   "members": "10", "registered_poor_members": "2",
                                                   "district": "เมือง"})
    assert dup.status_code == 422 and "มีกลุ่มชื่อนี้อยู่แล้ว" in dup.get_data(as_text=True)  # on the field, once
    ok = post_form(client, "/groups", "/groups", {"name": "กลุ่มใหม่", "kind": "farmers_group", "members": "10",
                                                  "registered_poor_members": "2"})
    assert ok.status_code == 302
    bad = post_form(client, "/users", "/users", {"name": "สมชาย", "email": world["users"]["leader"].email,
                                                 "password": "long-enough-1", "role": "leader",
                                                 "group_id": str(world["a"].id)})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "สมชาย" in body and "ถูกใช้แล้ว" in body
    ok = post_form(client, "/users", "/users", {"name": "สมศรี", "email": "somsri@example.org",
                                                "password": "long-enough-1", "role": "leader",
                                                "group_id": str(world["a"].id)})
    assert ok.status_code == 302


def test_job_json_other_network_is_404(client, world, make_network, make_user):  # type: ignore[no-untyped-def]
    login(client, world["users"]["leader"])
    assert client.get("/jobs/does-not-exist.json").status_code == 404
