"""The group's order pages: the leader's order form, and withdrawing the whole order (its own, confirmed page)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from core import format as fmt
from core.errors import DomainError
from core.pages import confirmation, flash_refusal, roles_required, show_refusal
from orders import services
from orders.estimate import group_estimate, tolerance_so_far
from orders.forms import ActionForm, order_form_class
from orders.views import _round_context, bp


@bp.route("/rounds/<int:round_id>/order", methods=["GET", "POST"])
@roles_required("leader")
def order(round_id: int) -> ResponseReturnValue:
    ctx = _round_context(round_id)
    rnd = ctx["rnd"]
    group_id = current_user.group_id
    current = services.get_group_order(current_user, rnd.id, group_id)
    mine = {line["offer_id"]: line for line in current["lines"]}
    form = order_form_class(rnd.offers)()
    if request.method == "GET":
        for offer in rnd.offers:
            line = mine.get(offer.id)
            getattr(form, f"q_{offer.id}").data = line["quantity"] if line else None
            getattr(form, f"t_{offer.id}").data = line["tolerance"] if line else None
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            lines = []
            ok = True
            for offer in rnd.offers:
                q = getattr(form, f"q_{offer.id}").data or 0
                t = getattr(form, f"t_{offer.id}").data or 0
                if q == 0 and t > 0:
                    getattr(form, f"t_{offer.id}").errors = [_("ใส่จำนวนที่ต้องการก่อน")]
                    ok = False
                if q > 0:
                    lines.append({"offer_id": offer.id, "quantity": q, "tolerance": t})
            removed = [offer for offer in rnd.offers if offer.id in mine and offer.id not in
                       {line["offer_id"] for line in lines}]
            if ok and lines and removed:
                # A save that takes lines out asks first, naming them (a blank form is the service's refusal).
                asked = confirmation(
                    _("ลบ %(n)s รายการออกจากคำสั่งซื้อของกลุ่ม?", n=len(removed)),
                    _("รายการที่จะลบ: %(items)s ที่เหลือจะบันทึกตามที่กรอก", items=", ".join(
                        _("%(product)s · %(n)s %(unit)s", product=o.product.name,
                          n=fmt.number(mine[o.id]["quantity"]), unit=o.product.unit) for o in removed)),
                    url_for("orders_views.order", round_id=rnd.id), _("ลบรายการและบันทึก"))
                if asked is not None:
                    return asked
            if ok:
                try:
                    services.replace_group_order(current_user, rnd.id, group_id, lines)
                except DomainError as exc:
                    show_refusal(form, exc)
                else:
                    flash(_("บันทึกคำสั่งซื้อของกลุ่มแล้ว"), "ok")
                    return redirect(url_for("orders_views.order", round_id=rnd.id))
    mine_qty = {offer_id: line["quantity"] for offer_id, line in mine.items()}
    mine_tol = {offer_id: line["tolerance"] for offer_id, line in mine.items()}
    estimate = group_estimate(current_user, rnd, group_id) if rnd.state == "open" and mine else None
    # After the close the page shows the bill as combined (the lines' allocations), never an estimate.
    billed = rnd.state in ("combined", "delivered", "settled")
    return render_template("orders/order.html", form=form, mine=mine_qty, mine_tol=mine_tol, lines=mine,
                           tol_so_far=tolerance_so_far(current_user, rnd.id), billed=billed,
                           updated_at=current["updated_at"], estimate=estimate, **ctx), status


@bp.route("/rounds/<int:round_id>/order/withdraw", methods=["GET", "POST"])
@roles_required("leader")
def withdraw_order(round_id: int) -> ResponseReturnValue:
    """Withdraw the group's whole order: a page that says what will happen, then one button."""
    rnd = services.get_round(current_user, round_id)
    current = services.get_group_order(current_user, rnd.id, current_user.group_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.withdraw_group_order(current_user, rnd.id, current_user.group_id)
        except DomainError as exc:
            flash_refusal(exc)
        else:
            flash(_("ถอนคำสั่งซื้อของกลุ่มในรอบนี้แล้ว"), "ok")
        return redirect(url_for("orders_views.order", round_id=rnd.id))
    return render_template("orders/withdraw.html", rnd=rnd, lines=current["lines"], form=form)
