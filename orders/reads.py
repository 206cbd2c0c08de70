"""Reading a combined round: purchase orders, the distribution list."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from sqlalchemy import select

from core.db import db
from core.errors import Conflict, Forbidden, Msg, NotFound
from network.models import User
from orders import permissions
from orders.models import Allocation, BuyingRound, Offer, PurchaseOrder, PurchaseOrderLine
from orders.services import get_round
from pricing.money import ZERO


class PurchaseOrderLineView(TypedDict):
    offer_id: int
    product_id: int
    total_quantity: int
    ordered_quantity: int
    packs: int
    unit_price: Decimal | None
    tier_min_quantity: int | None
    received_quantity: int | None
    amount: Decimal


class PurchaseOrderView(TypedDict):
    id: int
    round_id: int
    supplier_id: int
    lines: list[PurchaseOrderLineView]
    value: Decimal
    delivery_fee: Decimal
    network_fee: Decimal
    total: Decimal
    received_at: datetime | None


class DistributionRow(TypedDict):
    """Who receives what: one group and product."""

    group_id: int
    group: str
    district: str
    product: str
    unit: str
    supplier: str
    allocated: int
    amount: Decimal


def combined_round(actor: User, round_id: int) -> BuyingRound:
    rnd = get_round(actor, round_id)
    if rnd.state in ("draft", "open", "closed"):
        raise Conflict(Msg("The round has not been combined yet.", "round_not_combined"), state=rnd.state)
    return rnd


def purchase_orders(actor: User, round_id: int, supplier_id: int | None = None) -> list[PurchaseOrderView]:
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee sees purchase orders.")
    rnd = get_round(actor, round_id)
    query = select(PurchaseOrder).where(PurchaseOrder.round_id == rnd.id).order_by(PurchaseOrder.supplier_id)
    if supplier_id is not None:
        query = query.where(PurchaseOrder.supplier_id == supplier_id)
    supplier_orders = list(db.session.scalars(query))
    lines = db.session.execute(
        select(PurchaseOrderLine, Offer.product_id).join(Offer, Offer.id == PurchaseOrderLine.offer_id)
        .where(PurchaseOrderLine.purchase_order_id.in_([po.id for po in supplier_orders]))
        .order_by(PurchaseOrderLine.offer_id)
    ).all() if supplier_orders else []
    by_po: dict[int, list[PurchaseOrderLineView]] = defaultdict(list)
    for line, product_id in lines:
        by_po[line.purchase_order_id].append({
            "offer_id": line.offer_id, "product_id": product_id, "total_quantity": line.total_quantity,
            "ordered_quantity": line.ordered_quantity, "packs": line.packs, "unit_price": line.unit_price,
            "tier_min_quantity": line.tier_min_quantity, "received_quantity": line.received_quantity,
            "amount": (line.ordered_quantity * line.unit_price) if line.unit_price is not None else ZERO,
        })
    return [{"id": po.id, "round_id": po.round_id, "supplier_id": po.supplier_id, "lines": by_po[po.id],
             "value": po.value, "delivery_fee": po.delivery_fee, "network_fee": po.network_fee,
             "total": po.total, "received_at": po.received_at} for po in supplier_orders]


def purchase_order(actor: User, purchase_order_id: int) -> PurchaseOrderView:
    po = db.session.get(PurchaseOrder, purchase_order_id)
    rnd = db.session.get(BuyingRound, po.round_id) if po is not None else None
    if po is None or rnd is None or rnd.network_id != actor.network_id:
        raise NotFound("No such purchase order.")
    return purchase_orders(actor, po.round_id, supplier_id=po.supplier_id)[0]


def distribution_list(actor: User, round_id: int) -> list[DistributionRow]:
    """Who receives what on the day the truck comes: one row per group and product."""
    if not permissions.can_run_rounds(actor):
        raise Forbidden("Only the committee sees the distribution list.")
    from network.models import Group
    from orders.models import Product, Supplier

    rnd = combined_round(actor, round_id)
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
