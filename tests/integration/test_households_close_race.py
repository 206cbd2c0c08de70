"""A household's write racing the close: the close waits for a write in progress, and a write that arrives while
the close holds the round waits for it and is then refused (409): no household line changes once the round is
closed and its bills may exist."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import func, select

from core.errors import DeadlinePassed


def _seed(session: Any) -> tuple[int, int, int, str]:
    from core.auth import hash_token, new_token
    from households.models import Household, HouseholdSheet
    from network.models import Group, Network
    from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

    network = Network(name=f"Race {uuid.uuid4().hex[:6]}", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    session.add(network)
    session.flush()
    supplier, product = Supplier(network_id=network.id, name="S"), Product(network_id=network.id, name="P", unit="kg")
    group = Group(network_id=network.id, name="G", members=1, registered_poor_members=0)
    rnd = BuyingRound(network_id=network.id, name="R", state="open",
                      closes_at=datetime.now(UTC) + timedelta(days=1))
    session.add_all([supplier, product, group, rnd])
    session.flush()
    offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id, pack_size=1, min_quantity=0,
                  reference_price=Decimal("10"), delivery_fee=Decimal("0"))
    offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("9"))]
    house = Household(network_id=network.id, group_id=group.id, name="บ้าน 1", registered_poor=False)
    token = new_token()
    session.add_all([offer, house, HouseholdSheet(round_id=rnd.id, group_id=group.id, token_hash=hash_token(token))])
    session.commit()
    return rnd.id, offer.id, house.id, token


def test_a_write_waiting_on_the_close_is_refused(worker_app, committed):  # type: ignore[no-untyped-def]
    from core.db import db
    from households import sheets
    from households.models import HouseholdLine

    round_id, offer_id, house_id, token = _seed(committed)
    url = worker_app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    outcome: list[object] = []  # the thread records; the main thread asserts

    def household() -> None:
        with worker_app.app_context():
            try:
                outcome.append(sheets.replace_household_lines(token, house_id, [{"offer_id": offer_id, "quantity": 3}]))
            except Exception as exc:  # noqa: BLE001 - recorded, asserted below
                outcome.append(exc)
            finally:
                db.session.remove()

    with psycopg.connect(url) as closer:
        # The close in progress: it holds the round's row (the conditional UPDATE of orders.services._close).
        closer.execute("UPDATE buying_rounds SET state = 'closed', closed_at = now() WHERE id = %s", (round_id,))
        thread = threading.Thread(target=household)
        thread.start()
        time.sleep(1.0)
        waited = thread.is_alive()  # blocked on the round's row, not answered from a stale snapshot
        closer.commit()
    thread.join(timeout=30)
    assert waited and not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], DeadlinePassed), outcome
    with worker_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HouseholdLine)) == 0
        db.session.remove()
