"""Placing an order: few statements, exact replace semantics, and two writers of one order never mix."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from core.auth import hash_token, new_token
from core.models import AuditEvent
from network.models import ApiToken, Group, Network, User
from orders.models import BuyingRound, GroupOrder, Offer, OrderLine, PriceTier, Product, Supplier
from tests.integration.test_query_counts import count_statements, real_statements

MAX_STATEMENTS = 6


def _round(make_network: Any, make_group: Any, make_user: Any, make_round: Any, make_offer: Any,
           offers: int = 3) -> tuple[Any, Any, Any, list[Any]]:
    network = make_network()
    group = make_group(network)
    leader = make_user(network, "leader", group)
    rnd = make_round(network, state="open")
    return rnd, group, leader, [make_offer(rnd) for _ in range(offers)]


def _lines(client: Any, rnd: Any, group: Any, headers: dict[str, str]) -> dict[int, tuple[int, int]]:
    response = client.get(f"/api/v1/rounds/{rnd.id}/orders/{group.id}", headers=headers)
    assert response.status_code == 200
    return {x["offer_id"]: (x["quantity"], x["tolerance"]) for x in response.json["lines"]}


def test_put_order_issues_at_most_six_statements(client, db_session, make_network, make_group, make_user,
                                                  make_round, make_offer, token_for):
    rnd, group, leader, offers = _round(make_network, make_group, make_user, make_round, make_offer)
    headers = token_for(leader)
    path = f"/api/v1/rounds/{rnd.id}/orders/{group.id}"
    body = {"lines": [{"offer_id": o.id, "quantity": 5 + i, "tolerance": i} for i, o in enumerate(offers)]}
    counted = {}
    for name, extra in (("first order", {}), ("replace", {}), ("with Idempotency-Key", {"Idempotency-Key": "k1"})):
        with count_statements() as statements:
            response = client.put(path, json=body, headers={**headers, **extra})
        assert response.status_code == 200, response.json
        counted[name] = len(real_statements(statements))
    assert all(n <= MAX_STATEMENTS for n in counted.values()), counted
    # The replay of the same key answers from the stored record.
    replay = client.put(path, json=body, headers={**headers, "Idempotency-Key": "k1"})
    assert replay.headers.get("Idempotent-Replayed") == "true"


def test_put_replaces_lines_keeps_placed_at_and_audits(client, db_session, make_network, make_group, make_user,
                                                        make_round, make_offer, token_for):
    rnd, group, leader, (a, b, c) = _round(make_network, make_group, make_user, make_round, make_offer)
    headers = token_for(leader)
    path = f"/api/v1/rounds/{rnd.id}/orders/{group.id}"
    first = client.put(path, json={"lines": [{"offer_id": a.id, "quantity": 3}, {"offer_id": b.id, "quantity": 4,
                                                                                   "tolerance": 1}]}, headers=headers)
    assert first.status_code == 200
    order = db_session.scalar(select(GroupOrder).where(GroupOrder.round_id == rnd.id, GroupOrder.group_id == group.id))
    placed_b = db_session.scalar(select(OrderLine.placed_at).where(OrderLine.group_order_id == order.id,
                                                                   OrderLine.offer_id == b.id))
    second = client.put(path, json={"lines": [{"offer_id": c.id, "quantity": 9}, {"offer_id": b.id, "quantity": 6,
                                                                                    "tolerance": 2}]}, headers=headers)
    assert second.status_code == 200
    assert [(x["offer_id"], x["quantity"], x["tolerance"]) for x in second.json["lines"]] == \
        sorted([(b.id, 6, 2), (c.id, 9, 0)])
    assert _lines(client, rnd, group, headers) == {b.id: (6, 2), c.id: (9, 0)}
    db_session.expire_all()
    rows = dict(db_session.execute(select(OrderLine.offer_id, OrderLine.placed_at)
                                   .where(OrderLine.group_order_id == order.id)).all())
    assert rows[b.id] == placed_b, "a line changed later keeps its first placed_at"
    assert rows[c.id] > placed_b
    events = list(db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "order.replace", AuditEvent.subject_id == str(order.id)).order_by(AuditEvent.id)))
    assert [e.before for e in events] == [
        [], sorted([{"offer_id": a.id, "quantity": 3, "tolerance": 0}, {"offer_id": b.id, "quantity": 4,
                                                                        "tolerance": 1}], key=lambda x: x["offer_id"])]
    assert events[1].after == [{"offer_id": c.id, "quantity": 9, "tolerance": 0},
                               {"offer_id": b.id, "quantity": 6, "tolerance": 2}]
    assert events[1].user_id == leader.id and events[1].network_id == leader.network_id
    # An empty order never withdraws (issue 22); withdrawing is its own action, DELETE.
    assert client.put(path, json={"lines": []}, headers=headers).status_code == 422
    assert len(_lines(client, rnd, group, headers)) == 2
    assert client.delete(path, headers=headers).status_code == 200
    assert _lines(client, rnd, group, headers) == {}


def test_put_refused_after_close_writes_nothing(client, db_session, make_network, make_group, make_user,
                                                make_round, make_offer, token_for):
    rnd, group, leader, (a, *_) = _round(make_network, make_group, make_user, make_round, make_offer)
    headers = token_for(leader)
    path = f"/api/v1/rounds/{rnd.id}/orders/{group.id}"
    assert client.put(path, json={"lines": [{"offer_id": a.id, "quantity": 3}]}, headers=headers).status_code == 200
    rnd.closes_at = datetime.now(UTC) - timedelta(seconds=1)
    db_session.commit()
    refused = client.put(path, json={"lines": [{"offer_id": a.id, "quantity": 8}]}, headers=headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "deadline_passed"
    db_session.expire_all()
    assert db_session.scalar(select(OrderLine.quantity).join(GroupOrder).where(GroupOrder.round_id == rnd.id)) == 3


def _seed_one_group(session: Any, offers: int) -> tuple[int, int, list[int], dict[str, str]]:
    network = Network(name=f"Two phones {uuid.uuid4().hex[:6]}", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    session.add(network)
    session.flush()
    supplier, product = Supplier(network_id=network.id, name="S"), Product(network_id=network.id, name="P", unit="kg")
    rnd = BuyingRound(network_id=network.id, name="R", state="open",
                      closes_at=datetime.now(UTC) + timedelta(days=1))
    session.add_all([supplier, product, rnd])
    session.flush()
    offer_ids = []
    for _ in range(offers):
        offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id, pack_size=1, min_quantity=0,
                      reference_price=Decimal("10"), delivery_fee=Decimal("0"))
        offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("9"))]
        session.add(offer)
        session.flush()
        offer_ids.append(offer.id)
    group = Group(network_id=network.id, name="G", members=1, registered_poor_members=0)
    session.add(group)
    session.flush()
    leader = User(network_id=network.id, email=f"l-{uuid.uuid4().hex[:6]}@example.org", name="L", role="leader",
                  group_id=group.id, password_hash=generate_password_hash("x"), session_version=0, active=True)
    session.add(leader)
    session.flush()
    token = new_token()
    session.add(ApiToken(user_id=leader.id, token_hash=hash_token(token)))
    session.commit()
    return rnd.id, group.id, offer_ids, {"Authorization": f"Bearer {token}"}


def test_two_phones_replacing_one_order_never_mix(worker_app, committed):
    """Each PUT names a different set of offers; whatever the interleaving, the stored order is
    exactly one of the orders sent (the last acknowledged), never lines of two."""
    round_id, group_id, offer_ids, headers = _seed_one_group(committed, 6)
    path = f"/api/v1/rounds/{round_id}/orders/{group_id}"
    sets = [offer_ids[:3], offer_ids[3:], offer_ids[1:5]]
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(3)

    def phone(n: int) -> None:
        client = worker_app.test_client()
        start.wait()
        for i in range(40):
            chosen = sets[(n + i) % len(sets)]
            response = client.put(path, headers=headers,
                                  json={"lines": [{"offer_id": o, "quantity": 1 + n * 100 + i} for o in chosen]})
            with lock:
                answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=phone, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert [status for status, _ in answers] == [200] * 120, [a for a in answers if a[0] != 200][:3]
    committed.expire_all()
    stored = {(o, q) for o, q in committed.execute(
        select(OrderLine.offer_id, OrderLine.quantity).join(GroupOrder)
        .where(GroupOrder.round_id == round_id, GroupOrder.group_id == group_id)).all()}
    sent = [{(x["offer_id"], x["quantity"]) for x in body["lines"]} for _, body in answers]
    assert stored in sent, f"the stored order {sorted(stored)} is none of the orders sent"
    # Every line of one request carries the same quantity: a mix of two requests would show two.
    assert len({q for _, q in stored}) == 1


def test_a_put_waiting_for_another_write_of_the_order_sees_its_lines(worker_app, committed):
    """Deterministic form of the race above: another writer of the same order (here a connection
    doing what a PUT does: the round's gate, the order's lock, the order row, a new line) is in
    progress when a PUT arrives. The PUT waits, then replaces the order as that writer left it: the
    line the other wrote and this PUT does not name is gone."""
    import psycopg

    from core.db import db
    from orders.services import _GROUP_LOCK, _ROUND_GATE

    round_id, group_id, offer_ids, headers = _seed_one_group(committed, 3)
    path = f"/api/v1/rounds/{round_id}/orders/{group_id}"
    client = worker_app.test_client()
    assert client.put(path, headers=headers, json={"lines": [{"offer_id": offer_ids[0], "quantity": 1}]}).status_code \
        == 200
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    answers: list[Any] = []
    with psycopg.connect(url) as other:
        other.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", (_ROUND_GATE, round_id))
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_GROUP_LOCK, group_id))
        order_id = other.execute("UPDATE group_orders SET updated_at = now() WHERE round_id = %s AND group_id = %s "
                                 "RETURNING id", (round_id, group_id)).fetchone()[0]
        other.execute("INSERT INTO order_lines (group_order_id, offer_id, quantity, tolerance, placed_at) "
                      "VALUES (%s, %s, 2, 0, now())", (order_id, offer_ids[1]))

        def put() -> None:
            answers.append(worker_app.test_client().put(
                path, headers=headers, json={"lines": [{"offer_id": offer_ids[2], "quantity": 3}]}).status_code)

        thread = threading.Thread(target=put)
        thread.start()
        thread.join(timeout=1.0)
        waited = thread.is_alive()
        other.commit()
    thread.join(timeout=30)
    assert not thread.is_alive() and answers == [200]
    assert waited, "the PUT did not wait for the other write of the same order"
    committed.expire_all()
    stored = dict(committed.execute(
        select(OrderLine.offer_id, OrderLine.quantity).join(GroupOrder)
        .where(GroupOrder.round_id == round_id, GroupOrder.group_id == group_id)).all())
    assert stored == {offer_ids[2]: 3}
