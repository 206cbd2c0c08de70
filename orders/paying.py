"""Paying a bill: what to pay to whom as a PromptPay QR, an invoice with its payments, a receipt.

``payment_for`` is the one entry point for any bill (a group's invoice here, a household's bill in the
households domain): the payee's PromptPay id and the amount still due in, the payload out."""
from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import segno
from sqlalchemy import select

from core.db import db
from core.errors import NotFound
from network.models import Group, Network, User
from orders.invoices import get_invoice
from orders.models import BuyingRound, Invoice, Payment
from pricing.baht_words import baht_words
from pricing.promptpay import PaymentRequest, payment_request


def payment_for(promptpay_id: str | None, amount: Decimal) -> PaymentRequest | None:
    """The PromptPay request for a bill: None when the payee has no PromptPay id or nothing is due.

    ``PaymentRequest(promptpay_id, amount, payload)``; dump it with :func:`payment_json`."""
    return payment_request(promptpay_id, amount)


def payment_json(request: PaymentRequest | None) -> dict[str, Any] | None:
    """``{promptpay_id, amount, payload}`` (amount a decimal string) or None, as the API shows it."""
    if request is None:
        return None
    return {"promptpay_id": request.promptpay_id, "amount": f"{request.amount:.2f}", "payload": request.payload}


def qr_svg(payload: str, title: str = "พร้อมเพย์", inline: bool = False) -> str:
    """The payload as a QR code, an SVG document drawn on the server (error correction M, quiet zone 4).

    ``inline``: for a page, sized by its CSS (a viewBox, no width and height of its own)."""
    code = segno.make(payload, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, xmldecl=False, title=title, dark="#000", light="#fff",
              omitsize=inline)
    return out.getvalue().decode("utf-8")


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    round: BuyingRound
    group: Group
    network: Network
    payment: PaymentRequest | None
    payments: list[Payment]

    @property
    def due_words(self) -> str:
        return baht_words(self.invoice.outstanding)


def invoice_payment(invoice: Invoice, network: Network) -> PaymentRequest | None:
    """A group pays its invoice to the network: the network's PromptPay id, for what is still owed."""
    return payment_for(network.promptpay_id, invoice.outstanding)


def invoice_view(actor: User, invoice_id: int) -> InvoiceView:
    invoice = get_invoice(actor, invoice_id)
    rnd = db.session.get_one(BuyingRound, invoice.round_id)
    network = db.session.get_one(Network, rnd.network_id)
    group = db.session.get_one(Group, invoice.group_id)
    payments = list(db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id)))
    return InvoiceView(invoice, rnd, group, network, invoice_payment(invoice, network), payments)


def invoice_detail(actor: User, invoice_id: int) -> dict[str, Any]:
    """``GET /api/v1/invoices/<id>``: the invoice, what is due (also in words), how to pay it, its payments."""
    view = invoice_view(actor, invoice_id)
    inv = view.invoice
    return {"id": inv.id, "group_id": inv.group_id, "round_id": inv.round_id, "total": inv.total, "paid": inv.paid,
            "due": inv.outstanding, "due_words": view.due_words, "credit": inv.credit, "savings": inv.savings,
            "payment": payment_json(view.payment), "payments": view.payments}


def invoice_qr(actor: User, invoice_id: int) -> str | None:
    """The invoice's QR as SVG, or None when there is nothing to pay or no PromptPay id to pay to."""
    view = invoice_view(actor, invoice_id)
    if view.payment is None:
        return None
    return qr_svg(view.payment.payload)


@dataclass(frozen=True)
class Receipt:
    payment: Payment
    invoice: Invoice
    round: BuyingRound
    group: Group
    network: Network

    @property
    def amount_words(self) -> str:
        return baht_words(self.payment.amount)


def receipt(actor: User, payment_id: int) -> Receipt:
    """A payment's receipt, for whoever may see its invoice (the committee, the paying group)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.network_id != actor.network_id:
        raise NotFound("No such receipt.")
    invoice = get_invoice(actor, payment.invoice_id)
    rnd = db.session.get_one(BuyingRound, invoice.round_id)
    return Receipt(payment, invoice, rnd, db.session.get_one(Group, invoice.group_id),
                   db.session.get_one(Network, rnd.network_id))
