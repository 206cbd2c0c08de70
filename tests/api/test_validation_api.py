"""Bad input gets 422 naming the field, and nothing is written."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from orders.models import Offer, OrderLine


@pytest.fixture
def committee_round(make_network, make_user, make_round, make_offer, make_group, token_for):
    network = make_network()
    committee = make_user(network, "committee")
    rnd = make_round(network, state="draft")
    offer = make_offer(rnd)
    group = make_group(network)
    leader = make_user(network, "leader", group)
    return {"network": network, "round": rnd, "offer": offer, "h": token_for(committee), "group": group,
            "leader": token_for(leader), "admin": token_for(make_user(network, "admin"))}


def _offer(ctx, **changes):
    body = {"product_id": ctx["offer"].product_id, "supplier_id": ctx["offer"].supplier_id, "pack_size": 10,
            "min_quantity": 0, "reference_price": "100.00", "delivery_fee": "0",
            "tiers": [{"min_quantity": 0, "unit_price": "90.00"}, {"min_quantity": 50, "unit_price": "85.50"}]}
    body.update(changes)
    return body


@pytest.mark.parametrize("changes, field", [
    ({"pack_size": 0}, "pack_size"),
    ({"pack_size": 2.5}, "pack_size"),
    ({"min_quantity": -1}, "min_quantity"),
    ({"reference_price": "12.345"}, "reference_price"),
    ({"reference_price": "-1"}, "reference_price"),
    ({"reference_price": "NaN"}, "reference_price"),
    ({"delivery_fee": "abc"}, "delivery_fee"),
    ({"tiers": []}, "tiers"),
    ({"tiers": [{"min_quantity": 5, "unit_price": "90"}]}, "tiers"),
    ({"tiers": [{"min_quantity": 0, "unit_price": "90"}, {"min_quantity": 0, "unit_price": "80"}]}, "tiers"),
    ({"tiers": [{"min_quantity": 0, "unit_price": "90"}, {"min_quantity": 10, "unit_price": "95"}]}, "tiers"),
    ({"tiers": [{"min_quantity": 0, "unit_price": "90.001"}]}, "tiers"),
    ({"product_id": 999999}, "product_id"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_offer_is_refused_naming_the_field(client, db_session, committee_round, changes, field):
    before = db_session.scalar(select(func.count()).select_from(Offer))
    response = client.post(f"/api/v1/rounds/{committee_round['round'].id}/offers", headers=committee_round["h"],
                           json=_offer(committee_round, **changes))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert response.json["error"]["code"] == "invalid"
    assert db_session.scalar(select(func.count()).select_from(Offer)) == before


def test_malformed_json_is_a_400(client, committee_round):
    response = client.post(f"/api/v1/rounds/{committee_round['round'].id}/offers", headers={
        **committee_round["h"], "Content-Type": "application/json"}, data="{not json")
    assert response.status_code in (400, 422)
    assert "error" in response.json


@pytest.mark.parametrize("lines, field", [
    ([{"offer_id": "x", "quantity": 1}], "lines"),
    ([{"offer_id": 1, "quantity": 0}], "lines"),
    ([{"offer_id": 1, "quantity": 1, "tolerance": -1}], "lines"),
    ([{"offer_id": 1, "quantity": 1.5}], "lines"),
])
def test_bad_order_lines_are_refused(client, db_session, committee_round, lines, field):
    rnd = committee_round["round"]
    rnd.state = "open"
    db_session.commit()
    response = client.put(f"/api/v1/rounds/{rnd.id}/orders/{committee_round['group'].id}",
                          headers=committee_round["leader"], json={"lines": lines})
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert db_session.scalar(select(func.count()).select_from(OrderLine)) == 0


def test_order_naming_an_offer_of_another_round_writes_nothing(client, db_session, committee_round, make_round,
                                                              make_offer):
    rnd = committee_round["round"]
    rnd.state = "open"
    db_session.commit()
    other_offer = make_offer(make_round(committee_round["network"]))
    response = client.put(f"/api/v1/rounds/{rnd.id}/orders/{committee_round['group'].id}",
                          headers=committee_round["leader"],
                          json={"lines": [{"offer_id": committee_round["offer"].id, "quantity": 3},
                                          {"offer_id": other_offer.id, "quantity": 3}]})
    assert response.status_code == 422
    assert response.json["error"]["fields"]["lines"]["1"]["offer_id"]
    assert db_session.scalar(select(func.count()).select_from(OrderLine)) == 0


def test_duplicate_offer_in_one_order_is_refused(client, committee_round, db_session):
    rnd = committee_round["round"]
    rnd.state = "open"
    db_session.commit()
    offer_id = committee_round["offer"].id
    response = client.put(f"/api/v1/rounds/{rnd.id}/orders/{committee_round['group'].id}",
                          headers=committee_round["leader"],
                          json={"lines": [{"offer_id": offer_id, "quantity": 1}, {"offer_id": offer_id, "quantity": 2}]})
    assert response.status_code == 422


@pytest.mark.parametrize("body, field", [
    ({"name": "R"}, "closes_at"),
    ({"name": "R", "closes_at": "2030-01-01T00:00:00"}, "closes_at"),
    ({"name": "", "closes_at": "2030-01-01T00:00:00+07:00"}, "name"),
    ({"name": "R", "closes_at": "2001-01-01T00:00:00+07:00"}, "closes_at"),
])
def test_bad_round_is_refused(client, committee_round, body, field):
    response = client.post("/api/v1/rounds", headers=committee_round["h"], json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-email", "password": "long-enough", "name": "A", "role": "leader", "group_id": 1}, "email"),
    ({"email": "a@b.org", "password": "short", "name": "A", "role": "committee"}, "password"),
    ({"email": "a@b.org", "password": "long-enough", "name": "A", "role": "king"}, "role"),
    ({"email": "a@b.org", "password": "long-enough", "name": "A", "role": "leader"}, "group_id"),
    ({"email": "a@b.org", "password": "long-enough", "name": "A", "role": "leader", "group_id": 999999},
     "group_id"),
])
def test_bad_user_is_refused(client, committee_round, body, field):
    response = client.post("/api/v1/users", headers=committee_round["admin"], json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_group_counts_are_checked(client, committee_round):
    h = committee_round["admin"]
    bad = client.post("/api/v1/groups", headers=h, json={"name": "G", "members": 5, "registered_poor_members": 9})
    assert bad.status_code == 422 and "registered_poor_members" in bad.json["error"]["fields"]
    gid = committee_round["group"].id
    patch = client.patch(f"/api/v1/groups/{gid}", headers=h, json={"registered_poor_members": 10_000})
    assert patch.status_code == 422
    ok = client.patch(f"/api/v1/groups/{gid}", headers=h, json={"members": 40, "registered_poor_members": 12})
    assert ok.status_code == 200 and ok.json["registered_poor_members"] == 12


def test_roles_are_enforced_for_setup(client, committee_round):
    leader = committee_round["leader"]
    assert client.post("/api/v1/groups", headers=leader, json={"name": "X"}).status_code == 403
    assert client.get("/api/v1/users", headers=leader).status_code == 403
    assert client.post("/api/v1/suppliers", headers=leader, json={"name": "X"}).status_code == 403
    assert client.post("/api/v1/rounds", headers=leader, json={
        "name": "R", "closes_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}).status_code == 403
    assert client.patch("/api/v1/network", headers=committee_round["h"], json={"fee_percent": "2"}).status_code == 403
    ok = client.patch("/api/v1/network", headers=committee_round["admin"], json={"fee_percent": "2.5"})
    assert ok.status_code == 200 and ok.json["fee_percent"] == "2.50"


def test_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/tokens", "/api/v1/rounds/{round_id}/orders/{group_id}", "/api/v1/jobs/{job_id}",
                 "/api/v1/rounds/{round_id}/close", "/api/v1/users", "/api/v1/groups/{group_id}"):
        assert path in spec["paths"], path
