"""Receipt numbers under concurrent payments on PostgreSQL: 24 payments sent at once (threads released
together by a barrier, each with its own connection) get 2569/000001 … 2569/000024 exactly — no gap, no
duplicate — and the same slip sent twice at once is accepted once and refused (409) once."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import time_machine
from sqlalchemy import select, update

from tests.paying_support import slip_payload, slip_png
from tests.race_support import fire_posts
from tests.support import seed_round

PAYERS = 24
GROUPS = 6


def _seed(session: Any) -> dict[str, Any]:
    from orders import combine
    from orders.models import BuyingRound, Invoice

    world = seed_round(session, groups=GROUPS, offers=2)
    session.execute(update(BuyingRound).where(BuyingRound.id == world["round_id"]).values(state="closed"))
    session.commit()
    combine.combine_round(world["round_id"])
    world["invoice_ids"] = list(session.scalars(select(Invoice.id).where(Invoice.round_id == world["round_id"])
                                                .order_by(Invoice.id)))
    session.commit()
    return world


def test_concurrent_payments_get_every_number_once_in_order(worker_app, committed):  # type: ignore[no-untyped-def]
    from core.db import db
    from orders.models import Payment, ReceiptCounter

    assert committed.get_bind().dialect.name == "postgresql"
    world = _seed(committed)
    committed.remove()
    calls = [(f"/api/v1/invoices/{world['invoice_ids'][i % GROUPS]}/payments", {"amount": "1.25"},
              world["committee"]) for i in range(PAYERS)]
    with time_machine.travel(datetime(2026, 12, 4, 10, 0, tzinfo=UTC), tick=True):
        results = fire_posts(worker_app, calls)
    assert Counter(r[0] for r in results) == {201: PAYERS}, results
    numbers = sorted(r[1]["receipt_number"] for r in results)
    assert numbers == [f"2569/{n:06d}" for n in range(1, PAYERS + 1)]
    with worker_app.app_context():
        stored = db.session.scalars(select(Payment.receipt_number).where(
            Payment.network_id == world["network_id"])).all()
        last = db.session.scalar(select(ReceiptCounter.last_number).where(
            ReceiptCounter.network_id == world["network_id"], ReceiptCounter.year == 2569))
        db.session.remove()
    assert sorted(stored) == numbers and last == PAYERS
    # The numbers follow the order the payments were written in.
    by_id = sorted((r[1]["id"], r[1]["receipt_number"]) for r in results)
    assert [n for _, n in by_id] == numbers


def test_the_same_slip_sent_twice_at_once_is_accepted_once(worker_app, committed):  # type: ignore[no-untyped-def]
    from core.db import db
    from orders.models import Payment

    world = _seed(committed)
    committed.remove()
    slip = slip_png(slip_payload("2026120499887766ABCD"))
    calls = [(f"/api/v1/invoices/{world['invoice_ids'][i]}/payments", {"amount": "2.00", "slip": slip},
              world["committee"]) for i in range(2)]
    results = fire_posts(worker_app, calls)
    assert sorted(r[0] for r in results) == [201, 409], results
    winner = next(r[1] for r in results if r[0] == 201)
    loser = next(r[1] for r in results if r[0] == 409)
    assert loser["error"]["bank_ref"] == winner["bank_ref"] == "014-2026120499887766ABCD"
    with worker_app.app_context():
        rows = db.session.scalars(select(Payment.receipt_number).where(
            Payment.network_id == world["network_id"])).all()
        db.session.remove()
    year = winner["receipt_number"].split("/")[0]
    assert rows == [f"{year}/000001"]  # the refused one gave its number back
