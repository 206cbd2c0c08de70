"""Invoices and payments of a combined round, and the invoice SQL (exact on PostgreSQL and SQLite)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError

import pricing
from core.audit import record
from core.clock import utcnow
from core.db import UTCDateTime, db, is_postgres
from core.errors import Conflict, Forbidden, InvalidInput, Msg, NotFound
from core.events import data_changed
from core.fields import require_money, require_text
from network.models import Network, User
from orders import events, permissions
from orders.models import (
    PAYMENT_METHODS,
    Allocation,
    BuyingRound,
    Invoice,
    Offer,
    Payment,
    PaymentSlip,
    allocation_amount_sql,
    allocation_savings_sql,
)
from orders.reads import combined_round
from orders.receipt_numbers import next_receipt_number
from orders.slips import Slip, read_slip


def satang_sum(satang: str) -> str:
    """The sum of an integer satang expression, in baht: exact NUMERIC on PostgreSQL; on SQLite (which
    stores REAL) the double nearest it, which the Money column rounds back to the satang."""
    if is_postgres():
        return f"sum({satang}) * 0.01"
    return f"sum({satang}) / 100.0"


def _sums() -> tuple[str, str]:
    """An invoice's total and savings: the sums of its allocations' amounts and savings (satang, to baht)."""
    return satang_sum(allocation_amount_sql("a")), satang_sum(allocation_savings_sql("a"))


def insert_invoices(round_id: int) -> None:
    """One invoice per group of the round: Σ amount and Σ savings of its lines."""
    total, savings = _sums()
    db.session.execute(text(
        f"INSERT INTO invoices (round_id, group_id, total, paid, savings, created_at) "
        f"SELECT :round_id, a.group_id, {total}, 0, {savings}, :now "
        f"FROM allocations a WHERE a.round_id = :round_id GROUP BY a.group_id"
    ).bindparams(bindparam("now", type_=UTCDateTime())), {"round_id": round_id, "now": utcnow()})


def write_invoices(round_id: int, purchase_order_id: int | None = None) -> None:
    """After a delivery: each invoice of the round takes its lines' new totals (set-based).

    With ``purchase_order_id``, only the invoices of the groups with lines on that order (the only
    ones a receipt of it can change). The totals are one GROUP BY, joined to the invoices."""
    which = ""
    params: dict[str, Any] = {"round_id": round_id}
    if purchase_order_id is not None:
        which = (" AND a.group_id IN (SELECT p.group_id FROM allocations p WHERE p.round_id = :round_id"
                 " AND p.purchase_order_id = :po_id)")
        params["po_id"] = purchase_order_id
    total, savings = _sums()
    totals = (f"(SELECT a.group_id, {total} AS total, {savings} AS savings "
              f"FROM allocations a WHERE a.round_id = :round_id{which} GROUP BY a.group_id) t")
    # A group that paid before a short delivery may now have paid more than its new total: the receipt is
    # still recorded (the goods did come short) and the invoice shows the difference as the group's credit.
    db.session.execute(text(
        f"UPDATE invoices SET total = t.total, savings = t.savings FROM {totals} "
        f"WHERE invoices.round_id = :round_id AND invoices.group_id = t.group_id "
        f"AND (invoices.total <> t.total OR invoices.savings <> t.savings)"), params)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Invoice):
            db.session.expire(obj)


def list_invoices(actor: User, round_id: int) -> list[Invoice]:
    rnd = combined_round(actor, round_id)
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


def get_invoice(actor: User, invoice_id: int) -> Invoice:
    """An invoice the actor may see (the committee: any of the network's; a group: its own), else 404."""
    return _get_invoice(actor, invoice_id)


def _method(method: str | None, slip: Slip | None) -> str:
    if method is None:
        return "transfer" if slip is not None else "cash"
    if method not in PAYMENT_METHODS:
        raise InvalidInput(Msg("Pay by cash, promptpay or transfer.", "payment_method_unknown"),
                           {"method": [Msg("One of cash, promptpay, transfer.", "payment_method_unknown")]})
    if method == "cash" and slip is not None:
        raise InvalidInput(Msg("A transfer slip goes with a PromptPay payment or a transfer, not cash.", "slip_with_cash"),
                           {"slip": [Msg("Not with cash.", "slip_with_cash")]})
    return method


def _slip_used(network_id: int, bank_ref: str) -> Conflict:
    earlier = db.session.scalar(select(Payment.receipt_number).where(
        Payment.network_id == network_id, Payment.bank_ref == bank_ref))
    return Conflict(Msg(f"This slip was already used for receipt {earlier}.", "slip_used", receipt=earlier),
                    {"slip": [Msg("Already used.", "used")]}, bank_ref=bank_ref, receipt_number=earlier)


def record_payment(actor: User, invoice_id: int, amount: Decimal, note: str = "", method: str | None = None,
                   slip: bytes | None = None) -> Payment:
    """Record a payment and issue its numbered receipt, in one transaction.

    A slip's photo is read before anything is locked; a slip whose bank reference was already used on
    this network is refused (409) and nothing is written."""
    invoice = _get_invoice(actor, invoice_id)
    if not permissions.can_record_payment(actor):
        raise Forbidden("Only the committee records payments.")
    amount = require_money("amount", amount)
    note = require_text("note", note, max_length=500)
    if amount <= 0:
        raise InvalidInput(Msg("A payment is more than 0 baht.", "payment_not_positive"),
                           {"amount": [Msg("Must be more than 0.", "must_be_positive")]})
    read = read_slip(slip) if slip is not None else None
    method = _method(method, read)
    rnd = db.session.get_one(BuyingRound, invoice.round_id)
    network = db.session.get_one(Network, rnd.network_id)
    if read is not None and read.bank_ref is not None and db.session.scalar(select(Payment.id).where(
            Payment.network_id == network.id, Payment.bank_ref == read.bank_ref)) is not None:
        raise _slip_used(network.id, read.bank_ref)
    # One conditional UPDATE: two payments racing can never together pay more than the total.
    paid_after = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.paid + amount <= Invoice.total)
        .values(paid=Invoice.paid + amount).returning(Invoice.paid)
    ).scalar()
    if paid_after is None:
        db.session.rollback()
        db.session.refresh(invoice)
        outstanding = invoice.total - invoice.paid
        raise InvalidInput(f"That is more than the {outstanding} baht still owed.",
                           {"amount": [Msg(f"At most {outstanding}.", "at_most", amount=outstanding)]},
                           outstanding=str(outstanding))
    paid_at = utcnow()
    payment = Payment(invoice_id=invoice.id, network_id=network.id, amount=amount, method=method,
                      receipt_number=next_receipt_number(network.id, paid_at, network.timezone),
                      bank_ref=read.bank_ref if read else None,
                      slip_state=None if read is None else ("read" if read.bank_ref else "check_by_eye"),
                      recorded_by_id=actor.id, paid_at=paid_at, note=note)
    db.session.add(payment)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        # The same slip sent twice at once: the unique (network_id, bank_ref) guarantees one wins.
        db.session.rollback()
        if read is None or read.bank_ref is None or "bank_ref" not in str(exc.orig):
            raise
        raise _slip_used(network.id, read.bank_ref) from exc
    if read is not None:
        db.session.add(PaymentSlip(payment_id=payment.id, content_type=read.content_type, data=read.data))
    paid_after = pricing.money(Decimal(str(paid_after)))
    record(actor, "invoice.payment", "invoice", invoice.id, {"paid": paid_after - amount, "total": invoice.total},
           {"paid": paid_after, "amount": amount, "payment_id": payment.id, "note": note,
            "receipt_number": payment.receipt_number, "method": method})
    db.session.refresh(invoice)
    settle_if_paid(rnd)
    data_changed(rnd.network_id, payment.paid_at)
    events.payment_recorded(payment, invoice)
    db.session.commit()
    return payment


def settle_if_paid(rnd: BuyingRound) -> None:
    if rnd.state != "delivered":
        return
    unpaid = db.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.round_id == rnd.id, Invoice.paid < Invoice.total))
    if not unpaid:
        rnd.state = "settled"
        rnd.settled_at = utcnow()
