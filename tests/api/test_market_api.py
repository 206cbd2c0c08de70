"""Marketplace API: listings, browsing, buying, the purchase life cycle, permissions, figures."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from market.models import Listing, Purchase

RICE = {"name": "ข้าวหอมมะลิ 105", "unit": "กก.", "category": "ข้าว", "price": "38.50", "stock": 100,
        "outside_price": "30.75", "reference_price": "45.25", "district": "โพนพิสัย",
        "description": "ข้าวสารจากโรงสีชุมชน"}


@pytest.fixture
def world(make_network, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    """One network with a selling rice mill, two buying groups, and a second network."""
    net = make_network()
    mill = make_group(net, name="สหกรณ์โรงสีข้าวโพนพิสัย", district="โพนพิสัย")
    buyer = make_group(net, name="กลุ่มออมทรัพย์บ้านหม้อ")
    other = make_group(net, name="กลุ่มแม่บ้านท่าบ่อ")
    users = {
        "seller": make_user(net, "seller", mill),
        "mill_leader": make_user(net, "leader", mill),
        "leader": make_user(net, "leader", buyer),
        "buyer_seller": make_user(net, "seller", buyer),
        "other_leader": make_user(net, "leader", other),
        "committee": make_user(net, "committee"),
        "admin": make_user(net, "admin"),
    }
    net2 = make_network()
    g2 = make_group(net2, name="กลุ่มต่างจังหวัด")
    users["stranger"] = make_user(net2, "leader", g2)
    users["stranger_seller"] = make_user(net2, "seller", g2)
    headers = {k: token_for(u) for k, u in users.items()}
    return {"net": net, "mill": mill, "buyer": buyer, "other": other, "users": users, "h": headers,
            "net2_group": g2}


def _listing(client, world, body=None, who="seller"):  # type: ignore[no-untyped-def]
    res = client.post("/api/v1/listings", json=body or RICE, headers=world["h"][who])
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def _buy(client, world, listing_id, quantity=1, who="leader", group=None, headers=None):  # type: ignore[no-untyped-def]
    group_id = (group or world["buyer"]).id
    h = dict(world["h"][who], **(headers or {}))
    return client.post(f"/api/v1/listings/{listing_id}/purchases", json={"group_id": group_id,
                                                                         "quantity": quantity}, headers=h)


def _stock(db_session, listing_id):  # type: ignore[no-untyped-def]
    return db_session.scalar(select(Listing.stock).where(Listing.id == listing_id))


# --- listings --------------------------------------------------------------------------------------

def test_seller_lists_goods_with_exact_money(client, world):  # type: ignore[no-untyped-def]
    body = _listing(client, world)
    assert body["price"] == "38.50" and body["outside_price"] == "30.75" and body["reference_price"] == "45.25"
    assert body["stock"] == 100 and body["state"] == "active" and body["group_id"] == world["mill"].id
    assert body["group_name"] == "สหกรณ์โรงสีข้าวโพนพิสัย"
    res = client.get(f"/api/v1/listings/{body['id']}", headers=world["h"]["leader"])
    assert res.status_code == 200 and res.get_json()["name"] == "ข้าวหอมมะลิ 105"


def test_optional_prices_may_be_left_out(client, world):  # type: ignore[no-untyped-def]
    body = _listing(client, world, {"name": "แจ่วบอง", "unit": "กระปุก", "category": "อาหาร", "price": "45",
                                    "stock": 10})
    assert body["price"] == "45.00" and body["outside_price"] is None and body["reference_price"] is None


def test_committee_cannot_list_goods(client, world):  # type: ignore[no-untyped-def]
    res = client.post("/api/v1/listings", json=RICE, headers=world["h"]["committee"])
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("field", "value"), [
    ("price", "12.345"), ("price", "-1.00"), ("price", 1.5e400), ("price", "abc"), ("stock", -1),
    ("stock", 1.5), ("stock", "3"), ("outside_price", "1.001"), ("name", ""), ("state", "active"),
])
def test_bad_listing_input_is_refused_naming_the_field(client, world, db_session, field, value):  # type: ignore[no-untyped-def]
    before = db_session.scalar(select(func.count()).select_from(Listing))
    res = client.post("/api/v1/listings", json=dict(RICE, **{field: value}), headers=world["h"]["seller"])
    assert res.status_code == 422, res.get_json()
    error = res.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert db_session.scalar(select(func.count()).select_from(Listing)) == before


def test_missing_fields_are_named(client, world):  # type: ignore[no-untyped-def]
    res = client.post("/api/v1/listings", json={"name": "x"}, headers=world["h"]["seller"])
    assert res.status_code == 422
    assert {"unit", "category", "price", "stock"} <= set(res.get_json()["error"]["fields"])


def test_own_group_edits_pauses_and_closes(client, world):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    url = f"/api/v1/listings/{listing['id']}"
    res = client.patch(url, json={"price": "40.00", "stock": 80, "reference_price": None},
                       headers=world["h"]["seller"])
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["price"] == "40.00" and res.get_json()["stock"] == 80
    assert res.get_json()["reference_price"] is None
    res = client.patch(url, json={"state": "paused"}, headers=world["h"]["mill_leader"])
    assert res.status_code == 200 and res.get_json()["state"] == "paused"
    buy = _buy(client, world, listing["id"])
    assert buy.status_code == 409 and buy.get_json()["error"]["code"] == "listing_not_active"
    assert client.patch(url, json={"state": "active"}, headers=world["h"]["seller"]).status_code == 200
    assert _buy(client, world, listing["id"]).status_code == 201
    assert client.patch(url, json={"state": "closed"}, headers=world["h"]["seller"]).status_code == 200
    res = client.patch(url, json={"state": "active"}, headers=world["h"]["seller"])
    assert res.status_code == 409


def test_another_groups_leader_cannot_edit(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    for who in ("leader", "buyer_seller", "other_leader", "committee", "admin"):
        res = client.patch(f"/api/v1/listings/{listing['id']}", json={"price": "1.00"}, headers=world["h"][who])
        assert res.status_code == 403, who
        assert res.get_json()["error"]["code"] == "forbidden"
    assert db_session.get(Listing, listing["id"]).price == Decimal("38.50")


def test_bad_patch_is_refused_naming_the_field(client, world):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    res = client.patch(f"/api/v1/listings/{listing['id']}", json={"state": "sold"}, headers=world["h"]["seller"])
    assert res.status_code == 422 and "state" in res.get_json()["error"]["fields"]
    res = client.patch(f"/api/v1/listings/{listing['id']}", json={"stock": -5}, headers=world["h"]["seller"])
    assert res.status_code == 422 and "stock" in res.get_json()["error"]["fields"]


def test_another_network_sees_nothing(client, world):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    h = world["h"]["stranger"]
    res = client.get("/api/v1/listings", headers=h)
    assert res.status_code == 200 and res.get_json() == []
    res = client.get("/api/v1/listings?state=all", headers=h)
    assert res.get_json() == []
    assert client.get(f"/api/v1/listings/{listing['id']}", headers=h).status_code == 404
    res = client.patch(f"/api/v1/listings/{listing['id']}", json={"price": "1.00"},
                       headers=world["h"]["stranger_seller"])
    assert res.status_code == 404
    res = client.post(f"/api/v1/listings/{listing['id']}/purchases",
                      json={"group_id": world["net2_group"].id, "quantity": 1}, headers=h)
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "not_found"
    # Nor can one buy for a group of another network.
    res = _buy(client, world, listing["id"], group=world["net2_group"])
    assert res.status_code == 422 and "group_id" in res.get_json()["error"]["fields"]


def test_browse_filters_sort_and_pages(client, world, make_group, make_user, token_for):  # type: ignore[no-untyped-def]
    weavers = make_group(world["net"], name="กลุ่มทอผ้าท่าบ่อ")
    weaver = token_for(make_user(world["net"], "seller", weavers))
    rice = _listing(client, world)
    sticky = _listing(client, world, dict(RICE, name="ข้าวเหนียว กข6", price="32.00", stock=0))
    cloth = client.post("/api/v1/listings", json={
        "name": "ผ้าไหมมัดหมี่", "unit": "ผืน", "category": "ผ้าทอ", "price": "850.00", "stock": 5,
        "district": "ท่าบ่อ", "description": "ลายนาค ย้อมสีธรรมชาติ 100%"}, headers=weaver).get_json()
    h = world["h"]["leader"]

    def ids(query: str) -> list[int]:
        res = client.get(f"/api/v1/listings{query}", headers=h)
        assert res.status_code == 200, res.get_json()
        return [x["id"] for x in res.get_json()]

    assert set(ids("")) == {rice["id"], sticky["id"], cloth["id"]}
    assert set(ids("?category=ข้าว")) == {rice["id"], sticky["id"]}
    assert ids("?district=ท่าบ่อ") == [cloth["id"]]
    assert ids(f"?group_id={weavers.id}") == [cloth["id"]]
    assert set(ids("?in_stock=true")) == {rice["id"], cloth["id"]}
    assert ids("?in_stock=false") == [sticky["id"]]
    assert ids("?q=มัดหมี่") == [cloth["id"]]
    assert ids("?q=ย้อมสี") == [cloth["id"]]
    assert ids("?q=100%") == [cloth["id"]]
    assert ids("?q=%25%25") == []
    assert ids("?sort=price") == [sticky["id"], rice["id"], cloth["id"]]
    assert ids("?sort=-price") == [cloth["id"], rice["id"], sticky["id"]]
    res = client.get("/api/v1/listings?sort=price&page=2&per_page=2", headers=h)
    assert [x["id"] for x in res.get_json()] == [cloth["id"]]
    paging = json.loads(res.headers["X-Pagination"])
    assert paging["total"] == 3 and paging["total_pages"] == 2 and paging["page"] == 2
    client.patch(f"/api/v1/listings/{sticky['id']}", json={"state": "paused"}, headers=world["h"]["seller"])
    assert sticky["id"] not in ids("")
    assert ids("?state=paused") == [sticky["id"]]
    for bad in ("?sort=cheapest", "?per_page=0", "?per_page=1000", "?page=0", "?in_stock=maybe"):
        res = client.get(f"/api/v1/listings{bad}", headers=h)
        assert res.status_code == 422, bad
        assert res.get_json()["error"]["fields"]


def test_api_needs_a_token(client, world):  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/listings").status_code == 401
    assert client.get("/api/v1/purchases").status_code == 401


# --- buying ----------------------------------------------------------------------------------------

def test_leader_buys_for_own_group(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    res = _buy(client, world, listing["id"], quantity=7)
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body["state"] == "placed" and body["quantity"] == 7 and body["amount"] == "269.50"
    assert isinstance(body["id"], int)
    assert _stock(db_session, listing["id"]) == 93
    purchase = db_session.get(Purchase, body["id"])
    assert purchase.buyer_group_id == world["buyer"].id and purchase.seller_group_id == world["mill"].id
    assert purchase.unit_price == Decimal("38.50") and purchase.network_id == world["net"].id


def test_out_of_stock_says_how_many_are_left_and_changes_nothing(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world, dict(RICE, stock=5))
    res = _buy(client, world, listing["id"], quantity=6)
    assert res.status_code == 409
    error = res.get_json()["error"]
    assert error["code"] == "out_of_stock" and error["available"] == 5 and "5" in error["message"]
    assert "quantity" in error["fields"]
    assert _stock(db_session, listing["id"]) == 5
    assert db_session.scalar(select(func.count()).select_from(Purchase)
                             .where(Purchase.listing_id == listing["id"])) == 0
    assert _buy(client, world, listing["id"], quantity=5).status_code == 201
    res = _buy(client, world, listing["id"], quantity=1)
    assert res.status_code == 409 and res.get_json()["error"]["available"] == 0


def test_seller_or_leader_cannot_buy_for_a_group_not_theirs(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    assert _buy(client, world, listing["id"], who="leader", group=world["other"]).status_code == 403
    assert _buy(client, world, listing["id"], who="other_leader", group=world["buyer"]).status_code == 403
    # A seller does not buy: the group's leader does, for the group.
    assert _buy(client, world, listing["id"], who="buyer_seller", group=world["buyer"]).status_code == 403
    assert _buy(client, world, listing["id"], who="committee", group=world["buyer"]).status_code == 403
    assert _stock(db_session, listing["id"]) == 100


def test_a_group_cannot_buy_its_own_listing(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    res = _buy(client, world, listing["id"], who="mill_leader", group=world["mill"])
    assert res.status_code == 403 and res.get_json()["error"]["code"] == "own_listing"
    assert _stock(db_session, listing["id"]) == 100


@pytest.mark.parametrize("body", [
    {"group_id": 1, "quantity": 0}, {"group_id": 1, "quantity": -2}, {"group_id": 1, "quantity": 1.5},
    {"group_id": 1, "quantity": "2"}, {"group_id": 1}, {"quantity": 1, "group_id": 1, "price": "1.00"},
])
def test_bad_purchase_input_is_refused_naming_the_field(client, world, db_session, body):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    body = {k: (world["buyer"].id if k == "group_id" else v) for k, v in body.items()}
    res = client.post(f"/api/v1/listings/{listing['id']}/purchases", json=body, headers=world["h"]["leader"])
    assert res.status_code == 422
    fields = res.get_json()["error"]["fields"]
    assert ("quantity" in fields) or ("price" in fields)
    assert _stock(db_session, listing["id"]) == 100


def test_group_id_must_be_a_whole_number(client, world):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    res = client.post(f"/api/v1/listings/{listing['id']}/purchases", json={"group_id": "x", "quantity": 1},
                      headers=world["h"]["leader"])
    assert res.status_code == 422 and "group_id" in res.get_json()["error"]["fields"]


# --- idempotency -----------------------------------------------------------------------------------

def test_same_idempotency_key_replays_and_buys_nothing_more(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    key = {"Idempotency-Key": "phone-7f3a-0001"}
    first = _buy(client, world, listing["id"], quantity=3, headers=key)
    again = _buy(client, world, listing["id"], quantity=3, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _stock(db_session, listing["id"]) == 97
    assert db_session.scalar(select(func.count()).select_from(Purchase)
                             .where(Purchase.listing_id == listing["id"])) == 1
    different = _buy(client, world, listing["id"], quantity=4, headers=key)
    assert different.status_code == 422
    assert "Idempotency-Key" in different.get_json()["error"]["fields"]
    assert _stock(db_session, listing["id"]) == 97
    # A new key is a new purchase.
    assert _buy(client, world, listing["id"], quantity=3, headers={"Idempotency-Key": "k2"}).status_code == 201
    assert _stock(db_session, listing["id"]) == 94


def test_refused_purchase_is_not_remembered_by_its_key(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world, dict(RICE, stock=2))
    key = {"Idempotency-Key": "retry-after-restock"}
    assert _buy(client, world, listing["id"], quantity=3, headers=key).status_code == 409
    client.patch(f"/api/v1/listings/{listing['id']}", json={"stock": 10}, headers=world["h"]["seller"])
    assert _buy(client, world, listing["id"], quantity=3, headers=key).status_code == 201
    assert _stock(db_session, listing["id"]) == 7


# --- life cycle and figures ------------------------------------------------------------------------

def test_confirm_deliver_records_income_gain_and_saving_to_the_satang(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    pid = _buy(client, world, listing["id"], quantity=7).get_json()["id"]
    assert client.post(f"/api/v1/purchases/{pid}/confirm", headers=world["h"]["leader"]).status_code == 403
    res = client.post(f"/api/v1/purchases/{pid}/confirm", headers=world["h"]["seller"])
    assert res.status_code == 200 and res.get_json()["state"] == "confirmed"
    assert client.post(f"/api/v1/purchases/{pid}/deliver", json={},
                       headers=world["h"]["leader"]).status_code == 403
    # Placed yesterday, delivered an hour ago (Bangkok time on the wire, UTC in the database).
    db_session.get(Purchase, pid).placed_at = datetime.now(UTC) - timedelta(days=1)
    db_session.commit()
    when = datetime.now(timezone(timedelta(hours=7))).replace(microsecond=0) - timedelta(hours=1)
    res = client.post(f"/api/v1/purchases/{pid}/deliver", json={"delivered_at": when.isoformat()},
                      headers=world["h"]["mill_leader"])
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    # 7 × (38.50 − 30.75) = 54.25; 7 × (45.25 − 38.50) = 47.25
    assert body["state"] == "delivered" and body["income_gain"] == "54.25" and body["buyer_saving"] == "47.25"
    assert body["amount"] == "269.50"
    db_session.expire_all()
    purchase = db_session.get(Purchase, pid)
    assert purchase.income_gain == Decimal("54.25") and purchase.buyer_saving == Decimal("47.25")
    assert purchase.delivered_at == when
    # Delivered: no second delivery, no cancel, the stock stays sold.
    assert client.post(f"/api/v1/purchases/{pid}/deliver", json={},
                       headers=world["h"]["seller"]).status_code == 409
    assert client.post(f"/api/v1/purchases/{pid}/cancel", headers=world["h"]["leader"]).status_code == 409
    assert _stock(db_session, listing["id"]) == 93


def test_figures_without_outside_or_reference_price_are_zero(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world, {"name": "แจ่วบอง", "unit": "กระปุก", "category": "อาหาร",
                                       "price": "45.00", "stock": 50})
    pid = _buy(client, world, listing["id"], quantity=3).get_json()["id"]
    res = client.post(f"/api/v1/purchases/{pid}/deliver", headers=world["h"]["seller"])
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["income_gain"] == "0.00" and res.get_json()["buyer_saving"] == "0.00"


def test_figures_can_be_negative_and_use_prices_at_purchase(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world, dict(RICE, price="10.01", outside_price="10.02", reference_price="9.99",
                                              stock=1000))
    pid = _buy(client, world, listing["id"], quantity=333).get_json()["id"]
    # A later price change does not rewrite the purchase.
    client.patch(f"/api/v1/listings/{listing['id']}", json={"price": "99.00", "outside_price": "1.00"},
                 headers=world["h"]["seller"])
    res = client.post(f"/api/v1/purchases/{pid}/deliver", json={}, headers=world["h"]["seller"])
    body = res.get_json()
    assert body["amount"] == "3333.33"
    assert body["income_gain"] == "-3.33" and body["buyer_saving"] == "-6.66"


@pytest.mark.parametrize(("value", "why"), [
    ("2099-01-01T00:00:00+07:00", "future"), ("2026-01-01T10:00:00", "naive"), ("yesterday", "garbage"),
    ("2000-01-01T00:00:00+07:00", "before placed"),
])
def test_bad_delivery_time_is_refused(client, world, db_session, value, why):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    pid = _buy(client, world, listing["id"]).get_json()["id"]
    res = client.post(f"/api/v1/purchases/{pid}/deliver", json={"delivered_at": value},
                      headers=world["h"]["seller"])
    assert res.status_code == 422, why
    assert "delivered_at" in res.get_json()["error"]["fields"]
    db_session.expire_all()
    assert db_session.get(Purchase, pid).state == "placed"


def test_cancel_twice_returns_stock_once(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    pid = _buy(client, world, listing["id"], quantity=10).get_json()["id"]
    assert _stock(db_session, listing["id"]) == 90
    first = client.post(f"/api/v1/purchases/{pid}/cancel", headers=world["h"]["leader"])
    assert first.status_code == 200 and first.get_json()["state"] == "cancelled"
    second = client.post(f"/api/v1/purchases/{pid}/cancel", headers=world["h"]["seller"])
    assert second.status_code == 200 and second.get_json()["state"] == "cancelled"
    assert _stock(db_session, listing["id"]) == 100
    assert client.post(f"/api/v1/purchases/{pid}/confirm", headers=world["h"]["seller"]).status_code == 409
    assert client.post(f"/api/v1/purchases/{pid}/deliver", headers=world["h"]["seller"]).status_code == 409
    assert _stock(db_session, listing["id"]) == 100


def test_who_may_cancel(client, world, db_session):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    pid = _buy(client, world, listing["id"], quantity=2).get_json()["id"]
    for who in ("other_leader", "buyer_seller", "stranger"):
        res = client.post(f"/api/v1/purchases/{pid}/cancel", headers=world["h"][who])
        assert res.status_code in (403, 404), who
    assert client.post(f"/api/v1/purchases/{pid}/cancel", headers=world["h"]["stranger"]).status_code == 404
    assert _stock(db_session, listing["id"]) == 98
    assert client.post(f"/api/v1/purchases/{pid}/cancel", headers=world["h"]["seller"]).status_code == 200
    assert _stock(db_session, listing["id"]) == 100


def test_purchases_list_mine_and_all_for_the_committee(client, world):  # type: ignore[no-untyped-def]
    listing = _listing(client, world)
    mine = _buy(client, world, listing["id"], quantity=1).get_json()["id"]
    theirs = _buy(client, world, listing["id"], quantity=2, who="other_leader", group=world["other"]).get_json()["id"]

    def ids(who: str, query: str = "") -> set[int]:
        res = client.get(f"/api/v1/purchases{query}", headers=world["h"][who])
        assert res.status_code == 200, res.get_json()
        return {p["id"] for p in res.get_json()}

    assert ids("leader") == {mine}
    assert ids("buyer_seller") == {mine}
    assert ids("other_leader") == {theirs}
    assert ids("seller") == {mine, theirs}
    assert ids("seller", "?side=buyer") == set()
    assert ids("committee") == {mine, theirs}
    assert ids("admin", "?state=placed") == {mine, theirs}
    assert ids("stranger") == set()
    assert client.get(f"/api/v1/purchases/{theirs}", headers=world["h"]["leader"]).status_code == 404
    assert client.get(f"/api/v1/purchases/{theirs}", headers=world["h"]["committee"]).status_code == 200


def test_openapi_documents_the_market(client):  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/listings", "/api/v1/listings/{listing_id}", "/api/v1/listings/{listing_id}/purchases",
                 "/api/v1/purchases", "/api/v1/purchases/{purchase_id}/cancel"):
        assert path in spec["paths"], path
