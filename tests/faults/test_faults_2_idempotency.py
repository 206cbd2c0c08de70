"""Idempotency-Key under races: two identical requests with one key, sent at the same instant from two
threads against committed data, get the same stored response and make one effect."""
from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.models import AuditEvent
from market.models import Listing, Purchase
from network.models import Group
from tests.faults._support import fault_app, new_queue, seed_round

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]
PAIRS = 15


def _race(app, method: str, path: str, headers: dict[str, str], body: dict) -> list:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def go(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.open(path, method=method, json=body, headers=headers)
        results[i] = (response.status_code, response.get_data(as_text=True),
                      response.headers.get("Idempotent-Replayed"))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_racing_requests_with_one_key_make_one_effect(database, committed):
    app = fault_app(database, new_queue(), JOBS_MODE="manual")
    data = seed_round(committed, groups=2, offers=3, with_orders=False, leaders=True)
    buyer, seller = data["group_ids"]
    headers = data["leaders"][buyer]
    listing = Listing(network_id=data["network_id"], group_id=seller, name="Rice", unit="kg", price=Decimal("30.00"),
                      stock=1000, state="active")
    committed.add(listing)
    committed.commit()
    listing_id = listing.id

    # POST (money and stock): one purchase per key, the stock taken once.
    for _ in range(PAIRS):
        key = {"Idempotency-Key": f"buy-{uuid.uuid4()}"}
        a, b = _race(app, "POST", f"/api/v1/listings/{listing_id}/purchases", {**headers, **key},
                     {"group_id": buyer, "quantity": 3})
        assert a[0] == b[0] == 201, (a, b)
        assert a[1] == b[1], "the two answers differ"
        assert [a[2], b[2]].count("true") == 1, "exactly one of the two is the replay"
    committed.expire_all()
    assert committed.scalar(select(func.count()).select_from(Purchase)) == PAIRS
    assert committed.get(Listing, listing_id).stock == 1000 - 3 * PAIRS

    # PUT (an order): one change recorded per key.
    path = f"/api/v1/rounds/{data['round_id']}/orders/{buyer}"
    for i in range(PAIRS):
        key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}
        lines = [{"offer_id": o, "quantity": i + 1, "tolerance": 0} for o in data["offer_ids"]]
        a, b = _race(app, "PUT", path, {**headers, **key}, {"lines": lines})
        assert a[0] == b[0] == 200, (a, b)
        assert a[1] == b[1]
        assert [a[2], b[2]].count("true") == 1
    committed.expire_all()
    assert committed.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "order.replace")) == PAIRS

    # The same key with a different body: 422, and nothing happens.
    client = app.test_client()
    key = {"Idempotency-Key": f"buy-{uuid.uuid4()}"}
    first = client.post(f"/api/v1/listings/{listing_id}/purchases", json={"group_id": buyer, "quantity": 1},
                        headers={**headers, **key})
    assert first.status_code == 201
    other = client.post(f"/api/v1/listings/{listing_id}/purchases", json={"group_id": buyer, "quantity": 2},
                        headers={**headers, **key})
    assert other.status_code == 422 and other.json["error"]["code"] == "invalid"
    again = client.put(path, json={"lines": []}, headers={**headers, **key})
    assert again.status_code == 422  # another path is another request too
    committed.expire_all()
    assert committed.get(Listing, listing_id).stock == 1000 - 3 * PAIRS - 1
    assert committed.get(Group, buyer) is not None
