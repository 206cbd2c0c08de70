"""Cancelling a receipt: a new numbered document says which receipt it cancels and why; the receipt itself is
never changed. The invoice is owed the amount again (and a settled round is open for payment again)."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.audit import record
from core.clock import utcnow
from core.db import db
from core.errors import Conflict, Forbidden, Msg, NotFound
from core.events import data_changed
from core.fields import require_text
from network.models import Network, User
from orders import permissions
from orders.invoices import get_invoice
from orders.models import BuyingRound, Invoice, Payment, PaymentCancellation
from orders.receipt_numbers import next_receipt_number


def _already(payment: Payment) -> Conflict:
    number = db.session.scalar(select(PaymentCancellation.number).where(PaymentCancellation.payment_id == payment.id))
    return Conflict(Msg(f"Receipt {payment.receipt_number} was already cancelled by {number}.", "receipt_cancelled"),
                    cancellation_number=number)


def cancel_payment(actor: User, payment_id: int, reason: str) -> PaymentCancellation:
    """Issue the cancellation of one receipt (committee), in one transaction."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.network_id != actor.network_id:
        raise NotFound("No such receipt.")
    invoice = get_invoice(actor, payment.invoice_id)
    if not permissions.can_record_payment(actor):
        raise Forbidden("Only the committee cancels receipts.")
    reason = require_text("reason", reason, max_length=500, required=True)
    if payment.cancellation is not None:
        raise _already(payment)
    network = db.session.get_one(Network, payment.network_id)
    now = utcnow()
    cancellation = PaymentCancellation(payment_id=payment.id, network_id=network.id, reason=reason,
                                       number=next_receipt_number(network.id, now, network.timezone, "cancellation"),
                                       cancelled_by_id=actor.id, cancelled_at=now)
    db.session.add(cancellation)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        # Cancelled twice at once: the unique payment_id lets one through; the other gives its number back.
        db.session.rollback()
        raise _already(payment) from exc
    db.session.execute(update(Invoice).where(Invoice.id == invoice.id).values(paid=Invoice.paid - payment.amount))
    rnd = db.session.get_one(BuyingRound, invoice.round_id)
    if rnd.state == "settled":
        rnd.state, rnd.settled_at = "delivered", None  # owed again: no longer settled
    record(actor, "payment.cancel", "invoice", invoice.id, {"receipt_number": payment.receipt_number},
           {"cancellation_number": cancellation.number, "amount": payment.amount, "reason": reason})
    data_changed(network.id, payment.paid_at)
    db.session.commit()
    db.session.refresh(payment)
    return cancellation
