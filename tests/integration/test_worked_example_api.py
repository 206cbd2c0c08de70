"""The README's worked example end to end over the API, combined by a real Celery worker on Redis,
every figure asserted: three groups that alone would each pay the list price reach the best tier."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from network.services import create_network
from tests.conftest import wait_for_job

pytestmark = pytest.mark.worker
PASSWORD = "worked-example-1"


def _token(client, email):
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json['token']}"}


def test_worked_example_over_the_api(worker_app, committed, celery_worker):
    tag = uuid.uuid4().hex[:6]
    create_network(f"เครือข่ายหนองคาย {tag}", f"admin-{tag}@example.org", PASSWORD)
    client = worker_app.test_client()
    admin = _token(client, f"admin-{tag}@example.org")
    assert client.patch("/api/v1/network", headers=admin, json={"fee_percent": "1"}).status_code == 200

    groups, leaders = {}, {}
    for key, name in [("a", "กลุ่มเกษตรกรบ้านหม้อ"), ("b", "สหกรณ์การเกษตรโพนพิสัย"), ("c", "กลุ่มแม่บ้านสร้างนางขาว")]:
        group = client.post("/api/v1/groups", headers=admin, json={"name": name, "kind": "farmers_group",
                                                                   "members": 40, "registered_poor_members": 10})
        assert group.status_code == 201
        groups[key] = group.json["id"]
        email = f"leader-{key}-{tag}@example.org"
        user = client.post("/api/v1/users", headers=admin, json={
            "email": email, "password": PASSWORD, "name": f"Leader {key}", "role": "leader", "group_id": groups[key]})
        assert user.status_code == 201
        leaders[key] = _token(client, email)
    committee_email = f"committee-{tag}@example.org"
    assert client.post("/api/v1/users", headers=admin, json={
        "email": committee_email, "password": PASSWORD, "name": "Treasurer", "role": "committee"}).status_code == 201
    committee = _token(client, committee_email)

    supplier = client.post("/api/v1/suppliers", headers=committee, json={"name": "หนองคายเกษตรภัณฑ์"}).json
    product = client.post("/api/v1/products", headers=committee,
                          json={"name": "ปุ๋ยยูเรีย 46-0-0", "unit": "กระสอบ", "category": "fertiliser"}).json
    closes_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    round_id = client.post("/api/v1/rounds", headers=committee, json={"name": "รอบปุ๋ย", "closes_at": closes_at}).json["id"]
    offer = client.post(f"/api/v1/rounds/{round_id}/offers", headers=committee, json={
        "product_id": product["id"], "supplier_id": supplier["id"], "pack_size": 5, "min_quantity": 0,
        "reference_price": "850.00", "delivery_fee": "500.00",
        "tiers": [{"min_quantity": 0, "unit_price": "820.00"}, {"min_quantity": 50, "unit_price": "780.00"},
                  {"min_quantity": 100, "unit_price": "750.00"}]})
    assert offer.status_code == 201
    offer_id = offer.json["id"]
    assert client.post(f"/api/v1/rounds/{round_id}/open", headers=committee).status_code == 200

    for key, quantity, tolerance in [("a", 18, 2), ("b", 42, 0), ("c", 37, 3)]:
        put = client.put(f"/api/v1/rounds/{round_id}/orders/{groups[key]}", headers=leaders[key],
                         json={"lines": [{"offer_id": offer_id, "quantity": quantity, "tolerance": tolerance}]})
        assert put.status_code == 200

    close = client.post(f"/api/v1/rounds/{round_id}/close", headers=committee)
    assert close.status_code == 202
    assert wait_for_job(worker_app, close.json["job_id"]) == "succeeded"
    assert client.get(f"/api/v1/jobs/{close.json['job_id']}", headers=committee).json["state"] == "succeeded"

    [po] = client.get(f"/api/v1/rounds/{round_id}/purchase-orders", headers=committee).json
    assert po["supplier_id"] == supplier["id"]
    assert po["lines"] == [{"offer_id": offer_id, "product_id": product["id"], "total_quantity": 97,
                            "ordered_quantity": 100, "packs": 20, "unit_price": "750.00", "tier_min_quantity": 100,
                            "received_quantity": None, "amount": "75000.00"}]
    assert (po["value"], po["delivery_fee"], po["network_fee"], po["total"]) == (
        "75000.00", "500.00", "750.00", "76250.00")

    expected = {"a": (18, 2, 19, "237.50", "14487.50", "1662.50"),
                "b": (42, 0, 42, "525.00", "32025.00", "3675.00"),
                "c": (37, 3, 39, "487.50", "29737.50", "3412.50")}
    for key, (quantity, tolerance, allocated, fee, amount, savings) in expected.items():
        body = client.get(f"/api/v1/rounds/{round_id}/orders/{groups[key]}", headers=leaders[key]).json
        assert body["lines"] == [{"offer_id": offer_id, "quantity": quantity, "tolerance": tolerance,
                                  "allocated": allocated, "unit_price": "750.00", "fee_share": fee,
                                  "amount": amount, "savings": savings}]
    invoices = client.get(f"/api/v1/rounds/{round_id}/invoices", headers=committee).json
    assert [(i["group_id"], i["total"], i["paid"], i["savings"]) for i in invoices] == [
        (groups["a"], "14487.50", "0.00", "1662.50"), (groups["b"], "32025.00", "0.00", "3675.00"),
        (groups["c"], "29737.50", "0.00", "3412.50")]

    # Only 90 sacks arrive: re-shared 17/38/35 at the same price; the 1,250.00 of fees follow the values.
    receipt = client.post(f"/api/v1/purchase-orders/{po['id']}/receipt", headers=committee,
                          json={"lines": [{"offer_id": offer_id, "received_quantity": 90}]})
    assert receipt.status_code == 200 and receipt.json["lines"][0]["received_quantity"] == 90
    after = {"a": (17, "236.11", "12986.11", "1463.89"), "b": (38, "527.78", "29027.78", "3272.22"),
             "c": (35, "486.11", "26736.11", "3013.89")}
    for key, (allocated, fee, amount, savings) in after.items():
        line = client.get(f"/api/v1/rounds/{round_id}/orders/{groups[key]}", headers=leaders[key]).json["lines"][0]
        assert (line["allocated"], line["unit_price"], line["fee_share"], line["amount"], line["savings"]) == (
            allocated, "750.00", fee, amount, savings)
    assert client.get(f"/api/v1/rounds/{round_id}", headers=committee).json["state"] == "delivered"

    invoices = client.get(f"/api/v1/rounds/{round_id}/invoices", headers=committee).json
    over = client.post(f"/api/v1/invoices/{invoices[0]['id']}/payments", headers=committee,
                       json={"amount": "12986.12"})
    assert over.status_code == 422 and "amount" in over.json["error"]["fields"]
    for invoice in invoices:
        paid = client.post(f"/api/v1/invoices/{invoice['id']}/payments", headers=committee,
                           json={"amount": invoice["total"]})
        assert paid.status_code == 201
    assert client.get(f"/api/v1/rounds/{round_id}", headers=committee).json["state"] == "settled"
