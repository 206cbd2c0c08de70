"""The set-based shortage re-allocation of a receipt equals the pure ``pricing`` functions, line by line.

Random rounds (as in ``test_combine_sql``) are combined; then a random receipt of one purchase
order (each offer short by a random amount, in full, or not received at all) is recorded through
``record_receipt``, and every allocation of the round, and every invoice, is compared with a
reference computed by ``pricing.reallocate_shortage``, ``pricing.split_fee``, ``pricing.line_amount``
and ``pricing.line_savings`` from the allocations as combined. On PostgreSQL (hypothesis) and SQLite.
"""
from __future__ import annotations

import random
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import pricing
from pricing.money import ZERO
from tests.integration.test_combine_sql import EDGE_CASES, build, random_round


def _committee(session: Any, round_id: int) -> Any:
    from network.models import User
    from orders.models import BuyingRound

    rnd = session.get(BuyingRound, round_id)
    user = User(network_id=rnd.network_id, email=f"c-{uuid.uuid4().hex[:8]}@example.org", name="C",
                role="committee", password_hash="!", session_version=0, active=True)
    session.add(user)
    session.commit()
    return user


def _expected(session: Any, round_id: int, po_id: int, received: dict[int, int]) -> dict[str, Any]:
    """Every allocation of the round (line id -> figures) and invoice after receiving ``received``."""
    from orders.models import Allocation, OrderLine, PurchaseOrder

    po = session.get(PurchaseOrder, po_id)
    rows = session.execute(
        select(Allocation, OrderLine.placed_at).join(OrderLine, OrderLine.id == Allocation.order_line_id)
        .where(Allocation.round_id == round_id)).all()
    out: dict[int, tuple[Any, ...]] = {}
    mine = []
    for a, placed_at in rows:
        out[a.order_line_id] = (a.group_id, a.allocated, a.fee_share, a.amount, a.savings)
        if a.purchase_order_id == po_id:
            mine.append((a, placed_at))
    new: dict[int, int] = {}
    for offer_id in {a.offer_id for a, _ in mine}:
        lines = [(a, p) for a, p in mine if a.offer_id == offer_id]
        new.update(pricing.reallocate_shortage({a.order_line_id: a.ordered_allocation for a, _ in lines},
                                               {a.order_line_id: (p, a.order_line_id) for a, p in lines},
                                               received[offer_id]))
    shares = pricing.split_fee(po.delivery_fee + po.network_fee,
                               [new[a.order_line_id] * (a.unit_price or ZERO) for a, _ in mine],
                               [(p, a.order_line_id) for a, p in mine]) if mine else []
    for (a, _), share in zip(mine, shares):
        alloc, price = new[a.order_line_id], a.unit_price or ZERO
        out[a.order_line_id] = (a.group_id, alloc, share, pricing.line_amount(alloc, price, share),
                                pricing.line_savings(alloc, a.reference_price, price, share))
    invoices: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for group_id, _, _, amount, savings in out.values():
        invoices[group_id][0] += amount
        invoices[group_id][1] += savings
    return {"allocations": out, "invoices": {g: tuple(v) for g, v in invoices.items()}}


def _actual(session: Any, round_id: int) -> dict[str, Any]:
    from orders.models import Allocation, Invoice

    session.expire_all()
    allocations = {a.order_line_id: (a.group_id, a.allocated, a.fee_share, a.amount, a.savings)
                   for a in session.scalars(select(Allocation).where(Allocation.round_id == round_id))}
    invoices = {i.group_id: (i.total, i.savings)
                for i in session.scalars(select(Invoice).where(Invoice.round_id == round_id))}
    return {"allocations": allocations, "invoices": invoices}


def check_receipt(session: Any, spec: Any, rng: random.Random) -> None:
    from orders.combine import combine_round
    from orders.delivery import record_receipt
    from orders.models import PurchaseOrder, PurchaseOrderLine

    round_id = build(session, spec)
    combine_round(round_id, parts=False)
    committee = _committee(session, round_id)
    pos = list(session.scalars(select(PurchaseOrder).where(PurchaseOrder.round_id == round_id)
                               .order_by(PurchaseOrder.id)))
    for po in rng.sample(pos, rng.randint(1, len(pos))):
        po_lines = list(session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id)))
        given_lines, received = [], {}
        for line in po_lines:
            choice = rng.random()
            if choice < 0.25:  # not named: arrived in full
                received[line.offer_id] = line.ordered_quantity
                continue
            got = rng.choice([0, line.ordered_quantity, rng.randint(0, line.ordered_quantity),
                              max(0, line.ordered_quantity - 1)])
            received[line.offer_id] = got
            given_lines.append({"offer_id": line.offer_id, "received_quantity": got})
        expected = _expected(session, round_id, po.id, received)
        record_receipt(committee, po.id, given_lines)
        got = _actual(session, round_id)
        assert got["allocations"] == expected["allocations"]
        assert got["invoices"] == expected["invoices"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_receipts_equal_pricing(db_session, seed):
    check_receipt(db_session, random_round(random.Random(seed)), random.Random(seed + 1))


def test_edge_case_receipts_equal_pricing(db_session):
    for i, spec in enumerate(EDGE_CASES.values()):
        check_receipt(db_session, spec, random.Random(i))


def test_same_results_on_sqlite(tmp_path):
    import flask_migrate

    from core import create_app
    from core.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'receipt.sqlite3'}",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"check_same_thread": False}},
                      "JOBS_MODE": "manual", "TESTING": True})
    with app.app_context():
        flask_migrate.upgrade()
        # "wide numbers" needs PostgreSQL's NUMERIC: SQLite refuses it in words (test_combine_sql checks that).
        for i, (name, spec) in enumerate(EDGE_CASES.items()):
            if name != "wide numbers":
                check_receipt(db.session, spec, random.Random(i))
        for seed in range(15):
            check_receipt(db.session, random_round(random.Random(seed)), random.Random(seed + 1))
        db.session.remove()
        db.engine.dispose()
