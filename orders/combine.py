"""Combining demand, delivery, invoices and payments: the money half of a buying round.

The arithmetic lives in ``pricing`` (pure functions); this module reads the round with set-based
queries, hands plain data to ``pricing`` and writes the results back in one transaction.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

import pricing
from core import jobs
from core.audit import record
from core.clock import utcnow
from core.db import db
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from network.models import Network, User
from orders import permissions
from orders.models import (
    Allocation,
    BuyingRound,
    GroupOrder,
    Invoice,
    Offer,
    OrderLine,
    Payment,
    PriceTier,
    PurchaseOrder,
    PurchaseOrderLine,
)
from orders.services import COMBINE_JOB, get_round

ZERO = Decimal("0.00")


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


@jobs.handler(COMBINE_JOB)
def combine_round(round_id: int) -> dict[str, Any]:
    """Turn a closed round's orders into purchase orders, allocations and invoices. Idempotent.

    The round row is locked first, so two runs at once queue up; the second finds the round
    combined and returns what the first wrote. The unique (round, supplier) constraint backs that.
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

    offers = {o.id: o for o in db.session.scalars(select(Offer).where(Offer.round_id == round_id))}
    tiers = _tiers_by_offer(round_id)
    # Lines as plain rows (no ORM objects): one pass, grouped by offer.
    line_rows = db.session.execute(
        select(OrderLine.id, OrderLine.offer_id, OrderLine.quantity, OrderLine.tolerance, OrderLine.placed_at,
               GroupOrder.group_id)
        .join(GroupOrder, GroupOrder.id == OrderLine.group_order_id)
        .where(GroupOrder.round_id == round_id)
        .order_by(OrderLine.offer_id, OrderLine.id)
    ).all()
    lines_by_offer: dict[int, list[Any]] = defaultdict(list)
    for row in line_rows:
        lines_by_offer[row.offer_id].append(row)

    # Per supplier: the offers that had demand, each combined by the pure rules.
    by_supplier: dict[int, list[int]] = defaultdict(list)
    results: dict[int, pricing.OfferResult] = {}
    for offer_id in sorted(lines_by_offer):
        offer = offers[offer_id]
        terms = pricing.OfferTerms(offer.pack_size, offer.min_quantity, offer.reference_price,
                                   offer.delivery_fee, tiers[offer_id])
        lines = [pricing.Line(r.id, r.quantity, r.tolerance, r.placed_at) for r in lines_by_offer[offer_id]]
        results[offer_id] = pricing.combine_offer(terms, lines)
        by_supplier[offer.supplier_id].append(offer_id)

    purchase_orders = 0
    for supplier_id, offer_ids in sorted(by_supplier.items()):
        po = PurchaseOrder(round_id=round_id, supplier_id=supplier_id, created_at=utcnow())
        db.session.add(po)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError as exc:
            # Someone else's run got here first: this run must not write a second one.
            raise Conflict(f"round {round_id} already has a purchase order for supplier {supplier_id}") from exc
        purchase_orders += 1
        value = ZERO
        delivery_fee = ZERO
        alloc_rows: list[dict[str, Any]] = []
        for offer_id in offer_ids:
            offer, result = offers[offer_id], results[offer_id]
            db.session.add(PurchaseOrderLine(
                purchase_order_id=po.id, offer_id=offer_id, total_quantity=result.pack.total,
                total_tolerance=result.pack.tolerance, packs=result.pack.packs,
                ordered_quantity=result.pack.ordered_quantity, unit_price=result.unit_price,
                tier_min_quantity=result.tier_min_quantity))
            if result.pack.is_ordered:
                assert result.unit_price is not None
                value += result.pack.ordered_quantity * result.unit_price
                delivery_fee += offer.delivery_fee
            for row in lines_by_offer[offer_id]:
                alone = pricing.alone_price(tiers[offer_id], row.quantity)
                alloc_rows.append({
                    "order_line_id": row.id, "round_id": round_id, "group_id": row.group_id,
                    "offer_id": offer_id, "purchase_order_id": po.id, "quantity": row.quantity,
                    "ordered_allocation": result.allocations[row.id], "allocated": result.allocations[row.id],
                    "unit_price": result.unit_price,
                    "reference_price": offer.reference_price, "alone_price": alone,
                    "key": (row.placed_at, row.id),
                })
        network_fee = pricing.network_fee(value, network.fee_percent)
        _price_lines(alloc_rows, delivery_fee + network_fee)
        po.value = value
        po.delivery_fee = delivery_fee
        po.network_fee = network_fee
        po.total = value + delivery_fee + network_fee
        for row in alloc_rows:
            del row["key"]
        if alloc_rows:
            db.session.execute(insert(Allocation), alloc_rows)

    _write_invoices(round_id)
    rnd.state = "combined"
    rnd.combined_at = utcnow()
    db.session.commit()
    return {"round_id": round_id, "purchase_orders": purchase_orders, "lines": len(line_rows)}


def _price_lines(rows: list[dict[str, Any]], fees: Decimal) -> None:
    """Share the fees pro rata by line value (largest remainder in satang), then amount and savings."""
    values = [row["allocated"] * (row["unit_price"] or ZERO) for row in rows]
    shares = pricing.split_fee(fees, values, [row["key"] for row in rows]) if rows else []
    for row, share in zip(rows, shares):
        price = row["unit_price"] or ZERO
        row["fee_share"] = share
        row["amount"] = pricing.line_amount(row["allocated"], price, share)
        row["savings"] = pricing.line_savings(row["allocated"], row["reference_price"], price, share)


def _write_invoices(round_id: int) -> None:
    totals = db.session.execute(
        select(Allocation.group_id, func.sum(Allocation.amount), func.sum(Allocation.savings))
        .where(Allocation.round_id == round_id).group_by(Allocation.group_id)
    ).all()
    existing = {inv.group_id: inv for inv in db.session.scalars(select(Invoice).where(Invoice.round_id == round_id))}
    for group_id, total, savings in totals:
        total = pricing.money(Decimal(str(total or 0)))
        savings = pricing.money(Decimal(str(savings or 0)))
        invoice = existing.get(group_id)
        if invoice is None:
            db.session.add(Invoice(round_id=round_id, group_id=group_id, total=total, savings=savings,
                                   paid=ZERO, created_at=utcnow()))
        else:
            if invoice.paid > total:
                raise Conflict("A group has already paid more than its new total; refund first.",
                               group_id=group_id)
            invoice.total = total
            invoice.savings = savings


def _combine_summary(round_id: int) -> dict[str, Any]:
    pos = db.session.scalar(select(func.count()).select_from(PurchaseOrder).where(PurchaseOrder.round_id == round_id))
    lines = db.session.scalar(select(func.count()).select_from(Allocation).where(Allocation.round_id == round_id))
    return {"round_id": round_id, "purchase_orders": pos, "lines": lines}


# --- reading the result ----------------------------------------------------------------------------

def _combined_round(actor: User, round_id: int) -> BuyingRound:
    rnd = get_round(actor, round_id)
    if rnd.state in ("draft", "open", "closed"):
        raise Conflict("The round has not been combined yet.", state=rnd.state)
    return rnd


def purchase_orders(actor: User, round_id: int, supplier_id: int | None = None) -> list[dict[str, Any]]:
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee sees purchase orders.")
    rnd = get_round(actor, round_id)
    query = select(PurchaseOrder).where(PurchaseOrder.round_id == rnd.id).order_by(PurchaseOrder.supplier_id)
    if supplier_id is not None:
        query = query.where(PurchaseOrder.supplier_id == supplier_id)
    pos = list(db.session.scalars(query))
    lines = db.session.execute(
        select(PurchaseOrderLine, Offer.product_id).join(Offer, Offer.id == PurchaseOrderLine.offer_id)
        .where(PurchaseOrderLine.purchase_order_id.in_([po.id for po in pos]))
        .order_by(PurchaseOrderLine.offer_id)
    ).all() if pos else []
    by_po: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line, product_id in lines:
        by_po[line.purchase_order_id].append({
            "offer_id": line.offer_id, "product_id": product_id, "total_quantity": line.total_quantity,
            "ordered_quantity": line.ordered_quantity, "packs": line.packs, "unit_price": line.unit_price,
            "tier_min_quantity": line.tier_min_quantity, "received_quantity": line.received_quantity,
            "amount": (line.ordered_quantity * line.unit_price) if line.unit_price is not None else ZERO,
        })
    return [{"id": po.id, "round_id": po.round_id, "supplier_id": po.supplier_id, "lines": by_po[po.id],
             "value": po.value, "delivery_fee": po.delivery_fee, "network_fee": po.network_fee,
             "total": po.total, "received_at": po.received_at} for po in pos]


def purchase_order(actor: User, purchase_order_id: int) -> dict[str, Any]:
    po = db.session.get(PurchaseOrder, purchase_order_id)
    rnd = db.session.get(BuyingRound, po.round_id) if po is not None else None
    if po is None or rnd is None or rnd.network_id != actor.network_id:
        raise NotFound("No such purchase order.")
    return purchase_orders(actor, po.round_id, supplier_id=po.supplier_id)[0]


def distribution_list(actor: User, round_id: int) -> list[dict[str, Any]]:
    """Who receives what on the day the truck comes: one row per group and product."""
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee sees the distribution list.")
    from network.models import Group
    from orders.models import Product, Supplier

    rnd = _combined_round(actor, round_id)
    rows = db.session.execute(
        select(Group.id, Group.name, Group.district, Product.name, Product.unit, Supplier.name,
               Allocation.allocated, Allocation.amount)
        .join(Allocation, Allocation.group_id == Group.id)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Product, Product.id == Offer.product_id)
        .join(Supplier, Supplier.id == Offer.supplier_id)
        .where(Allocation.round_id == rnd.id, Allocation.allocated > 0)
        .order_by(Group.district, Group.name, Product.name)
    ).all()
    return [{"group_id": r[0], "group": r[1], "district": r[2], "product": r[3], "unit": r[4], "supplier": r[5],
             "allocated": r[6], "amount": r[7]} for r in rows]


# --- delivery --------------------------------------------------------------------------------------

def record_receipt(actor: User, purchase_order_id: int, lines: list[dict[str, Any]],
                   received_at: datetime | None = None) -> dict[str, Any]:
    """What arrived. A shortage is re-allocated by the same fair rule; unit prices stay."""
    if not permissions.can_record_delivery(actor):
        raise Forbidden("Only the committee records deliveries.")
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.id == purchase_order_id).with_for_update())
    if po is None:
        raise NotFound("No such purchase order.")
    rnd = get_round(actor, po.round_id)
    if po.received_at is not None:
        raise Conflict("This delivery has been recorded already.")
    if rnd.state != "combined":
        raise Conflict(f"The round is {rnd.state}; deliveries are recorded after combining.", state=rnd.state)
    received_at = received_at or utcnow()
    if received_at > utcnow():
        raise InvalidInput("A delivery cannot be received in the future.", {"received_at": ["In the future."]})
    po_lines = {ln.offer_id: ln for ln in po.lines}
    given: dict[int, int] = {}
    errors: dict[str, Any] = {}
    for i, line in enumerate(lines):
        po_line = po_lines.get(line["offer_id"])
        if po_line is None:
            errors[str(i)] = {"offer_id": ["Not on this purchase order."]}
        elif line["offer_id"] in given:
            errors[str(i)] = {"offer_id": ["Given twice."]}
        elif line["received_quantity"] > po_line.ordered_quantity:
            errors[str(i)] = {"received_quantity": [f"More than the {po_line.ordered_quantity} ordered."]}
        else:
            given[line["offer_id"]] = line["received_quantity"]
    if errors:
        raise InvalidInput("Some receipt lines are not valid.", {"lines": errors})

    allocations = list(db.session.scalars(
        select(Allocation).where(Allocation.purchase_order_id == po.id).order_by(Allocation.id)))
    placed = dict(db.session.execute(
        select(OrderLine.id, OrderLine.placed_at)
        .where(OrderLine.id.in_([a.order_line_id for a in allocations]))
    ).all()) if allocations else {}
    by_offer: dict[int, list[Allocation]] = defaultdict(list)
    for alloc in allocations:
        by_offer[alloc.offer_id].append(alloc)
    before = {ln.offer_id: ln.ordered_quantity for ln in po.lines}
    for offer_id, po_line in po_lines.items():
        # An offer not named arrived in full.
        po_line.received_quantity = given.get(offer_id, po_line.ordered_quantity)
        allocs = by_offer.get(offer_id, [])
        new = pricing.reallocate_shortage(
            {a.order_line_id: a.ordered_allocation for a in allocs},
            {a.order_line_id: (placed[a.order_line_id], a.order_line_id) for a in allocs},
            po_line.received_quantity,
        )
        for alloc in allocs:
            alloc.allocated = new[alloc.order_line_id]
    # The fees were fixed by the purchase order; only their shares follow the new line values.
    rows = [{"alloc": a, "allocated": a.allocated, "unit_price": a.unit_price,
             "reference_price": a.reference_price, "key": (placed[a.order_line_id], a.order_line_id)}
            for a in allocations]
    _price_lines(rows, po.delivery_fee + po.network_fee)
    for row in rows:
        alloc = row["alloc"]
        alloc.fee_share, alloc.amount, alloc.savings = row["fee_share"], row["amount"], row["savings"]
    po.received_at = received_at
    db.session.flush()
    _write_invoices(rnd.id)
    record(actor, "purchase_order.receipt", "purchase_order", po.id, before, {"received": given,
                                                                              "received_at": received_at})
    outstanding = db.session.scalar(
        select(func.count()).select_from(PurchaseOrder)
        .where(PurchaseOrder.round_id == rnd.id, PurchaseOrder.received_at.is_(None)))
    if not outstanding:
        rnd.state = "delivered"
        rnd.delivered_at = utcnow()
        _settle_if_paid(rnd)
    db.session.commit()
    return {"purchase_order_id": po.id, "round_state": rnd.state}


# --- invoices and payments -------------------------------------------------------------------------

def list_invoices(actor: User, round_id: int) -> list[Invoice]:
    rnd = _combined_round(actor, round_id)
    query = select(Invoice).where(Invoice.round_id == rnd.id).order_by(Invoice.group_id)
    if not permissions.can_view_all_invoices(actor):
        if actor.group_id is None:
            raise Forbidden("You see only your own group's invoice.")
        query = query.where(Invoice.group_id == actor.group_id)
    return list(db.session.scalars(query))


def invoice_lines(actor: User, invoice_id: int) -> tuple[Invoice, list[Any]]:
    invoice = _get_invoice(actor, invoice_id)
    from orders.models import Product

    rows = db.session.execute(
        select(Allocation, Product.name, Product.unit).join(Offer, Offer.id == Allocation.offer_id)
        .join(Product, Product.id == Offer.product_id)
        .where(Allocation.round_id == invoice.round_id, Allocation.group_id == invoice.group_id)
        .order_by(Allocation.offer_id)
    ).all()
    return invoice, list(rows)


def _get_invoice(actor: User, invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.")
    rnd = db.session.get_one(BuyingRound, invoice.round_id)
    if rnd.network_id != actor.network_id:
        raise NotFound("No such invoice.")
    if not permissions.can_view_all_invoices(actor) and actor.group_id != invoice.group_id:
        raise NotFound("No such invoice.")
    return invoice


def record_payment(actor: User, invoice_id: int, amount: Decimal, note: str = "") -> Payment:
    invoice = _get_invoice(actor, invoice_id)
    if not permissions.can_record_payment(actor):
        raise Forbidden("Only the committee records payments.")
    if amount <= 0:
        raise InvalidInput("A payment is more than 0 baht.", {"amount": ["Must be more than 0."]})
    # One conditional UPDATE: two payments racing can never together pay more than the total.
    paid = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.paid + amount <= Invoice.total)
        .values(paid=Invoice.paid + amount)
    ).rowcount
    if not paid:
        db.session.rollback()
        db.session.refresh(invoice)
        outstanding = invoice.total - invoice.paid
        raise InvalidInput(f"That is more than the {outstanding} baht still owed.",
                           {"amount": [f"At most {outstanding}."]}, outstanding=str(outstanding))
    payment = Payment(invoice_id=invoice.id, amount=amount, recorded_by_id=actor.id, paid_at=utcnow(), note=note)
    db.session.add(payment)
    db.session.flush()
    record(actor, "invoice.payment", "invoice", invoice.id, None, {"amount": amount, "note": note})
    rnd = db.session.get_one(BuyingRound, invoice.round_id)
    db.session.refresh(invoice)
    _settle_if_paid(rnd)
    db.session.commit()
    return payment


def _settle_if_paid(rnd: BuyingRound) -> None:
    if rnd.state != "delivered":
        return
    unpaid = db.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.round_id == rnd.id, Invoice.paid < Invoice.total))
    if not unpaid:
        rnd.state = "settled"
        rnd.settled_at = utcnow()
