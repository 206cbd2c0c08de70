"""Pages of a round's invoices and the payments recorded on them; routes of the orders blueprint."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from core.errors import DomainError
from core.pages import COMMITTEE, roles_required, show_refusal
from network import services as network_services
from orders import paying, services
from orders.cancellations import cancel_payment
from orders.forms import METHOD_LABELS, CancelReceiptForm, PaymentForm, form_money
from orders.invoices import invoice_lines, list_invoices, record_payment
from orders.views import bp


@bp.route("/rounds/<int:round_id>/invoices")
@login_required
def invoices(round_id: int) -> ResponseReturnValue:
    rnd = services.get_round(current_user, round_id)
    rows = list_invoices(current_user, round_id)
    groups = {g.id: g for g in network_services.list_groups(current_user)}
    return render_template("orders/invoices.html", rnd=rnd, invoices=rows, groups=groups)


@bp.route("/invoices")
@roles_required("leader", "seller")
def my_invoices() -> ResponseReturnValue:
    rows = []
    for rnd in services.list_rounds(current_user):
        if rnd.state in ("combined", "delivered", "settled"):
            rows += [(rnd, inv) for inv in list_invoices(current_user, rnd.id)]
    return render_template("orders/my_invoices.html", rows=rows)


@bp.route("/invoices/<int:invoice_id>", methods=["GET", "POST"])
@login_required
def invoice(invoice_id: int) -> ResponseReturnValue:
    inv, lines = invoice_lines(current_user, invoice_id)
    rnd = services.get_round(current_user, inv.round_id)
    group = network_services.get_group(current_user, inv.group_id)
    form = PaymentForm() if current_user.role in COMMITTEE else None
    status = 200
    if request.method == "POST":
        if form is None:
            abort(403)
        status = 422
        if form.validate_on_submit():
            try:
                payment = record_payment(current_user, invoice_id, form_money(form.amount.data), form.note.data or "",
                                         form.method.data, form.slip_bytes())
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                flash(_("บันทึกการชำระเงินแล้ว ออกใบเสร็จเลขที่ %(number)s", number=payment.receipt_number), "ok")
                if payment.slip_state == "check_by_eye":
                    flash(_("อ่านคิวอาร์โค้ดบนสลิปไม่ได้ เก็บรูปไว้แล้ว กรุณาตรวจสลิปด้วยตาว่ายอดและบัญชีถูกต้อง"), "pending")
                return redirect(url_for("orders_views.invoice", invoice_id=invoice_id))
        inv, lines = invoice_lines(current_user, invoice_id)
    view = paying.invoice_view(current_user, invoice_id)
    qr = Markup(paying.qr_svg(view.payment.payload, inline=True)) if view.payment is not None else None
    return render_template("orders/invoice.html", inv=inv, lines=lines, rnd=rnd, group=group, form=form, view=view,
                           qr=qr, method_labels=METHOD_LABELS), status


@bp.route("/payments/<int:payment_id>/receipt", methods=["GET", "POST"])
@login_required
def payment_receipt(payment_id: int) -> ResponseReturnValue:
    """The printable receipt (ใบเสร็จรับเงิน) of one payment: A5 in print, one column on a phone. The committee
    may cancel it here: a new numbered document, the receipt itself unchanged."""
    receipt = paying.receipt(current_user, payment_id)
    form = CancelReceiptForm() if current_user.role in COMMITTEE and receipt.payment.cancellation is None else None
    status = 200
    if request.method == "POST":
        if form is None:
            abort(403 if current_user.role not in COMMITTEE else 409)
        status = 422
        if form.validate_on_submit():
            try:
                cancellation = cancel_payment(current_user, payment_id, form.reason.data or "")
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                flash(_("ยกเลิกใบเสร็จแล้ว ด้วยใบยกเลิกเลขที่ %(number)s ยอดนี้กลับไปเป็นยอดค้างชำระของใบแจ้งหนี้",
                        number=cancellation.number), "ok")
                return redirect(url_for("orders_views.payment_cancellation", payment_id=payment_id))
    return render_template("orders/payment_receipt.html", r=receipt, method_labels=METHOD_LABELS, form=form), status


@bp.route("/payments/<int:payment_id>/cancellation")
@login_required
def payment_cancellation(payment_id: int) -> ResponseReturnValue:
    """The printable document that cancelled a receipt (ใบยกเลิกใบเสร็จรับเงิน)."""
    receipt = paying.receipt(current_user, payment_id)
    if receipt.payment.cancellation is None:
        abort(404)
    return render_template("orders/payment_cancellation.html", r=receipt, c=receipt.payment.cancellation,
                           method_labels=METHOD_LABELS)
