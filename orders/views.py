"""Pages of buying rounds: rounds and offers, the group's order form, results, purchase orders,
delivery receipt, distribution list, invoices and payments, suppliers, products and price lists."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core import format as fmt
from core.clock import utcnow
from core.csv_export import csv_response
from core.errors import DomainError
from core.jobs import job_of_page
from core.pages import (
    COMMITTEE,
    apply_domain_error,
    confirmation,
    field_text,
    filled,
    flash_refusal,
    page_error_handlers,
    roles_required,
    show_refusal,
)
from orders import price_list, reads, services
from orders.delivery import record_receipt
from orders.estimate import group_estimate, tier_status
from orders.forms import (
    ActionForm,
    OfferForm,
    PriceListForm,
    ProductForm,
    RoundForm,
    SupplierForm,
    form_money,
    receipt_form_class,
)
from orders.invoices import list_invoices

bp = Blueprint("orders_views", __name__, template_folder="templates")


# --- helpers ---------------------------------------------------------------------------------------

def _names() -> tuple[dict[int, Any], dict[int, Any]]:
    suppliers = {s.id: s for s in services.list_suppliers(current_user)}
    products = {p.id: p for p in services.list_products(current_user)}
    return suppliers, products


def _local_tz() -> ZoneInfo:
    return ZoneInfo(current_user.network.timezone)


# --- rounds ----------------------------------------------------------------------------------------

@bp.route("/rounds", methods=["GET", "POST"])
@login_required
def rounds() -> ResponseReturnValue:
    form = RoundForm()
    status = 200
    if request.method == "POST":
        if current_user.role not in COMMITTEE:
            abort(403)
        if form.validate_on_submit():
            closes_at = filled(form.closes_at.data).replace(tzinfo=_local_tz())
            try:
                rnd = services.create_round(current_user, filled(form.name.data).strip(), closes_at)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                flash(_("สร้างรอบ %(name)s แล้ว เพิ่มข้อเสนอแล้วเปิดรอบ", name=rnd.name), "ok")
                return redirect(url_for("orders_views.round_detail", round_id=rnd.id))
        status = 422
    elif not form.closes_at.data:
        form.closes_at.data = (utcnow() + timedelta(days=7)).astimezone(_local_tz()).replace(
            tzinfo=None, second=0, microsecond=0)
    all_rounds = services.list_rounds(current_user)
    return render_template("orders/rounds.html", rounds=all_rounds, form=form), status


def _offer_form(rnd: Any) -> OfferForm:
    form = OfferForm(prefix="offer")
    suppliers, products = _names()
    form.product_id.choices = [(0, _("— เลือก —"))] + [(p.id, f"{p.name} ({p.unit})") for p in products.values()]
    form.supplier_id.choices = [(0, _("— เลือก —"))] + [(s.id, s.name) for s in suppliers.values()]
    if not form.tiers.data:
        form.tiers.data = "0:0.00"
    return form


def _round_context(rnd_id: int) -> dict[str, Any]:
    rnd = services.load_round(current_user, rnd_id)
    so_far = services.orders_so_far(current_user, rnd.id)
    status = {o.id: tier_status(o, so_far.get(o.id, 0)) for o in rnd.offers}
    return {"rnd": rnd, "so_far": so_far, "status": status}


@bp.route("/rounds/<int:round_id>")
@login_required
def round_detail(round_id: int) -> ResponseReturnValue:
    job = job_of_page(current_user, request.args.get("job"))  # before the round: see job_of_page
    ctx = _round_context(round_id)
    rnd = ctx["rnd"]
    order = None
    if current_user.group_id and current_user.role in ("leader", "seller"):
        order = services.get_group_order(current_user, rnd.id, current_user.group_id)
    offer_form = _offer_form(rnd) if current_user.role in COMMITTEE and rnd.state in ("draft", "open") else None
    estimate = None
    if order and order["lines"] and rnd.state == "open":
        estimate = group_estimate(current_user, rnd, current_user.group_id)
    invoices = []
    if rnd.state in ("combined", "delivered", "settled"):
        invoices = list_invoices(current_user, rnd.id)
    return render_template("orders/round.html", offer_form=offer_form, action=ActionForm(), job=job, order=order,
                           invoices=invoices, estimate=estimate, **ctx)


@bp.route("/rounds/<int:round_id>/offers", methods=["POST"])
@roles_required(*COMMITTEE)
def add_offer(round_id: int) -> ResponseReturnValue:
    ctx = _round_context(round_id)
    form = _offer_form(ctx["rnd"])
    if form.validate_on_submit():
        tiers = price_list.parse_tiers(filled(form.tiers.data)) or []
        data = {"product_id": form.product_id.data, "supplier_id": form.supplier_id.data,
                "pack_size": form.pack_size.data, "min_quantity": form.min_quantity.data,
                "reference_price": form_money(form.reference_price.data), "delivery_fee": form_money(form.delivery_fee.data),
                "tiers": [{"min_quantity": q, "unit_price": p} for q, p in tiers]}
        try:
            services.add_offer(current_user, round_id, data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            flash(_("เพิ่มข้อเสนอแล้ว"), "ok")
            return redirect(url_for("orders_views.round_detail", round_id=round_id))
    return render_template("orders/round.html", offer_form=form, action=ActionForm(), job=None, order=None,
                           invoices=[], **ctx), 422


@bp.route("/rounds/<int:round_id>/open", methods=["POST"])
@roles_required(*COMMITTEE)
def open_round(round_id: int) -> ResponseReturnValue:
    ActionForm().validate_on_submit()
    try:
        services.open_round(current_user, round_id)
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash(_("เปิดรับคำสั่งซื้อแล้ว"), "ok")
    return redirect(url_for("orders_views.round_detail", round_id=round_id))


@bp.route("/rounds/<int:round_id>/close", methods=["POST"])
@roles_required(*COMMITTEE)
def close_round(round_id: int) -> ResponseReturnValue:
    rnd = services.get_round(current_user, round_id)  # 404 for another network's round
    if rnd.state == "open":
        asked = confirmation(
            _("ปิดรับคำสั่งซื้อรอบ %(name)s ตอนนี้?", name=rnd.name),
            _("กำหนดปิดรับเดิมคือ %(when)s ถ้าปิดตอนนี้ กลุ่มที่ยังไม่ได้สั่งจะสั่งไม่ได้อีก และระบบจะเริ่มรวมยอดทันที ปิดแล้วเปิดใหม่ไม่ได้",
              when=fmt.moment(rnd.closes_at)),
            url_for("orders_views.round_detail", round_id=round_id), _("ปิดรับและรวมยอดตอนนี้"))
        if asked is not None:
            return asked
    try:
        job = services.close_round(current_user, round_id)
    except DomainError as exc:
        flash_refusal(exc)
        return redirect(url_for("orders_views.round_detail", round_id=round_id))
    flash(_("ปิดรับแล้ว กำลังรวมยอดคำสั่งซื้อ"), "ok")
    return redirect(url_for("orders_views.round_detail", round_id=round_id, job=job.id))


@bp.route("/rounds/<int:round_id>/combine", methods=["POST"])
@roles_required(*COMMITTEE)
def retry_combine(round_id: int) -> ResponseReturnValue:
    try:
        job = services.retry_combine(current_user, round_id)
    except DomainError as exc:
        flash_refusal(exc)
        return redirect(url_for("orders_views.round_detail", round_id=round_id))
    flash(_("เริ่มรวมยอดอีกครั้งแล้ว"), "ok")
    return redirect(url_for("orders_views.round_detail", round_id=round_id, job=job.id))


# --- purchase orders, receipt, distribution --------------------------------------------------------

@bp.route("/rounds/<int:round_id>/purchase-orders")
@roles_required(*COMMITTEE)
def purchase_orders(round_id: int) -> ResponseReturnValue:
    rnd = services.load_round(current_user, round_id)
    pos = reads.purchase_orders(current_user, round_id)
    suppliers, products = _names()
    return render_template("orders/purchase_orders.html", rnd=rnd, pos=pos, suppliers=suppliers,
                           products=products, offers={o.id: o for o in rnd.offers})


@bp.route("/purchase-orders/<int:po_id>")
@roles_required(*COMMITTEE)
def purchase_order(po_id: int) -> ResponseReturnValue:
    po = reads.purchase_order(current_user, po_id)
    rnd = services.get_round(current_user, po["round_id"])
    suppliers, products = _names()
    # After a short delivery: what the received goods come to (unit prices stay; the fees are as ordered).
    after = None
    if po["received_at"] is not None and any((ln["received_quantity"] or 0) < ln["ordered_quantity"]
                                             for ln in po["lines"]):
        value = sum((min(ln["received_quantity"] or 0, ln["ordered_quantity"]) * ln["unit_price"]
                     for ln in po["lines"] if ln["unit_price"] is not None), Decimal("0.00"))
        after = {"value": value, "total": value + po["delivery_fee"] + po["network_fee"]}
    return render_template("orders/purchase_order.html", rnd=rnd, po=po, supplier=suppliers.get(po["supplier_id"]),
                           products=products, after=after)


@bp.route("/purchase-orders/<int:po_id>.csv")
@roles_required(*COMMITTEE)
def purchase_order_csv(po_id: int) -> ResponseReturnValue:
    po = reads.purchase_order(current_user, po_id)
    suppliers, products = _names()
    rows: list[list[Any]] = [[_("สินค้า"), _("หน่วย"), _("จำนวนแพ็ก"), _("จำนวนสั่ง"), _("ราคาต่อหน่วย"), _("จำนวนเงิน")]]
    for line in po["lines"]:
        product = products.get(line["product_id"])
        rows.append([product.name if product else line["product_id"], product.unit if product else "",
                     line["packs"], line["ordered_quantity"], line["unit_price"] or "", line["amount"]])
    rows.append([_("ค่าขนส่ง"), "", "", "", "", po["delivery_fee"]])
    rows.append([_("ค่าบริการเครือข่าย"), "", "", "", "", po["network_fee"]])
    rows.append([_("รวมทั้งสิ้น"), "", "", "", "", po["total"]])
    supplier = suppliers.get(po["supplier_id"])
    # Product names are typed by people: csv_response makes formula-like cells text.
    return csv_response(rows, f"purchase-order-{po['id']}.csv", {"X-Supplier": str(supplier.id if supplier else "")})


@bp.route("/purchase-orders/<int:po_id>/receipt", methods=["GET", "POST"])
@roles_required(*COMMITTEE)
def receipt(po_id: int) -> ResponseReturnValue:
    po = reads.purchase_order(current_user, po_id)
    rnd = services.get_round(current_user, po["round_id"])
    suppliers, products = _names()
    lines = [ln for ln in po["lines"]]
    form: Any = receipt_form_class(lines)()  # fields made per line: r_<offer id>
    if request.method == "GET":
        for line in lines:
            getattr(form, f"r_{line['offer_id']}").data = line["received_quantity"] if line[
                "received_quantity"] is not None else line["ordered_quantity"]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            received_at = None
            if form.received_at.data:
                received_at = form.received_at.data.replace(tzinfo=_local_tz())
            data = [{"offer_id": ln["offer_id"], "received_quantity": getattr(form, f"r_{ln['offer_id']}").data}
                    for ln in lines]
            try:
                record_receipt(current_user, po_id, data, received_at)
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                flash(_("บันทึกการรับของแล้ว"), "ok")
                return redirect(url_for("orders_views.purchase_orders", round_id=rnd.id))
    return render_template("orders/receipt.html", rnd=rnd, po=po, form=form, supplier=suppliers.get(po["supplier_id"]),
                           products=products), status


@bp.route("/rounds/<int:round_id>/distribution")
@roles_required(*COMMITTEE)
def distribution(round_id: int) -> ResponseReturnValue:
    rnd = services.get_round(current_user, round_id)
    rows = reads.distribution_list(current_user, round_id)
    by_group: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = by_group.setdefault(row["group_id"], {"group": row["group"], "district": row["district"],
                                                      "rows": [], "amount": Decimal("0")})
        entry["rows"].append(row)
        entry["amount"] += row["amount"]
    return render_template("orders/distribution.html", rnd=rnd, groups=list(by_group.values()))


# --- suppliers, products, price lists --------------------------------------------------------------

def _catalogue_forms() -> tuple[SupplierForm, ProductForm, PriceListForm]:
    supplier_form, product_form, import_form = (SupplierForm(prefix="supplier"), ProductForm(prefix="product"),
                                                PriceListForm(prefix="import"))
    import_form.supplier_id.choices = [(0, _("— เลือก —"))] + [
        (s.id, s.name) for s in services.list_suppliers(current_user)]
    import_form.round_id.choices = [(0, _("— ไม่เพิ่ม สร้างเฉพาะสินค้า —"))] + [
        (r.id, r.name) for r in services.list_rounds(current_user) if r.state in ("draft", "open")]
    return supplier_form, product_form, import_form


def _catalogue(status: int = 200, forms: tuple[Any, ...] | None = None,
               import_errors: list[Any] | None = None) -> ResponseReturnValue:
    supplier_form, product_form, import_form = forms or _catalogue_forms()
    return render_template("orders/catalogue.html", suppliers=services.list_suppliers(current_user),
                           products=services.list_products(current_user), supplier_form=supplier_form,
                           product_form=product_form, import_form=import_form,
                           import_errors=import_errors or [], **_price_list_headings()), status


def _price_list_headings() -> dict[str, Any]:
    """The price list's columns as the page's reader types them: Thai headings on a Thai page, the English
    ones (which the reader accepts too) on an English page."""
    if fmt.current_lang() == "en":
        return {"column_heading": lambda keys: keys, "price_list_headings": ", ".join(price_list.THAI_HEADINGS)}
    return {"column_heading": price_list.column_heading,
            "price_list_headings": ", ".join(price_list.THAI_HEADINGS.values())}


@bp.route("/suppliers")
@roles_required(*COMMITTEE)
def suppliers() -> ResponseReturnValue:
    return _catalogue()


@bp.route("/suppliers", methods=["POST"])
@roles_required(*COMMITTEE)
def create_supplier() -> ResponseReturnValue:
    forms = _catalogue_forms()
    form = forms[0]
    if form.validate_on_submit():
        try:
            services.create_supplier(current_user, {"name": filled(form.name.data).strip(), "phone": form.phone.data or ""})
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            flash(_("เพิ่มผู้ขายส่งแล้ว"), "ok")
            return redirect(url_for("orders_views.suppliers"))
    return _catalogue(422, forms)


@bp.route("/products", methods=["POST"])
@roles_required(*COMMITTEE)
def create_product() -> ResponseReturnValue:
    forms = _catalogue_forms()
    form = forms[1]
    if form.validate_on_submit():
        try:
            services.create_product(current_user, {"name": filled(form.name.data).strip(), "unit": filled(form.unit.data).strip(),
                                                   "category": (form.category.data or "").strip()})
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            flash(_("เพิ่มสินค้าแล้ว"), "ok")
            return redirect(url_for("orders_views.suppliers"))
    return _catalogue(422, forms)


IMPORT_PROBLEMS = {
    "required": _l("ต้องกรอก"), "integer": _l("ต้องเป็นจำนวนเต็มที่ถูกต้อง"),
    "money": _l("จำนวนเงินไม่ถูกต้อง"), "tiers": _l("ขั้นราคาไม่ถูกต้อง (เช่น 0:90.00;100:85.00)"),
    "duplicate": _l("สินค้าซ้ำในไฟล์"), "too_many": _l("แถวมากเกินไป"), "columns": _l("ไม่มีคอลัมน์ที่ต้องมี"),
    "empty": _l("ไฟล์ไม่มีข้อมูล"),
    "unreadable": _l("อ่านแถวนี้ไม่ได้: เครื่องหมายคำพูดไม่ครบคู่"),
    "too_large": _l("ไฟล์ใหญ่เกิน 2,000,000 ไบต์ แบ่งเป็นหลายไฟล์แล้วลองใหม่"),
}


@bp.route("/price-lists", methods=["POST"])
@roles_required(*COMMITTEE)
def import_price_list() -> ResponseReturnValue:
    forms = _catalogue_forms()
    form = forms[2]
    valid = form.validate_on_submit()
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):  # listed with the form's other mistakes
        form.file.errors = [_("กรุณาเลือกไฟล์")]
        return _catalogue(422, forms)
    if not valid:
        return _catalogue(422, forms)
    raw = upload.read(price_list.MAX_BYTES + 1)
    if len(raw) > price_list.MAX_BYTES:
        form.file.errors = [_("ไฟล์ใหญ่เกิน %(n)s ไบต์ ไม่ได้นำเข้าเลย: แบ่งเป็นหลายไฟล์แล้วลองใหม่",
                              n=f"{price_list.MAX_BYTES:,}")]
        return _catalogue(422, forms)
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors = [_("ไฟล์ต้องเป็น CSV แบบ UTF-8")]
        return _catalogue(422, forms)
    try:
        counts, errors = price_list.import_price_list(current_user, form.supplier_id.data, content,
                                                      form.round_id.data or None)
    except DomainError as exc:
        show_refusal(form, exc)
        return _catalogue(422, forms)
    if errors:
        shown = [{"line": e.line, "column": e.column,
                  "problem": field_text(e.message) if e.message is not None else IMPORT_PROBLEMS.get(e.problem, e.problem)}
                 for e in errors]
        form.file.errors = [_("ไม่ได้นำเข้าเลย: แก้ไขแถวที่ผิดแล้วลองใหม่")]
        return _catalogue(422, forms, shown)
    flash(_("นำเข้าแล้ว %(rows)s แถว: สินค้าใหม่ %(products)s รายการ ข้อเสนอ %(offers)s รายการ", **counts), "ok")
    return redirect(url_for("orders_views.suppliers"))


page_error_handlers(bp)


def register_pages() -> None:
    """What the orders domain adds to the shared page registries (core.pages)."""
    from core.pages import home_item, messages, nav_link
    from orders import home

    nav_link("orders_views.rounds", _l("รอบสั่งซื้อ"), ("leader", "committee", "admin"), 10)
    nav_link("orders_views.my_invoices", _l("ใบแจ้งหนี้"), ("leader",), 20)
    nav_link("orders_views.suppliers", _l("ผู้ขายส่งและสินค้า"), COMMITTEE, 25)
    home_item("orders", home.attention, order=10)
    home_item("orders_rounds", home.rounds_section, order=10, slot="section")
    from core.pages import FIELD_MESSAGES

    FIELD_MESSAGES["before_order"] = _l("ก่อนวันที่สั่งซื้อ")
    paying = {
        "slip_used": _l("สลิปนี้เคยใช้บันทึกการชำระเงินไปแล้ว (เลขอ้างอิงธนาคารซ้ำ) จึงบันทึกซ้ำไม่ได้"),
        "slip_not_image": _l("สลิปต้องเป็นรูปภาพ (JPEG, PNG หรือ WebP) ขนาดไม่เกิน 5 MB"),
        "slip_with_cash": _l("สลิปโอนเงินใช้กับการชำระด้วยพร้อมเพย์หรือโอนเงินเท่านั้น ไม่ใช่เงินสด"),
        "payment_method_unknown": _l("เลือกวิธีชำระ: เงินสด พร้อมเพย์ หรือโอนเงิน"),
        "receipt_cancelled": _l("ใบเสร็จนี้ถูกยกเลิกไปแล้ว"),
    }
    FIELD_MESSAGES.update(paying)
    messages({
        "deadline_in_past": _l("กำหนดปิดรับต้องเป็นเวลาในอนาคต"),
        "round_without_offers": _l("เพิ่มข้อเสนออย่างน้อยหนึ่งรายการก่อนเปิดรอบ"),
        "round_deadline_passed": _l("เลยกำหนดปิดรับแล้ว"),
        "orders_closed": _l("เลยกำหนดปิดรับแล้ว แก้ไขคำสั่งซื้อไม่ได้"),
        "lines_not_in_round": _l("มีรายการที่ไม่อยู่ในรอบนี้"),
        "supplier_exists": _l("มีผู้ขายส่งชื่อนี้อยู่แล้ว"),
        "product_exists": _l("มีสินค้านี้อยู่แล้ว"),
        "delivery_recorded": _l("บันทึกการรับของนี้ไปแล้ว"),
        "receipt_lines_invalid": _l("จำนวนที่รับบางรายการไม่ถูกต้อง"),
        "payment_not_positive": _l("ยอดชำระต้องมากกว่า 0 บาท"),
        "receipt_in_future": _l("วันที่รับของต้องไม่เป็นวันในอนาคต"),
        "receipt_before_order": _l("วันที่รับของต้องไม่ก่อนวันที่สั่งซื้อ"),
        "round_not_combined": _l("รอบนี้ยังไม่ได้รวมยอด"),
        "blank_order": _l("ทุกช่องว่างอยู่ จึงไม่ได้บันทึก ถ้าต้องการถอนคำสั่งซื้อทั้งหมด "
                          "กด \"ถอนคำสั่งซื้อของกลุ่มทั้งหมด\" ด้านล่าง"),
        **paying,
    })
