"""What the orders domain tells people, through the kernel's notification outbox (``core.notify``).

Each function is called by a service inside that service's transaction, after the change it reports
is written; the event keys make a retried job or a repeated call notify nobody twice.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select

from core import jobs
from core.clock import utcnow
from core.db import db
from core.notify import Audience, Event, emit, path_for
from network.models import Group
from orders.models import (
    Allocation,
    BuyingRound,
    GroupOrder,
    Invoice,
    Offer,
    OrderLine,
    Payment,
    Product,
    PurchaseOrder,
)

ITEMS_SHOWN = 6
ANNOUNCE_JOB = "orders.announce_combined"
SHORTAGE_JOB = "orders.announce_shortage"


def _items(rows: list[tuple[str, int, str]]) -> str:
    """'ข้าวหอมมะลิ 450 kg, น้ำมันพืช 24 ขวด …' (names and units as the network wrote them)."""
    shown = [f"{name} {quantity:,} {unit}" for name, quantity, unit in rows[:ITEMS_SHOWN]]
    return ", ".join(shown) + (" …" if len(rows) > ITEMS_SHOWN else "") if shown else "–"


def round_opened(rnd: BuyingRound) -> None:
    """Leaders of every group of the network: the products and the deadline."""
    names = list(db.session.scalars(
        select(Product.name).join(Offer, Offer.product_id == Product.id).where(Offer.round_id == rnd.id)
        .order_by(Offer.id)))
    products = ", ".join(names[:ITEMS_SHOWN]) + (" …" if len(names) > ITEMS_SHOWN else "")
    emit(Event(key=f"round_opened:{rnd.id}", kind="round_opened", network_id=rnd.network_id,
               audience=(Audience("leaders"),),
               context={"round": rnd.name, "closes_at": rnd.closes_at, "offers": len(names), "products": products},
               link=path_for("orders_views.round_detail", round_id=rnd.id)))


def remind_closing_rounds() -> int:
    """Periodic: for each open round closing within 24 hours, the leaders of groups with no order yet.
    One event per round; a leader already reminded is not reminded again (its unique key)."""
    now = utcnow()
    rounds = list(db.session.scalars(select(BuyingRound).where(
        BuyingRound.state == "open", BuyingRound.closes_at > now, BuyingRound.closes_at <= now + timedelta(hours=24))))
    reminded = 0
    for rnd in rounds:
        ordered = exists().where(GroupOrder.round_id == rnd.id, GroupOrder.group_id == Group.id,
                                 exists().where(OrderLine.group_order_id == GroupOrder.id))
        group_ids = list(db.session.scalars(select(Group.id).where(Group.network_id == rnd.network_id, ~ordered)))
        if group_ids:
            emit(Event(key=f"round_closing_soon:{rnd.id}", kind="round_closing_soon", network_id=rnd.network_id,
                       audience=tuple(Audience("leaders", gid) for gid in group_ids),
                       context={"round": rnd.name, "closes_at": rnd.closes_at},
                       link=path_for("orders_views.round_detail", round_id=rnd.id)))
            reminded += len(group_ids)
    db.session.commit()
    return reminded


def _items_by_group(round_id: int, purchase_order_id: int | None = None) -> dict[int, str]:
    """What each group gets (one query for the round or one purchase order)."""
    # At most one more item per group than is shown (to know there are more): Python holds a few
    # rows per group, not every line of a large round.
    ranked = (select(Allocation.group_id, Allocation.offer_id, Product.name, Allocation.allocated, Product.unit,
                     func.row_number().over(partition_by=Allocation.group_id, order_by=Allocation.offer_id).label("n"))
              .join(Offer, Offer.id == Allocation.offer_id).join(Product, Product.id == Offer.product_id)
              .where(Allocation.round_id == round_id, Allocation.allocated > 0))
    if purchase_order_id is not None:
        ranked = ranked.where(Allocation.purchase_order_id == purchase_order_id)
    top = ranked.subquery()
    query = (select(top.c.group_id, top.c.name, top.c.allocated, top.c.unit).where(top.c.n <= ITEMS_SHOWN + 1)
             .order_by(top.c.group_id, top.c.offer_id))
    rows: dict[int, list[tuple[str, int, str]]] = {}
    for group_id, name, quantity, unit in db.session.execute(query):
        rows.setdefault(group_id, []).append((name, int(quantity), unit))
    return {group_id: _items(found) for group_id, found in rows.items()}


def announce_combined(rnd: BuyingRound) -> None:
    """Called in the combine's transaction: one job, run after it commits, tells the groups. Writing a
    message per group in the combine itself doubled a large round's combine time and memory."""
    jobs.enqueue(ANNOUNCE_JOB, {"round_id": rnd.id}, network_id=rnd.network_id,
                 dedupe_key=f"{ANNOUNCE_JOB}:{rnd.id}")


@jobs.handler(ANNOUNCE_JOB)
def announce_combined_job(round_id: int) -> dict[str, int]:
    """Idempotent: the events' keys make a second run notify nobody twice."""
    told = round_combined(round_id)
    db.session.commit()
    return {"round_id": round_id, "groups": told}


def round_combined(round_id: int) -> int:
    """Leaders of each group that ordered: what the group gets, pays and saves (its invoice)."""
    rnd = db.session.get(BuyingRound, round_id)
    if rnd is None or rnd.combined_at is None:
        return 0
    rows = db.session.execute(select(Invoice, Group.name).join(Group, Group.id == Invoice.group_id)
                              .where(Invoice.round_id == round_id).order_by(Invoice.group_id)).all()
    items = _items_by_group(round_id)
    emit(*[Event(key=f"round_combined:{round_id}:{invoice.group_id}", kind="round_combined",
                 network_id=rnd.network_id, audience=(Audience("leaders", invoice.group_id),),
                 context={"round": rnd.name, "group": group_name, "items": items.get(invoice.group_id, "–"),
                          "total": invoice.total, "savings": invoice.savings},
                 link=path_for("orders_views.invoice", invoice_id=invoice.id))
           for invoice, group_name in rows])
    return len(rows)


def announce_shortage(po: PurchaseOrder) -> None:
    """Called in the receipt's transaction: one job, run after it commits, tells the groups whose
    quantities went down (as the combine's announcement, off the receipt's clock)."""
    rnd = db.session.get_one(BuyingRound, po.round_id)
    jobs.enqueue(SHORTAGE_JOB, {"purchase_order_id": po.id}, network_id=rnd.network_id,
                 dedupe_key=f"{SHORTAGE_JOB}:{po.id}")


@jobs.handler(SHORTAGE_JOB)
def announce_shortage_job(purchase_order_id: int) -> dict[str, int]:
    told = delivery_shortage(purchase_order_id)
    db.session.commit()
    return {"purchase_order_id": purchase_order_id, "groups": told}


def delivery_shortage(purchase_order_id: int) -> int:
    """After a receipt with a shortage: leaders of the groups whose quantities went down, with the new
    quantities of that delivery and the new bill."""
    rows = db.session.execute(
        select(Allocation.round_id, Allocation.group_id).where(
            # Allocations are keyed by round first: reach the order's lines through its round.
            Allocation.round_id == select(PurchaseOrder.round_id).where(PurchaseOrder.id == purchase_order_id)
            .scalar_subquery(),
            Allocation.purchase_order_id == purchase_order_id, Allocation.allocated < Allocation.ordered_allocation)
        .distinct().order_by(Allocation.group_id)).all()
    if not rows:
        return 0
    rnd = db.session.get(BuyingRound, rows[0].round_id)
    assert rnd is not None
    invoices = {inv.group_id: inv for inv in db.session.scalars(
        select(Invoice).where(Invoice.round_id == rnd.id, Invoice.group_id.in_([r.group_id for r in rows])))}
    names: dict[int, str] = {gid: name for gid, name in db.session.execute(
        select(Group.id, Group.name).where(Group.id.in_([r.group_id for r in rows])))}
    items = _items_by_group(rnd.id, purchase_order_id)
    events = []
    for row in rows:
        invoice = invoices.get(row.group_id)
        events.append(Event(
            key=f"delivery_shortage:{purchase_order_id}:{row.group_id}", kind="delivery_shortage",
            network_id=rnd.network_id, audience=(Audience("leaders", row.group_id),),
            context={"round": rnd.name, "group": names.get(row.group_id, ""), "items": items.get(row.group_id, "–"),
                     "total": invoice.total if invoice else Decimal("0")},
            link=path_for("orders_views.invoice", invoice_id=invoice.id) if invoice
            else path_for("orders_views.round_detail", round_id=rnd.id)))
    emit(*events)
    return len(events)


def payment_recorded(payment: Payment, invoice: Invoice) -> None:
    """That group's leader: the payment, what is paid and what is left."""
    rnd = db.session.get(BuyingRound, invoice.round_id)
    group_name = db.session.scalar(select(Group.name).where(Group.id == invoice.group_id))
    assert rnd is not None
    emit(Event(key=f"payment_recorded:{payment.id}", kind="payment_recorded", network_id=rnd.network_id,
               audience=(Audience("leaders", invoice.group_id),),
               context={"round": rnd.name, "group": group_name or "", "amount": payment.amount, "paid": invoice.paid,
                        "total": invoice.total, "outstanding": invoice.total - invoice.paid},
               link=path_for("orders_views.invoice", invoice_id=invoice.id)))

