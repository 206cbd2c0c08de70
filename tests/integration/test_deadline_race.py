"""Orders racing the close: every acknowledged order is in the database exactly as acknowledged, every
refused one changed nothing, and nothing is written after the round closed."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from core.auth import hash_token, new_token
from network.models import ApiToken, Group, Network, User
from orders.models import Allocation, BuyingRound, GroupOrder, Offer, OrderLine, PriceTier, Product, Supplier
from tests.conftest import wait_for_job

pytestmark = pytest.mark.worker
LEADERS = 12


def _seed(session):
    network = Network(name=f"Race {uuid.uuid4().hex[:6]}", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    session.add(network)
    session.flush()
    supplier, product = Supplier(network_id=network.id, name="S"), Product(network_id=network.id, name="P", unit="kg")
    rnd = BuyingRound(network_id=network.id, name="R", state="open",
                      closes_at=datetime.now(UTC) + timedelta(days=1))
    session.add_all([supplier, product, rnd])
    session.flush()
    offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id, pack_size=1, min_quantity=0,
                  reference_price=Decimal("10"), delivery_fee=Decimal("0"))
    offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("9"))]
    session.add(offer)
    hashed = generate_password_hash("x")
    people = []
    for i in range(LEADERS):
        group = Group(network_id=network.id, name=f"G{i}", members=1, registered_poor_members=0)
        session.add(group)
        session.flush()
        leader = User(network_id=network.id, email=f"l{i}-{uuid.uuid4().hex[:6]}@example.org", name="L",
                      role="leader", group_id=group.id, password_hash=hashed, session_version=0, active=True)
        session.add(leader)
        session.flush()
        token = new_token()
        session.add(ApiToken(user_id=leader.id, token_hash=hash_token(token)))
        people.append((group.id, {"Authorization": f"Bearer {token}"}))
    committee = User(network_id=network.id, email=f"c-{uuid.uuid4().hex[:6]}@example.org", name="C",
                     role="committee", password_hash=hashed, session_version=0, active=True)
    session.add(committee)
    session.flush()
    token = new_token()
    session.add(ApiToken(user_id=committee.id, token_hash=hash_token(token)))
    session.commit()
    return rnd.id, offer.id, people, {"Authorization": f"Bearer {token}"}


def test_orders_racing_the_close(worker_app, committed, celery_worker):
    round_id, offer_id, people, committee = _seed(committed)
    # Threads only record what they saw; every assertion runs in the main thread, where pytest sees it.
    acknowledged: dict[int, int] = {}
    unexpected: list[tuple[int, int, object]] = []
    refusal_codes: list[str] = []
    crashed: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(LEADERS + 1)

    def leader(group_id: int, headers: dict[str, str]) -> None:
        try:
            client = worker_app.test_client()
            start.wait()
            # Keep writing until the close refuses us, so the close always lands among the writes.
            for quantity in range(1, 100_000):
                response = client.put(f"/api/v1/rounds/{round_id}/orders/{group_id}", headers=headers,
                                      json={"lines": [{"offer_id": offer_id, "quantity": quantity}]})
                with lock:
                    if response.status_code == 200:
                        acknowledged[group_id] = quantity
                    elif response.status_code == 409:
                        refusal_codes.append((response.json or {}).get("error", {}).get("code"))
                        return
                    else:
                        unexpected.append((group_id, response.status_code, response.get_data(as_text=True)))
                        return
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            with lock:
                crashed.append(exc)

    threads = [threading.Thread(target=leader, args=person, daemon=True) for person in people]
    for thread in threads:
        thread.start()
    start.wait()
    closed = worker_app.test_client().post(f"/api/v1/rounds/{round_id}/close", headers=committee)
    for thread in threads:
        thread.join(timeout=120)
    assert not [t for t in threads if t.is_alive()], "a leader thread was still running after join"
    assert not crashed, crashed
    assert not unexpected, unexpected
    assert closed.status_code == 202
    assert len(refusal_codes) == LEADERS, "every leader must end on the close's refusal"
    assert set(refusal_codes) == {"deadline_passed"}, refusal_codes
    refused = len(refusal_codes)
    committed.expire_all()
    rows = committed.execute(
        select(GroupOrder.group_id, OrderLine.quantity, GroupOrder.updated_at)
        .join(OrderLine, OrderLine.group_order_id == GroupOrder.id).where(GroupOrder.round_id == round_id)).all()
    in_db = {group_id: quantity for group_id, quantity, _ in rows}
    assert in_db == acknowledged
    assert refused > 0, "the close came after every order; the race was not exercised"
    # The combine, which reads the round after the close, saw exactly what was acknowledged.
    assert wait_for_job(worker_app, closed.json["job_id"]) == "succeeded"
    committed.expire_all()
    combined = dict(committed.execute(
        select(Allocation.group_id, Allocation.quantity).where(Allocation.round_id == round_id)).all())
    assert combined == acknowledged
    assert committed.get(BuyingRound, round_id).state == "combined"
