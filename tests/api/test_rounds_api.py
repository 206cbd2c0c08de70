"""Over the API alone: tokens, a round with tiered offers, two leaders ordering, refusals, close."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import time_machine

from tests.conftest import PASSWORD


def _token(client, email):
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def _setup(client, make_network, make_group, make_user):
    network = make_network()
    admin = make_user(network, "admin")
    committee = make_user(network, "committee")
    g1, g2 = make_group(network, name="กลุ่มออมทรัพย์บ้านโพธิ์"), make_group(network, name="สหกรณ์การเกษตรท่าบ่อ")
    leader1, leader2 = make_user(network, "leader", g1), make_user(network, "leader", g2)
    return network, admin, committee, g1, g2, leader1, leader2


def test_walk_through_round_over_the_api(client, make_network, make_group, make_user):
    _, admin, committee, g1, g2, leader1, leader2 = _setup(client, make_network, make_group, make_user)
    admin_h, committee_h = _token(client, admin.email), _token(client, committee.email)
    l1, l2 = _token(client, leader1.email), _token(client, leader2.email)

    supplier = client.post("/api/v1/suppliers", json={"name": "ร้านปุ๋ยหนองคาย", "phone": "042-411-000"},
                           headers=admin_h)
    assert supplier.status_code == 201
    product = client.post("/api/v1/products", json={"name": "ปุ๋ย 16-16-8", "unit": "กระสอบ",
                                                    "category": "fertiliser"}, headers=admin_h)
    assert product.status_code == 201
    closes_at = (datetime.now(UTC) + timedelta(days=2)).astimezone(timezone(timedelta(hours=7)))
    rnd = client.post("/api/v1/rounds", json={"name": "รอบปุ๋ย ธ.ค.", "closes_at": closes_at.isoformat()},
                      headers=committee_h)
    assert rnd.status_code == 201 and rnd.json["state"] == "draft"
    round_id = rnd.json["id"]
    offer = client.post(f"/api/v1/rounds/{round_id}/offers", headers=committee_h, json={
        "product_id": product.json["id"], "supplier_id": supplier.json["id"], "pack_size": 1, "min_quantity": 0,
        "reference_price": "820.00", "delivery_fee": "300.00",
        "tiers": [{"min_quantity": 0, "unit_price": "800.00"}, {"min_quantity": 40, "unit_price": "760.00"}]})
    assert offer.status_code == 201, offer.json
    assert offer.json["tiers"][1] == {"min_quantity": 40, "unit_price": "760.00"}
    opened = client.post(f"/api/v1/rounds/{round_id}/open", headers=committee_h)
    assert opened.status_code == 200 and opened.json["state"] == "open"

    offer_id = offer.json["id"]
    put1 = client.put(f"/api/v1/rounds/{round_id}/orders/{g1.id}", headers=l1,
                      json={"lines": [{"offer_id": offer_id, "quantity": 10, "tolerance": 0}]})
    assert put1.status_code == 200
    put2 = client.put(f"/api/v1/rounds/{round_id}/orders/{g2.id}", headers=l2,
                      json={"lines": [{"offer_id": offer_id, "quantity": 25, "tolerance": 2}]})
    assert put2.status_code == 200
    # Replacing the order keeps one order with the new lines.
    put1b = client.put(f"/api/v1/rounds/{round_id}/orders/{g1.id}", headers=l1,
                       json={"lines": [{"offer_id": offer_id, "quantity": 18, "tolerance": 1}]})
    assert put1b.status_code == 200
    got = client.get(f"/api/v1/rounds/{round_id}/orders/{g1.id}", headers=l1).json
    assert got["lines"] == [{"offer_id": offer_id, "quantity": 18, "tolerance": 1, "allocated": None,
                             "unit_price": None, "fee_share": None, "amount": None, "savings": None}]

    # A leader orders only for their own group, and cannot read another group's order.
    other = client.put(f"/api/v1/rounds/{round_id}/orders/{g2.id}", headers=l1,
                       json={"lines": [{"offer_id": offer_id, "quantity": 1, "tolerance": 0}]})
    assert other.status_code == 403 and other.json["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/rounds/{round_id}/orders/{g2.id}", headers=l1).status_code == 403
    assert client.get(f"/api/v1/rounds/{round_id}/orders/{g2.id}", headers=l2).json["lines"][0]["quantity"] == 25

    closed = client.post(f"/api/v1/rounds/{round_id}/close", headers=committee_h)
    assert closed.status_code == 202 and closed.json["job_id"]
    job = client.get(f"/api/v1/jobs/{closed.json['job_id']}", headers=committee_h)
    assert job.status_code == 200 and job.json["state"] == "pending"
    # Closing again hands back the same job rather than starting a second combine.
    assert client.post(f"/api/v1/rounds/{round_id}/close", headers=committee_h).json["job_id"] == \
        closed.json["job_id"]
    late = client.put(f"/api/v1/rounds/{round_id}/orders/{g1.id}", headers=l1,
                      json={"lines": [{"offer_id": offer_id, "quantity": 99, "tolerance": 0}]})
    assert late.status_code == 409 and late.json["error"]["code"] == "deadline_passed"
    assert client.get(f"/api/v1/rounds/{round_id}/orders/{g1.id}", headers=l1).json["lines"][0]["quantity"] == 18


def test_write_after_the_deadline_is_refused_and_changes_nothing(client, make_network, make_group, make_user,
                                                                make_round, make_offer, token_for):
    network = make_network()
    group = make_group(network)
    leader = make_user(network, "leader", group)
    rnd = make_round(network, closes_in=timedelta(hours=1))
    offer = make_offer(rnd)
    headers = token_for(leader)
    url = f"/api/v1/rounds/{rnd.id}/orders/{group.id}"
    assert client.put(url, headers=headers, json={"lines": [{"offer_id": offer.id, "quantity": 5}]}).status_code == 200
    with time_machine.travel(rnd.closes_at + timedelta(seconds=1), tick=False):
        late = client.put(url, headers=headers, json={"lines": [{"offer_id": offer.id, "quantity": 50}]})
    assert late.status_code == 409
    assert client.get(url, headers=headers).json["lines"][0]["quantity"] == 5


def test_unauthenticated_and_bad_tokens(client, make_network, make_user):
    assert client.get("/api/v1/rounds").status_code == 401
    body = client.get("/api/v1/rounds", headers={"Authorization": "Bearer nope"}).json
    assert body["error"]["code"] == "not_authenticated"
    network = make_network()
    user = make_user(network, "admin")
    wrong = client.post("/api/v1/tokens", json={"email": user.email, "password": "wrong-password"})
    unknown = client.post("/api/v1/tokens", json={"email": "nobody@example.org", "password": "wrong-password"})
    # The same answer whether or not the account exists.
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_another_network_sees_nothing(client, make_network, make_group, make_user, make_round, make_offer,
                                      token_for):
    mine, theirs = make_network(), make_network()
    rnd = make_round(theirs)
    offer = make_offer(rnd)
    their_group = make_group(theirs)
    admin = token_for(make_user(mine, "admin"))
    committee = token_for(make_user(mine, "committee"))
    assert client.get(f"/api/v1/rounds/{rnd.id}", headers=admin).status_code == 404
    assert client.get("/api/v1/rounds", headers=admin).json == []
    assert client.get("/api/v1/groups", headers=admin).json == []
    assert client.get(f"/api/v1/groups/{their_group.id}", headers=admin).status_code == 404
    assert client.post(f"/api/v1/rounds/{rnd.id}/close", headers=committee).status_code == 404
    assert client.post(f"/api/v1/rounds/{rnd.id}/offers", headers=committee, json={
        "product_id": offer.product_id, "supplier_id": offer.supplier_id, "pack_size": 1,
        "reference_price": "1.00", "tiers": [{"min_quantity": 0, "unit_price": "1.00"}]}).status_code == 404


def test_an_offer_sent_twice_with_one_key_is_added_once(client, db_session, make_network, make_user, make_round,
                                                        make_offer, token_for):
    from sqlalchemy import func, select

    from orders.models import Offer

    network = make_network()
    rnd = make_round(network, state="draft")
    template = make_offer(rnd)
    headers = {**token_for(make_user(network, "committee")), "Idempotency-Key": "offer-urea-1"}
    body = {"product_id": template.product_id, "supplier_id": template.supplier_id, "pack_size": 5,
            "reference_price": "850.00", "tiers": [{"min_quantity": 0, "unit_price": "820.00"}]}
    first = client.post(f"/api/v1/rounds/{rnd.id}/offers", headers=headers, json=body)
    again = client.post(f"/api/v1/rounds/{rnd.id}/offers", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert db_session.scalar(select(func.count()).select_from(Offer).where(Offer.round_id == rnd.id)) == 2
    changed = client.post(f"/api/v1/rounds/{rnd.id}/offers", headers=headers, json={**body, "pack_size": 10})
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json["error"]["fields"]
