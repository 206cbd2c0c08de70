"""Combines of one round at once (a job delivered twice, a retry started beside the first run) on the real
PostgreSQL: the round's row lock (``FOR UPDATE`` in ``orders.combine.combine_round``) queues them, so the
later ones find the round combined and return what the first wrote.

Without the lock every run reads the round as ``closed`` and combines it; all but one then fail on the
purchase orders' unique (round, supplier) key. This test fails when the lock is removed (tried and seen).
"""
from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from tests.support import seed_round

RUNS = 3  # combines of one round released together
ROUNDS = 12  # rounds raced one after the other: enough that, without the lock, some runs always overlap
GROUPS, OFFERS = 8, 4


def _race(app: Any, round_id: int) -> list[object]:
    """Run ``combine_round`` from RUNS threads, each with its own session and connection, all at once.

    Threads only record what happened (a summary or the exception); the caller asserts."""
    from core.db import db
    from orders.combine import combine_round

    outcomes: list[object] = [None] * RUNS
    barrier = threading.Barrier(RUNS)

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                outcomes[i] = combine_round(round_id, parts=False)
            except Exception as exc:  # noqa: BLE001 - reported in the main thread
                outcomes[i] = exc
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a combine was still running after 60 s"
    return outcomes


def test_combines_of_one_round_at_once_write_it_once(app: Any, committed: Any) -> None:
    from network.models import Network
    from orders.models import Allocation, BuyingRound, PurchaseOrder

    network = Network(name="Combine race", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
    committed.add(network)
    committed.commit()
    problems: list[tuple[int, list[object]]] = []
    for _ in range(ROUNDS):
        round_id = seed_round(committed, groups=GROUPS, offers=OFFERS, suppliers=2, network=network)["round_id"]
        committed.execute(update(BuyingRound).where(BuyingRound.id == round_id).values(state="closed"))
        committed.commit()
        outcomes = _race(app, round_id)
        expected = {"round_id": round_id, "purchase_orders": 2, "lines": GROUPS * OFFERS}
        if any(outcome != expected for outcome in outcomes):
            problems.append((round_id, outcomes))
        committed.expire_all()
        assert committed.get(BuyingRound, round_id).state == "combined"
        assert committed.scalar(select(func.count()).select_from(PurchaseOrder)
                                .where(PurchaseOrder.round_id == round_id)) == 2
        assert committed.scalar(select(func.count()).select_from(Allocation)
                                .where(Allocation.round_id == round_id)) == GROUPS * OFFERS
    # Every run of every round returned the one combine's summary: none failed, none combined twice.
    assert not problems, f"{len(problems)} of {ROUNDS} rounds had a combine fail or differ: {problems[:3]}"
