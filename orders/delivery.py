"""Recording a delivery: what arrived, a shortage re-allocated by the same fair rule, invoices updated."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import func, select

from core.audit import record
from core.clock import utcnow
from core.db import db
from core.errors import Conflict, Forbidden, InvalidInput, Msg, NotFound
from core.events import data_changed
from network.models import User
from orders import events, permissions, rollups
from orders.invoices import settle_if_paid, write_invoices
from orders.models import PurchaseOrder
from orders.reallocation import reallocate_shortage
from orders.services import get_round


class ReceiptRecorded(TypedDict):
    purchase_order_id: int
    round_state: str


def record_receipt(actor: User, purchase_order_id: int, lines: list[dict[str, Any]],
                   received_at: datetime | None = None) -> ReceiptRecorded:
    """What arrived. A shortage is re-allocated by the same fair rule; unit prices stay."""
    if not permissions.can_record_delivery(actor):
        raise Forbidden("Only the committee records deliveries.")
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.id == purchase_order_id).with_for_update())
    if po is None:
        raise NotFound("No such purchase order.")
    rnd = get_round(actor, po.round_id)
    if po.received_at is not None:
        raise Conflict(Msg("This delivery has been recorded already.", "delivery_recorded"))
    if rnd.state != "combined":
        raise Conflict(f"The round is {rnd.state}; deliveries are recorded after combining.", state=rnd.state)
    received_at = received_at or utcnow()
    if received_at.tzinfo is None:
        raise InvalidInput(Msg("Give the time of the delivery with its offset.", "receipt_naive"),
                           {"received_at": [Msg("Needs a time zone offset.", "needs_offset")]})
    if received_at > utcnow():
        raise InvalidInput(Msg("A delivery cannot be received in the future.", "receipt_in_future"),
                           {"received_at": [Msg("In the future.", "in_future")]})
    if po.created_at is not None and received_at < po.created_at:
        # Goods cannot arrive on an order that did not exist yet (a typo in the year, a wrong month).
        raise InvalidInput(Msg("A delivery cannot be received before its purchase order existed.",
                               "receipt_before_order"),
                           {"received_at": [Msg("Before the purchase order was made.", "before_order")]})
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
            ordered = po_line.ordered_quantity
            errors[str(i)] = {"received_quantity": [Msg(f"More than the {ordered} ordered.", "more_than_ordered", n=ordered)]}
        else:
            given[line["offer_id"]] = line["received_quantity"]
    if errors:
        raise InvalidInput(Msg("Some receipt lines are not valid.", "receipt_lines_invalid"), {"lines": errors})

    before = {ln.offer_id: ln.ordered_quantity for ln in po.lines}
    received: dict[int, int] = {}
    for offer_id, po_line in po_lines.items():
        # An offer not named arrived in full.
        po_line.received_quantity = given.get(offer_id, po_line.ordered_quantity)
        received[offer_id] = po_line.received_quantity
    short = any(received[o] < ln.ordered_quantity for o, ln in po_lines.items())
    if short:
        reallocate_shortage(po, received)
    po.received_at = received_at
    data_changed(rnd.network_id, received_at)  # a month already summarised is rebuilt (reports listens)
    db.session.flush()
    rollups.count_receipt(po.id)  # the month's roll-ups, in this transaction
    write_invoices(rnd.id, purchase_order_id=po.id)
    record(actor, "purchase_order.receipt", "purchase_order", po.id, before, {"received": given,
                                                                              "received_at": received_at})
    outstanding = db.session.scalar(
        select(func.count()).select_from(PurchaseOrder)
        .where(PurchaseOrder.round_id == rnd.id, PurchaseOrder.received_at.is_(None)))
    if not outstanding:
        rnd.state = "delivered"
        rnd.delivered_at = utcnow()
        settle_if_paid(rnd)
    if short:
        events.announce_shortage(po)
    db.session.commit()
    return {"purchase_order_id": po.id, "round_state": rnd.state}
