"""Combining a closed round's demand: the job, the coordinator of its parts, and the SQL.

The arithmetic is specified by ``pricing`` (pure functions). Combining a round works on offers,
not lines: PostgreSQL (or SQLite) sums each offer's quantities and tolerances, Python applies
``pricing.round_to_packs``, the tier and the network fee per offer and purchase order, and then
the statements of ``orders.combine_sql`` compute every line's allocation and fee share (largest
remainder, ties to the earlier ``placed_at``, then the lower id) on classes of lines and insert the
allocations in one ``INSERT ... SELECT``, in integer units and satang so SQLite stays exact too.
Invoices are one ``INSERT ... SELECT ... GROUP BY``. ``tests/integration/test_combine_sql.py``
proves the result equal to the ``pricing`` functions.

A large round can be combined as one part per supplier (``combine_round_part`` jobs that several
workers share); the coordinating ``combine_round`` job runs parts itself too, waits for the rest
and writes the invoices once.

Reading the result is in ``orders.reads``, delivery in ``orders.delivery``, invoices and payments in
``orders.invoices``.
"""
from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from flask import current_app
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

import pricing
from core import jobs, metrics
from core.clock import utcnow
from core.db import db, is_postgres
from core.errors import Conflict
from network.models import Network
from orders import events
from orders.combine_sql import allocation_sql
from orders.invoices import insert_invoices
from orders.models import (
    Allocation,
    BuyingRound,
    Offer,
    OrderLine,
    PriceTier,
    PurchaseOrder,
    PurchaseOrderLine,
    RoundSupplierFee,
)
from orders.services import COMBINE_JOB
from pricing.money import ZERO

PART_JOB = "combine_round_part"
# A round with at least this many lines is combined one part per supplier when jobs go to Celery.
DEFAULT_PARTS_MIN_LINES = 200_000
# Products of satang that must stay exact in 64-bit integers (SQLite has nothing wider).
_INT64 = 2**63 - 1


def _tiers_by_offer(round_id: int) -> dict[int, tuple[pricing.Tier, ...]]:
    rows = db.session.execute(
        select(PriceTier.offer_id, PriceTier.min_quantity, PriceTier.unit_price)
        .join(Offer, Offer.id == PriceTier.offer_id).where(Offer.round_id == round_id)
        .order_by(PriceTier.offer_id, PriceTier.min_quantity)
    ).all()
    tiers: dict[int, list[pricing.Tier]] = defaultdict(list)
    for offer_id, min_quantity, unit_price in rows:
        tiers[offer_id].append(pricing.Tier(min_quantity, unit_price))
    return {k: tuple(v) for k, v in tiers.items()}


def _parts_min_lines() -> int:
    return int(current_app.config.get("COMBINE_PARTS_MIN_LINES", DEFAULT_PARTS_MIN_LINES))


def _demand(round_id: int, supplier_id: int | None = None) -> list[Any]:
    """Per offer with lines: Σ quantity, Σ tolerance, line count, largest quantity and tolerance (one GROUP BY)."""
    query = (
        select(OrderLine.offer_id, Offer.supplier_id, func.sum(OrderLine.quantity), func.sum(OrderLine.tolerance),
               func.count(), func.max(OrderLine.quantity), func.max(OrderLine.tolerance))
        .join(Offer, Offer.id == OrderLine.offer_id).where(Offer.round_id == round_id)
        .group_by(OrderLine.offer_id, Offer.supplier_id).order_by(OrderLine.offer_id)
    )
    if supplier_id is not None:
        query = query.where(Offer.supplier_id == supplier_id)
    return list(db.session.execute(query).all())


def _combine_failed(payload: dict[str, Any], reason: str) -> None:
    """The combine failed for good: the round says so, with the reason, until the committee retries."""
    db.session.execute(
        update(BuyingRound).where(BuyingRound.id == payload.get("round_id"), BuyingRound.state == "closed")
        .values(state="combine_failed", failure=reason[:2000]))


@jobs.handler(COMBINE_JOB, on_failure=_combine_failed)
def combine_round(round_id: int, parts: bool | None = None) -> dict[str, Any]:
    """Turn a closed round's orders into purchase orders, allocations and invoices. Idempotent.

    The round row is locked first, so two runs at once queue up; the second finds the round
    combined and returns what the first wrote. The unique (round, supplier) constraint backs that.
    ``parts`` forces (True) or forbids (False) combining one part per supplier; by default a round
    of ``COMBINE_PARTS_MIN_LINES`` lines or more is split when jobs go to Celery workers.
    """
    rnd = db.session.scalar(select(BuyingRound).where(BuyingRound.id == round_id).with_for_update())
    if rnd is None:
        raise jobs.PermanentJobError(f"round {round_id} does not exist")
    if rnd.state in ("combined", "delivered", "settled"):
        db.session.rollback()
        return _combine_summary(round_id)
    if rnd.state != "closed":
        raise jobs.PermanentJobError(f"round {round_id} is {rnd.state}, not closed")
    network = db.session.get_one(Network, rnd.network_id)
    demand = _demand(round_id)
    suppliers = sorted({row.supplier_id for row in demand})
    if parts is None:
        parts = (current_app.config.get("JOBS_MODE") == "celery" and len(suppliers) > 1
                 and sum(row[4] for row in demand) >= _parts_min_lines())
    if parts and len(suppliers) > 1:
        return _coordinate(rnd, suppliers)
    _tune_session()
    started = time.perf_counter()
    purchase_orders, lines = _combine_offers(round_id, network.fee_percent, demand, single=True)
    _finish_round(rnd)
    db.session.commit()
    metrics.record_combine(lines, time.perf_counter() - started)
    return {"round_id": round_id, "purchase_orders": purchase_orders, "lines": lines}


def _tune_session() -> None:
    # The hash tables and the numbering at the cuts of a large round fit in memory instead of spilling
    # to disk; JIT compiling the expressions costs more than it saves on these statements.
    if is_postgres():
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))
        db.session.execute(text("SET LOCAL jit = off"))
        # A lock held elsewhere for too long fails this attempt, which is retried after a back-off.
        lock_timeout = float(current_app.config.get("COMBINE_LOCK_TIMEOUT") or 0)
        if lock_timeout > 0:
            db.session.execute(text(f"SET LOCAL lock_timeout = '{int(lock_timeout * 1000)}ms'"))


def _finish_round(rnd: BuyingRound) -> None:
    insert_invoices(rnd.id)
    rnd.state = "combined"
    rnd.combined_at = utcnow()
    events.announce_combined(rnd)


# --- one part per supplier -------------------------------------------------------------------------

def _coordinate(rnd: BuyingRound, suppliers: list[int]) -> dict[str, Any]:
    """Publish one part job per supplier, run parts here too, wait for the rest, then finish once."""
    round_id, network_id = rnd.id, rnd.network_id
    for supplier_id in suppliers:
        jobs.enqueue(PART_JOB, {"round_id": round_id, "supplier_id": supplier_id}, network_id=network_id,
                     dedupe_key=f"combine:{round_id}:{supplier_id}")
    db.session.commit()  # releases the round; the parts go to the broker now
    # The wait has a deadline: a part stuck elsewhere fails this attempt (retried after a back-off).
    deadline = time.monotonic() + float(current_app.config.get("COMBINE_PARTS_WAIT", 600))
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the parts of round {round_id} did not finish in time")
        done = set(db.session.scalars(select(PurchaseOrder.supplier_id).where(PurchaseOrder.round_id == round_id)))
        db.session.rollback()
        missing = [s for s in suppliers if s not in done]
        if not missing:
            break
        ran = False
        for supplier_id in missing:
            ran = _run_part(round_id, supplier_id)["ran"] or ran
        if not ran:
            time.sleep(0.05)  # the missing parts are running on other workers
    locked = db.session.scalar(select(BuyingRound).where(BuyingRound.id == round_id).with_for_update())
    assert locked is not None
    if locked.state == "closed":
        _finish_round(locked)
        db.session.commit()
    else:
        db.session.rollback()
    summary = _combine_summary(round_id)
    summary["parts"] = len(suppliers)
    return summary


@jobs.handler(PART_JOB)
def combine_round_part(round_id: int, supplier_id: int) -> dict[str, Any]:
    """One supplier's purchase order and allocations. Idempotent; the coordinator finishes the round."""
    return _run_part(round_id, supplier_id)


def _run_part(round_id: int, supplier_id: int) -> dict[str, Any]:
    """Combine one supplier's offers in one transaction unless done or being done elsewhere."""
    result: dict[str, Any] = {"round_id": round_id, "supplier_id": supplier_id, "ran": False}
    # FOR SHARE: parts run side by side, but the round cannot change state under them.
    rnd = db.session.scalar(select(BuyingRound).where(BuyingRound.id == round_id).with_for_update(read=True))
    if rnd is None or rnd.state != "closed":
        db.session.rollback()
        return result
    # Whoever holds this supplier's first offer row is combining it; SKIP LOCKED lets others move on.
    claimed = db.session.scalar(
        select(Offer.id).where(Offer.round_id == round_id, Offer.supplier_id == supplier_id)
        .order_by(Offer.id).limit(1).with_for_update(skip_locked=True, key_share=True))
    done = db.session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.round_id == round_id,
                                                            PurchaseOrder.supplier_id == supplier_id))
    if claimed is None or done is not None:
        db.session.rollback()
        return result
    network = db.session.get_one(Network, rnd.network_id)
    _tune_session()
    demand = _demand(round_id, supplier_id)
    started = time.perf_counter()
    try:
        purchase_orders, lines = _combine_offers(round_id, network.fee_percent, demand, single=False)
    except _AlreadyCombined:
        db.session.rollback()
        return result
    db.session.commit()
    metrics.record_combine(lines, time.perf_counter() - started)
    result.update(ran=True, purchase_orders=purchase_orders, lines=lines)
    return result


class _AlreadyCombined(Exception):
    pass


class _PurchaseOrderRow(TypedDict):
    round_id: int
    supplier_id: int
    value: Decimal
    delivery_fee: Decimal
    network_fee: Decimal
    total: Decimal
    created_at: datetime


# --- the combine itself ----------------------------------------------------------------------------

def _combine_offers(round_id: int, fee_percent: Decimal, demand: list[Any], *, single: bool) -> tuple[int, int]:
    """Purchase orders, their lines and every allocation for the offers in ``demand``.

    Python sees one row per offer; the lines stay in the database. Returns (purchase orders, lines).
    """
    if not demand:
        return 0, 0
    offers = {o.id: o for o in db.session.scalars(select(Offer).where(Offer.id.in_([d[0] for d in demand])))}
    tiers = _tiers_by_offer(round_id)
    results: dict[int, pricing.PackResult] = {}
    prices: dict[int, pricing.Tier | None] = {}
    by_supplier: dict[int, list[int]] = defaultdict(list)
    counts: dict[int, int] = {}
    for offer_id, supplier_id, total, tolerance, count, _, _ in demand:
        offer = offers[offer_id]
        problems = pricing.validate_tiers(tiers.get(offer_id, ()))
        if problems:
            # No retry can mend this: the offer itself is wrong. Said in words for the committee's page.
            raise jobs.PermanentJobError(
                f"The price tiers of offer {offer_id} break the tier rules ({'; '.join(problems)}). "
                "Correct the offer's tiers, then start the combine again.")
        pack = pricing.round_to_packs(int(total), int(tolerance), offer.pack_size, offer.min_quantity)
        results[offer_id] = pack
        prices[offer_id] = pricing.tier_for(tiers[offer_id], pack.ordered_quantity) if pack.is_ordered else None
        by_supplier[supplier_id].append(offer_id)
        counts[offer_id] = int(count)

    # A supplier's fee for the whole round (round_supplier_fees), charged once on its purchase order.
    supplier_fees: dict[int, Decimal] = {supplier: fee for supplier, fee in db.session.execute(
        select(RoundSupplierFee.supplier_id, RoundSupplierFee.delivery_fee)
        .where(RoundSupplierFee.round_id == round_id, RoundSupplierFee.supplier_id.in_(list(by_supplier))))}
    now = utcnow()
    po_rows: list[_PurchaseOrderRow] = []
    for supplier_id, offer_ids in sorted(by_supplier.items()):
        value = sum((results[o].ordered_quantity * tier.unit_price
                     for o in offer_ids if (tier := prices[o]) is not None), ZERO)
        delivery_fee = pricing.purchase_order_delivery_fee(
            [offers[o].delivery_fee for o in offer_ids if results[o].is_ordered], supplier_fees.get(supplier_id, ZERO))
        network_fee = pricing.network_fee(value, fee_percent)
        po_rows.append({"round_id": round_id, "supplier_id": supplier_id, "value": value,
                        "delivery_fee": delivery_fee, "network_fee": network_fee,
                        "total": value + delivery_fee + network_fee, "created_at": now})
    try:
        with db.session.begin_nested():
            inserted = db.session.execute(
                insert(PurchaseOrder).returning(PurchaseOrder.id, PurchaseOrder.supplier_id,
                                                sort_by_parameter_order=True), po_rows).all()
    except IntegrityError as exc:
        if not single:
            raise _AlreadyCombined from exc
        # Someone else's run got here first: this run must not write a second one.
        raise Conflict(f"round {round_id} already has a purchase order for one of its suppliers") from exc
    po_ids = {supplier_id: po_id for po_id, supplier_id in inserted}
    db.session.execute(insert(PurchaseOrderLine), [
        {"purchase_order_id": po_ids[offers[o].supplier_id], "offer_id": o, "total_quantity": p.total,
         "total_tolerance": p.tolerance, "packs": p.packs, "ordered_quantity": p.ordered_quantity,
         "unit_price": tier.unit_price if (tier := prices[o]) is not None else None,
         "tier_min_quantity": tier.min_quantity if tier is not None else None}
        for o, p in results.items()])

    # Per offer, the constants of its lines' allocation and fee split, as integers (units, satang),
    # then its tiers as (min quantity, price) pairs, padded to the round's largest number of tiers
    # with NULL: each line's price alone is a CASE over its own row, not a join on ranges.
    depth = max(len(tiers[o]) for o in results)
    constants: list[tuple[int | None, ...]] = []
    wide = False
    for row in po_rows:
        supplier_id = row["supplier_id"]
        fee = pricing.to_satang(row["delivery_fee"] + row["network_fee"])
        value_satang = pricing.to_satang(row["value"])
        lines_in_po = sum(counts[o] for o in by_supplier[supplier_id])
        # Lines worth nothing still share a fee rather than leaving it unpaid (pricing.split_fee).
        even = fee > 0 and value_satang == 0
        weight = lines_in_po if even else (value_satang or 1)
        wide = wide or fee * weight > _INT64
        for o in by_supplier[supplier_id]:
            p = results[o]
            surplus = p.ordered_quantity > p.total
            price = prices[o]
            constants.append((
                o, po_ids[supplier_id], int(surplus),
                p.ordered_quantity - p.total if surplus else p.ordered_quantity,  # units to share
                p.tolerance if surplus else p.total,  # their weight
                pricing.to_satang(price.unit_price) if price is not None else 0,
                pricing.to_satang(offers[o].reference_price),
                fee, weight, int(even), int(p.is_ordered),
                *(value for t in sorted(tiers[o], key=lambda t: t.min_quantity)
                  for value in (t.min_quantity, pricing.to_satang(t.unit_price))),
                *(None, None) * (depth - len(tiers[o]))))
    if wide and not is_postgres():
        raise jobs.PermanentJobError("fees times line values exceed 64-bit integers; combine on PostgreSQL")
    # A line's class (offer, quantity, tolerance) as one integer, when it fits in 64 bits: the planner then
    # knows the classes are distinct and joins the lines to them by hash (orders/combine_sql.py).
    tolerances = max(int(d[6]) for d in demand) + 1
    per_offer = (max(int(d[5]) for d in demand) + 1) * tolerances
    key = (per_offer, tolerances) if max(results) * per_offer + per_offer <= _INT64 else None
    for statement in allocation_sql(constants, wide, depth, is_postgres(), key):
        db.session.execute(statement, {"round_id": round_id})
    return len(po_rows), sum(counts.values())


def _combine_summary(round_id: int) -> dict[str, Any]:
    purchase_orders = db.session.scalar(
        select(func.count()).select_from(PurchaseOrder).where(PurchaseOrder.round_id == round_id))
    lines = db.session.scalar(select(func.count()).select_from(Allocation).where(Allocation.round_id == round_id))
    return {"round_id": round_id, "purchase_orders": purchase_orders, "lines": lines}
