"""Pages of a round's invoices and the payments recorded on them; routes of the orders blueprint."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.errors import DomainError
from core.pages import COMMITTEE, apply_domain_error, roles_required
from network import services as network_services
from orders import services
from orders.forms import PaymentForm, form_money
from orders.invoices import invoice_lines, invoice_payments, list_invoices, record_payment
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
                record_payment(current_user, invoice_id, form_money(form.amount.data), form.note.data or "")
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                apply_domain_error(form, exc)
            else:
                flash(_("บันทึกการชำระเงินแล้ว"), "ok")
                return redirect(url_for("orders_views.invoice", invoice_id=invoice_id))
        inv, lines = invoice_lines(current_user, invoice_id)
    return render_template("orders/invoice.html", inv=inv, lines=lines, rnd=rnd, group=group, form=form,
                           payments=invoice_payments(current_user, invoice_id)), status
