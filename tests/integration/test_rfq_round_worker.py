"""A request for quotation end to end over the API, combined by a real Celery worker on Redis: the
committee asks, three suppliers quote by their links, the comparison, the award, the round opened,
the groups order the expected quantities, combined, and the purchase orders cost what the comparison
said (the network fee of 1 % on top, accounted for)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from network.services import create_network
from tests.conftest import wait_for_job

pytestmark = pytest.mark.worker
PASSWORD = "rfq-example-1"
D = Decimal


def _token(client, email):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json['token']}"}


def _line(product_id, pack, minimum, *tiers):  # type: ignore[no-untyped-def]
    return {"product_id": product_id, "pack_size": pack, "min_quantity": minimum,
            "tiers": [{"min_quantity": m, "unit_price": p} for m, p in tiers]}


def test_request_quotes_award_round_purchase_orders(worker_app, committed, celery_worker):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    create_network(f"เครือข่ายอุดร {tag}", f"admin-{tag}@example.org", PASSWORD)
    client = worker_app.test_client()
    admin = _token(client, f"admin-{tag}@example.org")
    assert client.patch("/api/v1/network", headers=admin, json={"fee_percent": "1"}).status_code == 200
    assert client.post("/api/v1/users", headers=admin, json={
        "email": f"committee-{tag}@example.org", "password": PASSWORD, "name": "ประธาน",
        "role": "committee"}).status_code == 201
    committee = _token(client, f"committee-{tag}@example.org")
    groups, leaders = [], []
    for n in range(3):
        group = client.post("/api/v1/groups", headers=admin, json={"name": f"กลุ่ม {n} {tag}", "members": 30,
                                                                   "registered_poor_members": 6}).json
        groups.append(group["id"])
        email = f"leader-{n}-{tag}@example.org"
        assert client.post("/api/v1/users", headers=admin, json={
            "email": email, "password": PASSWORD, "name": f"ผู้นำ {n}", "role": "leader",
            "group_id": group["id"]}).status_code == 201
        leaders.append(_token(client, email))
    a, b, c = (client.post("/api/v1/suppliers", headers=committee, json={"name": f"{n} {tag}"}).json["id"]
               for n in ("ร้านเอ", "ร้านบี", "ร้านซี"))
    rice, oil, urea = (client.post("/api/v1/products", headers=committee, json={"name": name, "unit": unit}).json["id"]
                       for name, unit in (("ข้าวสาร", "กก."), ("น้ำมันพืช", "ขวด"), ("ปุ๋ยยูเรีย", "กระสอบ")))

    # 1. The committee asks the three suppliers.
    closes_at = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    rfq = client.post("/api/v1/rfqs", headers=committee, json={
        "name": "ของใช้ประจำเดือน", "closes_at": closes_at, "supplier_ids": [a, b, c],
        "items": [{"product_id": rice, "quantity": 100, "reference_price": "32.00"},
                  {"product_id": oil, "quantity": 40, "reference_price": "55.00"},
                  {"product_id": urea, "quantity": 30, "reference_price": "850.00"}]})
    assert rfq.status_code == 201, rfq.json
    links = {v["supplier_id"]: v["token"] for v in rfq.json["invitations"]}

    # 2. Each supplier quotes by its own link, without an account.
    quotes = {
        a: {"delivery_fee": "300.00", "lines": [_line(rice, 1, 0, (0, "30.00")), _line(oil, 1, 0, (0, "50.00")),
                                                _line(urea, 1, 0, (0, "800.00"))]},
        b: {"delivery_fee": "100.00", "lines": [_line(rice, 1, 0, (0, "29.00"), (100, "28.00")),
                                                _line(urea, 5, 20, (0, "790.00"), (30, "760.00"))]},
        c: {"delivery_fee": "100.00", "lines": [_line(oil, 12, 0, (0, "47.00"), (48, "40.00"))]},
    }
    for supplier_id, body in quotes.items():
        put = client.put(f"/api/v1/quotes/{links[supplier_id]}", json=body)
        assert put.status_code == 200, put.json

    # 3. The comparison: B (rice 100 x 28, urea 30 x 760) and C (oil 48 x 40) with both fees: 27,720.00;
    # A alone, the only supplier quoting everything: 3,000 + 2,000 + 24,000 + 300 = 29,300.00.
    comparison = client.get(f"/api/v1/rfqs/{rfq.json['id']}/comparison", headers=committee).json
    best = comparison["best"]
    assert (best["total"], best["delivery_fees"]) == ("27720.00", "200.00")
    expected_lines = [(rice, b, 100, "28.00", "2800.00"), (oil, c, 48, "40.00", "1920.00"),
                      (urea, b, 30, "760.00", "22800.00")]
    assert [(ln["product_id"], ln["supplier_id"], ln["bought_quantity"], ln["unit_price"], ln["amount"])
            for ln in best["lines"]] == expected_lines
    assert comparison["best_single_supplier"]["supplier_id"] == a
    assert comparison["best_single_supplier"]["total"] == "29300.00"
    assert comparison["best_single_supplier"]["saving_of_best"] == "1580.00"

    # 4. The award creates the draft round, which the committee opens.
    awarded = client.post(f"/api/v1/rfqs/{rfq.json['id']}/award", headers=committee, json={})
    assert awarded.status_code == 201, awarded.json
    assert awarded.json["total"] == "27720.00"
    round_id = awarded.json["round_id"]
    rnd = client.get(f"/api/v1/rounds/{round_id}", headers=committee).json
    assert (rnd["name"], rnd["state"]) == ("ของใช้ประจำเดือน", "draft")
    assert rnd["supplier_fees"] == [{"supplier_id": b, "delivery_fee": "100.00"},
                                    {"supplier_id": c, "delivery_fee": "100.00"}]
    offers = client.get(f"/api/v1/rounds/{round_id}/offers", headers=committee).json
    by_product = {o["product_id"]: o for o in offers}
    assert {p: (o["supplier_id"], o["pack_size"], o["min_quantity"], o["reference_price"], o["delivery_fee"])
            for p, o in by_product.items()} == {rice: (b, 1, 0, "32.00", "0.00"), oil: (c, 12, 0, "55.00", "0.00"),
                                                urea: (b, 5, 20, "850.00", "0.00")}
    assert by_product[oil]["tiers"] == [{"min_quantity": 0, "unit_price": "47.00"},
                                        {"min_quantity": 48, "unit_price": "40.00"}]
    assert client.post(f"/api/v1/rounds/{round_id}/open", headers=committee).status_code == 200

    # 5. The groups order the expected quantities (oil with the tolerance to fill the last case of 12).
    orders = [{rice: (40, 0), oil: (15, 3), urea: (12, 0)}, {rice: (35, 0), oil: (15, 3), urea: (10, 0)},
              {rice: (25, 0), oil: (10, 2), urea: (8, 0)}]
    for group_id, headers, lines in zip(groups, leaders, orders):
        put = client.put(f"/api/v1/rounds/{round_id}/orders/{group_id}", headers=headers, json={"lines": [
            {"offer_id": by_product[p]["id"], "quantity": q, "tolerance": t} for p, (q, t) in lines.items()]})
        assert put.status_code == 200, put.json

    # 6. Combined by the worker.
    close = client.post(f"/api/v1/rounds/{round_id}/close", headers=committee)
    assert close.status_code == 202
    assert wait_for_job(worker_app, close.json["job_id"]) == "succeeded"

    # 7. The purchase orders are the comparison's figures, the network fee (1 % of the value) on top.
    pos = {po["supplier_id"]: po for po in client.get(f"/api/v1/rounds/{round_id}/purchase-orders",
                                                      headers=committee).json}
    assert set(pos) == {b, c}
    for product_id, supplier_id, bought, unit_price, amount in expected_lines:
        [line] = [ln for ln in pos[supplier_id]["lines"] if ln["product_id"] == product_id]
        assert (line["ordered_quantity"], line["unit_price"], line["amount"]) == (bought, unit_price, amount)
    fees = {f["supplier_id"]: D(f["delivery_fee"]) for f in best["supplier_fees"]}
    for supplier_id, po in pos.items():
        comparison_amounts = sum(D(ln["amount"]) for ln in best["lines"] if ln["supplier_id"] == supplier_id)
        assert D(po["value"]) == comparison_amounts
        assert D(po["delivery_fee"]) == fees[supplier_id]
        assert D(po["network_fee"]) == (D(po["value"]) / 100).quantize(D("0.01"))
    assert sum(D(po["value"]) + D(po["delivery_fee"]) for po in pos.values()) == D(best["total"])
    assert sum(D(po["total"]) - D(po["network_fee"]) for po in pos.values()) == D("27720.00")
    # And the groups pay exactly that between them.
    invoices = client.get(f"/api/v1/rounds/{round_id}/invoices", headers=committee).json
    assert sum(D(i["total"]) for i in invoices) == sum(D(po["total"]) for po in pos.values())

    # 8. The monthly summary shows what competition won this month (the award's month, Bangkok time).
    month = datetime.now(timezone(timedelta(hours=7))).strftime("%Y-%m")
    summary = client.get(f"/api/v1/summaries/{month}", headers=committee)
    assert summary.status_code == 200, summary.json
    won = summary.json["competition"]
    assert (won["requests"], won["awarded_total"], won["single_supplier_total"]) == (1, "27720.00", "29300.00")
    # Medians: rice (3,000 + 2,800) / 2, oil (2,000 + 1,920) / 2, urea (24,000 + 22,800) / 2.
    assert [(p["product_id"], p["median_amount"], p["won_vs_median"], p["won_vs_single_supplier"])
            for p in won["products"]] == [(rice, "2900.00", "100.00", "200.00"), (oil, "1960.00", "40.00", "80.00"),
                                          (urea, "23400.00", "600.00", "1200.00")]
    assert (won["won_vs_single_supplier"], won["won_vs_median"]) == ("1580.00", "740.00")
