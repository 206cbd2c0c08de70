"""Requests for quotation over the API: create, suppliers quote by token, comparison, refusals, permissions."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

BKK = timezone(timedelta(hours=7))


def _future(days: float = 3) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(BKK).isoformat()


@pytest.fixture
def rfq_setup(db_session, make_network, make_user, token_for) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from orders.models import Product, Supplier

    network = make_network()
    committee = make_user(network, "committee")
    suppliers = [Supplier(network_id=network.id, name=f"ผู้ขายส่ง {c}") for c in "กขค"]
    products = [Product(network_id=network.id, name="ข้าวสาร", unit="กก."),
                Product(network_id=network.id, name="น้ำมันพืช", unit="ขวด")]
    db_session.add_all([*suppliers, *products])
    db_session.commit()
    return {"network": network, "committee": token_for(committee), "suppliers": [s.id for s in suppliers],
            "products": [p.id for p in products]}


def _create(client: Any, s: dict[str, Any], **over: Any) -> Any:
    body = {"name": "ข้าวและน้ำมัน ธ.ค.", "closes_at": _future(),
            "items": [{"product_id": s["products"][0], "quantity": 100, "reference_price": "32.00"},
                      {"product_id": s["products"][1], "quantity": 40, "reference_price": "55.00"}],
            "supplier_ids": s["suppliers"]}
    body.update(over)
    return client.post("/api/v1/rfqs", json=body, headers=s["committee"])


def _line(product_id: int, pack: int, minimum: int, *tiers: tuple[int, str]) -> dict[str, Any]:
    return {"product_id": product_id, "pack_size": pack, "min_quantity": minimum,
            "tiers": [{"min_quantity": m, "unit_price": p} for m, p in tiers]}


def _quote_all(client: Any, s: dict[str, Any], tokens: dict[int, str]) -> None:
    rice, oil = s["products"]
    a, b, c = s["suppliers"]
    quotes = {
        a: {"delivery_fee": "300.00", "lines": [_line(rice, 1, 0, (0, "30.00")), _line(oil, 1, 0, (0, "50.00"))]},
        b: {"delivery_fee": "100.00", "lines": [_line(rice, 1, 0, (0, "29.00"))]},
        c: {"delivery_fee": "100.00", "lines": [_line(oil, 12, 0, (0, "47.00"), (48, "40.00"))]},
    }
    for supplier_id, body in quotes.items():
        response = client.put(f"/api/v1/quotes/{tokens[supplier_id]}", json=body)
        assert response.status_code == 200, response.json


def test_create_quote_compare(client, rfq_setup):  # type: ignore[no-untyped-def]
    s = rfq_setup
    created = _create(client, s)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["state"] == "open" and [i["quantity"] for i in body["items"]] == [100, 40]
    tokens = {v["supplier_id"]: v["token"] for v in body["invitations"]}
    assert set(tokens) == set(s["suppliers"])
    # At least 128 random bits: 32 bytes of urlsafe base64 is 43 characters.
    assert all(len(t) >= 43 for t in tokens.values()) and len(set(tokens.values())) == 3
    # The token is shown once: reading the request again does not give it.
    again = client.get(f"/api/v1/rfqs/{body['id']}", headers=s["committee"])
    assert again.status_code == 200 and all(v.get("token") is None for v in again.json["invitations"])

    seen = client.get(f"/api/v1/quotes/{tokens[s['suppliers'][0]]}")
    assert seen.status_code == 200 and seen.json["quote"] is None
    assert [i["product_name"] for i in seen.json["rfq"]["items"]] == ["ข้าวสาร", "น้ำมันพืช"]
    assert "reference_price" not in seen.json["rfq"]["items"][0]  # the shop price is the network's business

    _quote_all(client, s, tokens)
    cmp_ = client.get(f"/api/v1/rfqs/{body['id']}/comparison", headers=s["committee"])
    assert cmp_.status_code == 200, cmp_.json
    c = cmp_.json
    a, b, cc = s["suppliers"]
    rice, oil = s["products"]
    assert c["best"]["total"] == "5020.00" and c["best"]["delivery_fees"] == "200.00"
    assert [(ln["product_id"], ln["supplier_id"], ln["bought_quantity"], ln["unit_price"], ln["amount"])
            for ln in c["best"]["lines"]] == [(rice, b, 100, "29.00", "2900.00"), (oil, cc, 48, "40.00", "1920.00")]
    assert c["cheapest_per_product"]["total"] == "5020.00"
    assert c["best_single_supplier"]["supplier_id"] == a and c["best_single_supplier"]["total"] == "5300.00"
    assert c["best_single_supplier"]["saving_of_best"] == "280.00"
    assert c["not_awarded"] == []
    oil_quotes = next(i for i in c["items"] if i["product_id"] == oil)["quotes"]
    assert [(q["supplier_id"], q["amount"]) for q in oil_quotes] == [(cc, "1920.00"), (a, "2000.00")]


def test_supplier_quote_is_validated_and_names_the_field(client, rfq_setup):  # type: ignore[no-untyped-def]
    s = rfq_setup
    token = _create(client, s).json["invitations"][0]["token"]
    rice = s["products"][0]
    bad = client.put(f"/api/v1/quotes/{token}", json={"delivery_fee": "10.00", "lines": [
        _line(rice, 5, 0, (10, "30.00"))]})
    assert bad.status_code == 422 and "lines.0.tiers.0.min_quantity" in bad.json["error"]["fields"]
    rising = client.put(f"/api/v1/quotes/{token}", json={"lines": [_line(rice, 5, 0, (0, "30.00"), (50, "31.00"))]})
    assert rising.status_code == 422 and "lines.0.tiers.1.unit_price" in rising.json["error"]["fields"]
    other = client.put(f"/api/v1/quotes/{token}", json={"lines": [_line(999999, 5, 0, (0, "30.00"))]})
    assert other.status_code == 422 and "lines.0.product_id" in other.json["error"]["fields"]
    fee = client.put(f"/api/v1/quotes/{token}", json={"delivery_fee": "1.005", "lines": []})
    assert fee.status_code == 422 and "delivery_fee" in fee.json["error"]["fields"]
    # Nothing was stored by the refusals.
    assert client.get(f"/api/v1/quotes/{token}").json["quote"] is None
    ok = client.put(f"/api/v1/quotes/{token}", json={"lines": [_line(rice, 5, 20, (0, "30.00"), (50, "29.50"))]})
    assert ok.status_code == 200 and ok.json["delivery_fee"] == "0.00"
    # Changing it replaces it: products may be left out.
    again = client.put(f"/api/v1/quotes/{token}", json={"delivery_fee": "80.00", "lines": []})
    assert again.status_code == 200 and again.json["lines"] == []


def test_unknown_token_is_404_and_a_token_reaches_only_its_own_quote(client, rfq_setup):  # type: ignore[no-untyped-def]
    s = rfq_setup
    invitations = _create(client, s).json["invitations"]
    assert client.get("/api/v1/quotes/" + "x" * 43).status_code == 404
    assert client.put("/api/v1/quotes/" + "x" * 43, json={"lines": []}).status_code == 404
    first, second = invitations[0]["token"], invitations[1]["token"]
    rice = s["products"][0]
    client.put(f"/api/v1/quotes/{first}", json={"delivery_fee": "11.00", "lines": [_line(rice, 1, 0, (0, "9.00"))]})
    # The second supplier sees its own (empty) quote, never the first's.
    assert client.get(f"/api/v1/quotes/{second}").json["quote"] is None
    # A link is not a bearer token: nothing else of the network answers to it.
    as_bearer = {"Authorization": f"Bearer {first}"}
    for path in ("/api/v1/rfqs", "/api/v1/suppliers", "/api/v1/rounds", "/api/v1/network"):
        assert client.get(path, headers=as_bearer).status_code == 401


def test_quotes_are_refused_after_the_closing_time(client, rfq_setup, db_session):  # type: ignore[no-untyped-def]
    from quotes.models import Rfq

    s = rfq_setup
    created = _create(client, s).json
    token = created["invitations"][0]["token"]
    rfq = db_session.get(Rfq, created["id"])
    rfq.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db_session.commit()
    late = client.put(f"/api/v1/quotes/{token}", json={"lines": []})
    assert late.status_code == 409 and late.json["error"]["state"] == "closed"
    assert client.get(f"/api/v1/quotes/{token}").json["rfq"]["state"] == "closed"


def test_committee_input_is_checked(client, rfq_setup, make_network):  # type: ignore[no-untyped-def]
    from orders.models import Product

    s = rfq_setup
    past = _create(client, s, closes_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert past.status_code == 422 and "closes_at" in past.json["error"]["fields"]
    twice = _create(client, s, items=[{"product_id": s["products"][0], "quantity": 1, "reference_price": "1.00"}] * 2)
    assert twice.status_code == 422 and "items" in twice.json["error"]["fields"]
    zero = _create(client, s, items=[{"product_id": s["products"][0], "quantity": 0, "reference_price": "1.00"}])
    assert zero.status_code == 422
    none = _create(client, s, supplier_ids=[])
    assert none.status_code == 422 and "supplier_ids" in none.json["error"]["fields"]
    # A product of another network is no product here.
    from core.db import db

    other = make_network()
    foreign = Product(network_id=other.id, name="ของเครือข่ายอื่น", unit="kg")
    db.session.add(foreign)
    db.session.commit()
    stray = _create(client, s, items=[{"product_id": foreign.id, "quantity": 5, "reference_price": "1.00"}])
    assert stray.status_code == 422 and "items.0.product_id" in stray.json["error"]["fields"]


@pytest.mark.parametrize("role", ["leader", "seller"])
def test_leaders_and_sellers_cannot_create_or_see_rfqs(client, rfq_setup, make_user, make_group, token_for,
                                                       role):  # type: ignore[no-untyped-def]
    s = rfq_setup
    created = _create(client, s).json
    user = make_user(s["network"], role, make_group(s["network"]))
    headers = token_for(user)
    assert client.post("/api/v1/rfqs", headers=headers, json={
        "name": "x", "closes_at": _future(), "items": [{"product_id": s["products"][0], "quantity": 1,
                                                        "reference_price": "1.00"}],
        "supplier_ids": s["suppliers"][:1]}).status_code == 403
    assert client.get("/api/v1/rfqs", headers=headers).status_code == 403
    assert client.get(f"/api/v1/rfqs/{created['id']}/comparison", headers=headers).status_code == 403
    assert client.post(f"/api/v1/rfqs/{created['id']}/award", headers=headers, json={}).status_code == 403


def test_another_network_sees_nothing(client, rfq_setup, make_network, make_user, token_for):  # type: ignore[no-untyped-def]
    s = rfq_setup
    created = _create(client, s).json
    other = token_for(make_user(make_network(), "committee"))
    assert client.get("/api/v1/rfqs", headers=other).json == []
    for path in (f"/api/v1/rfqs/{created['id']}", f"/api/v1/rfqs/{created['id']}/comparison"):
        assert client.get(path, headers=other).status_code == 404
    assert client.post(f"/api/v1/rfqs/{created['id']}/award", headers=other, json={}).status_code == 404


def test_openapi_documents_the_rfq_api(client):  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/rfqs", "/api/v1/rfqs/{rfq_id}", "/api/v1/rfqs/{rfq_id}/comparison",
                 "/api/v1/rfqs/{rfq_id}/award", "/api/v1/quotes/{token}"):
        assert path in paths, path
    assert paths["/api/v1/quotes/{token}"]["put"]["security"] == []


def test_suggested_quantities_come_from_the_last_rounds(client, rfq_setup, make_round, make_offer, make_group,
                                                        place_order):  # type: ignore[no-untyped-def]
    from core.db import db
    from orders.models import Product, Supplier

    s = rfq_setup
    product = db.session.get(Product, s["products"][0])
    supplier = db.session.get(Supplier, s["suppliers"][0])
    group = make_group(s["network"])
    for quantity, price in ((30, "31.00"), (41, "33.00")):
        rnd = make_round(s["network"])
        offer = make_offer(rnd, product=product, supplier=supplier, reference_price=price)
        place_order(rnd, group, [(offer, quantity, 0)])
    got = client.get(f"/api/v1/rfqs/suggestions?product_id={product.id}&product_id={s['products'][1]}",
                     headers=s["committee"])
    assert got.status_code == 200
    assert got.json[0]["quantity"] == 36  # ceil((30 + 41) / 2)
    assert Decimal(got.json[0]["reference_price"]) in (Decimal("31.00"), Decimal("33.00"))
    assert got.json[1] == {"product_id": s["products"][1], "quantity": None, "reference_price": None}


def test_award_creates_a_draft_round_and_ends_quoting(client, rfq_setup, db_session):  # type: ignore[no-untyped-def]
    from orders.models import BuyingRound, RoundSupplierFee

    s = rfq_setup
    created = _create(client, s).json
    tokens = {v["supplier_id"]: v["token"] for v in created["invitations"]}
    _quote_all(client, s, tokens)
    a, b, c = s["suppliers"]
    rice, oil = s["products"]
    # The committee's own choice is priced against the best before anything is decided.
    own = {"lines": [{"product_id": rice, "supplier_id": a}, {"product_id": oil, "supplier_id": a}]}
    bad = client.post(f"/api/v1/rfqs/{created['id']}/award", headers=s["committee"],
                      json={"lines": [{"product_id": rice, "supplier_id": c}]})
    assert bad.status_code == 422 and "lines.0.supplier_id" in bad.json["error"]["fields"]
    key = {"Idempotency-Key": "award-once", **s["committee"]}
    done = client.post(f"/api/v1/rfqs/{created['id']}/award", headers=key, json=own)
    assert done.status_code == 201, done.json
    assert (done.json["total"], done.json["best_total"], done.json["difference"]) == ("5300.00", "5020.00", "280.00")
    replay = client.post(f"/api/v1/rfqs/{created['id']}/award", headers=key, json=own)
    assert replay.status_code == 201 and replay.json == done.json
    assert replay.headers.get("Idempotent-Replayed") == "true"
    again = client.post(f"/api/v1/rfqs/{created['id']}/award", headers=s["committee"], json={})
    assert again.status_code == 409

    rnd = db_session.get(BuyingRound, done.json["round_id"])
    assert rnd.state == "draft" and rnd.name == created["name"]
    local = rnd.closes_at.astimezone(BKK)
    assert (local.hour, local.minute) == (17, 0)
    assert (local.date() - datetime.now(BKK).date()).days == 7
    assert [(o.product_id, o.supplier_id, o.reference_price) for o in rnd.offers] == [
        (rice, a, Decimal("32.00")), (oil, a, Decimal("55.00"))]
    fees = db_session.query(RoundSupplierFee).filter_by(round_id=rnd.id).all()
    assert [(f.supplier_id, f.delivery_fee) for f in fees] == [(a, Decimal("300.00"))]
    # Quoting is over once awarded.
    late = client.put(f"/api/v1/quotes/{tokens[b]}", json={"lines": []})
    assert late.status_code == 409 and late.json["error"]["state"] == "awarded"
    shown = client.get(f"/api/v1/rfqs/{created['id']}", headers=s["committee"]).json
    assert shown["state"] == "awarded" and shown["round_id"] == rnd.id and shown["awarded_total"] == "5300.00"
    assert [i["awarded_supplier_id"] for i in shown["items"]] == [a, a]
    # What competition won this month: the committee chose dearer than the median; shown as it is.
    month = datetime.now(BKK).strftime("%Y-%m")
    won = client.get(f"/api/v1/summaries/{month}", headers=s["committee"]).json["competition"]
    assert (won["requests"], won["awarded_total"], won["won_vs_single_supplier"], won["won_vs_median"]) == (
        1, "5300.00", "0.00", "-90.00")
    assert [(p["median_amount"], p["won_vs_median"]) for p in won["products"]] == [
        ("2950.00", "-50.00"), ("1960.00", "-40.00")]
