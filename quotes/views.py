"""Pages of requests for quotation: the committee's list, new request, comparison and award; and the
supplier's page behind its private link (no account, Thai, a 360 px phone)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from core.clock import utcnow
from core.datefields import ThaiDateTimeField
from core.errors import DomainError
from core.fields import MAX_ID, FieldError, field_message, int_or_none, read_form_money, read_form_quantity
from core.pages import COMMITTEE, error_text, field_text, page_error_handlers, roles_required
from core.web import limiter
from orders import services as order_services
from pricing.quotes import QuoteLine, price_line
from pricing.tiers import Tier
from quotes import award, services

bp = Blueprint("quotes_views", __name__, template_folder="templates")
page_error_handlers(bp)

# Tier rows on the supplier's form (a quote rarely has more; the API takes up to 20).
TIER_ROWS = 4


class RfqForm(FlaskForm):
    name = StringField(_l("ชื่อคำขอ"), validators=[DataRequired(_l("กรุณากรอกชื่อ")), Length(max=200)])
    closes_at = ThaiDateTimeField(_l("ปิดรับใบเสนอราคา"), validators=[DataRequired(_l("กรุณากรอกวันและเวลา"))])


class ActionForm(FlaskForm):
    """Buttons that only need the CSRF token."""


def _tz() -> ZoneInfo:
    return ZoneInfo(current_user.network.timezone)


def _id(text: str | None) -> int | None:
    """An id chosen on a form (a supplier): a whole number an id column can hold, or None."""
    return int_or_none(text or "", minimum=1, maximum=MAX_ID)


def _errors_by_field(exc: DomainError) -> dict[str, str]:
    return {name: field_text(found[0]) if isinstance(found, list) and found else error_text(exc)
            for name, found in (exc.fields or {}).items()}


# --- committee -------------------------------------------------------------------------------------

@bp.route("/rfqs")
@roles_required(*COMMITTEE)
def rfqs() -> ResponseReturnValue:
    return render_template("quotes/rfqs.html", rfqs=services.list_rfqs(current_user))


@bp.route("/rfqs/new", methods=["GET", "POST"])
@roles_required(*COMMITTEE)
def new_rfq() -> ResponseReturnValue:
    form = RfqForm()
    products = order_services.list_products(current_user)
    suppliers = order_services.list_suppliers(current_user)
    suggested = {s.product_id: s for s in services.suggest_items(current_user, [p.id for p in products])}
    rows: dict[int, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        items: list[services.ItemInput] = []
        for p in products:
            on = request.form.get(f"p{p.id}-on") == "1"
            quantity, price = request.form.get(f"p{p.id}-qty", ""), request.form.get(f"p{p.id}-ref", "")
            rows[p.id] = {"on": on, "qty": quantity, "ref": price}
            if not on:
                continue
            q = _read(errors, f"p{p.id}-qty", read_form_quantity, quantity, minimum=1)
            ref = _read(errors, f"p{p.id}-ref", read_form_money, price)
            if q is not None and ref is not None:
                items.append({"product_id": p.id, "quantity": q, "reference_price": ref})
        chosen = [s.id for s in suppliers if request.form.get(f"s{s.id}") == "1"]
        if not items and not errors:
            errors["items"] = _("เลือกสินค้าอย่างน้อยหนึ่งรายการ")
        if not chosen:
            errors["suppliers"] = _("เลือกผู้ขายส่งอย่างน้อยหนึ่งราย")
        if form.validate_on_submit() and not errors and form.closes_at.data is not None:
            try:
                created = services.create_rfq(current_user, {
                    "name": (form.name.data or "").strip(), "closes_at": form.closes_at.data.replace(tzinfo=_tz()),
                    "items": items, "supplier_ids": chosen})
            except DomainError as exc:
                errors.update(_errors_by_field(exc))
                form.form_errors.append(error_text(exc))
            else:
                # The links are shown this once: the database keeps only their hashes.
                links = [(v, url_for("quotes_views.supplier_quote", token=v.token, _external=True))
                         for v in created.invitations]
                return render_template("quotes/created.html", rfq=created, links=links), 201
        status = 422
    else:
        form.closes_at.data = (utcnow() + timedelta(days=3)).astimezone(_tz()).replace(
            tzinfo=None, hour=17, minute=0, second=0, microsecond=0)
        for p in products:
            s = suggested.get(p.id)
            rows[p.id] = {"on": False, "qty": str(s.quantity) if s and s.quantity else "",
                          "ref": str(s.reference_price) if s and s.reference_price is not None else ""}
    # The summary at the top names each box it lists, and links to the lists of products and suppliers.
    labels = {"items": _("สินค้า"), "suppliers": _("ผู้ขายส่งที่จะขอใบเสนอราคา")}
    for p in products:
        labels[f"p{p.id}-qty"] = _("%(product)s: จำนวน", product=p.name)
        labels[f"p{p.id}-ref"] = _("%(product)s: ราคาอ้างอิง", product=p.name)
    return render_template("quotes/new.html", form=form, products=products, suppliers=suppliers, rows=rows,
                           errors=errors, error_labels=labels, suggested=suggested,
                           chosen={s.id for s in suppliers if request.form.get(f"s{s.id}") == "1"}), status


def _choice_from_form(comparison: award.Comparison) -> list[award.ChoiceInput]:
    out: list[award.ChoiceInput] = []
    for item in comparison.items:
        supplier_id = _id(request.form.get(f"c{item.product_id}"))
        if supplier_id:
            out.append({"product_id": item.product_id, "supplier_id": supplier_id})
    return out


@bp.route("/rfqs/<int:rfq_id>", methods=["GET", "POST"])
@roles_required(*COMMITTEE)
def rfq_detail(rfq_id: int) -> ResponseReturnValue:
    rfq = services.get_rfq(current_user, rfq_id)
    comparison = award.comparison(current_user, rfq_id)
    chosen = {ln.product_id: ln.supplier_id for ln in comparison.best.lines}
    preview: award.AwardView | None = None
    errors: dict[str, str] = {}  # the page's one error summary (base.html): the box by its id, or "_"
    status = 200
    action = ActionForm()
    if request.method == "POST" and action.validate_on_submit():
        lines = _choice_from_form(comparison)
        chosen = {ln["product_id"]: ln["supplier_id"] for ln in lines}
        try:
            if request.form.get("do") == "award":
                if request.form.get("confirm") != "1":
                    errors["confirm"] = _("ติ๊กยืนยันก่อนตัดสิน: การตัดสินแก้ไขไม่ได้ และปิดรับใบเสนอราคาทันที")
                else:
                    result = award.award(current_user, rfq_id, None, lines)
                    flash(_("ตัดสินแล้ว ยอดรวม %(total)s บาท สร้างรอบร่างแล้ว ตรวจข้อเสนอแล้วเปิดรอบ",
                            total=f"{result.total:,}"), "ok")
                    return redirect(url_for("orders_views.round_detail", round_id=result.round_id))
            else:
                preview = award.price_choice(current_user, rfq_id, lines)
        except DomainError as exc:
            errors["_"] = error_text(exc)
        if errors:
            status = 422
    return render_template("quotes/rfq.html", rfq=rfq, c=comparison, chosen=chosen, preview=preview,
                           errors=errors, error_labels={"confirm": _("ยืนยันการตัดสิน")}, action=action,
                           names=comparison.supplier_names), status


@bp.route("/rfqs/<int:rfq_id>/links/<int:supplier_id>", methods=["POST"])
@roles_required(*COMMITTEE)
def new_link(rfq_id: int, supplier_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return redirect(url_for("quotes_views.rfq_detail", rfq_id=rfq_id))
    token = services.reissue_link(current_user, rfq_id, supplier_id)
    rfq = services.get_rfq(current_user, rfq_id)
    invitation = next(v for v in rfq.invitations if v.supplier_id == supplier_id)
    links = [(invitation, url_for("quotes_views.supplier_quote", token=token, _external=True))]
    return render_template("quotes/created.html", rfq=rfq, links=links, reissued=True)


# --- supplier, by its private link -----------------------------------------------------------------

def _quote_limit() -> str:
    return str(current_app.config.get("QUOTE_RATE_LIMIT", "30 per minute"))


def _supplier_rows(view: services.SupplierView) -> dict[int, dict[str, Any]]:
    """What the form shows per product: the stored quote, or empty rows."""
    quoted = {ln.product_id: ln for ln in (view.quote.lines if view.quote else [])}
    rows: dict[int, dict[str, Any]] = {}
    for item in view.rfq.items:
        line = quoted.get(item.product_id)
        tiers = [(str(t.min_quantity), str(t.unit_price)) for t in line.tiers] if line else []
        tiers += [("0" if not tiers and i == 0 else "", "") for i in range(TIER_ROWS - len(tiers))]
        rows[item.product_id] = {"on": line is not None, "pack": str(line.pack_size) if line else "1",
                                 "min": str(line.min_quantity) if line else "0", "tiers": tiers[:max(TIER_ROWS, len(tiers))]}
    return rows


def _read(errors: dict[str, str], name: str, reader: Callable[..., Any], text: str, **kwargs: Any) -> Any:
    """One box through the field module (the bounds the API's schema and the service apply), or its
    message in the user's language next to the box."""
    try:
        return reader(text, **kwargs)
    except FieldError as exc:
        errors[name] = field_text(field_message(exc))
        return None


def _parse_supplier_form(view: services.SupplierView) -> tuple[dict[int, dict[str, Any]], dict[str, str],
                                                                services.QuoteInput | None]:
    rows: dict[int, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    lines: list[services.QuoteLineInput] = []
    for item in view.rfq.items:
        pid = item.product_id
        tiers_text = [(request.form.get(f"p{pid}-t{i}-min", ""), request.form.get(f"p{pid}-t{i}-price", ""))
                      for i in range(TIER_ROWS)]
        row: dict[str, Any] = {"on": request.form.get(f"p{pid}-on") == "1", "pack": request.form.get(f"p{pid}-pack", ""),
               "min": request.form.get(f"p{pid}-min", ""), "tiers": tiers_text}
        rows[pid] = row
        if not row["on"]:
            continue
        pack = _read(errors, f"p{pid}-pack", read_form_quantity, row["pack"], minimum=1)
        minimum = _read(errors, f"p{pid}-min", read_form_quantity, row["min"] or "0")
        tiers: list[services.TierInput] = []
        for i, (q_text, p_text) in enumerate(tiers_text):
            if not q_text.strip() and not p_text.strip():
                continue
            q = _read(errors, f"p{pid}-t{i}-min", read_form_quantity, q_text)
            price = _read(errors, f"p{pid}-t{i}-price", read_form_money, p_text)
            if q is not None and price is not None:
                tiers.append({"min_quantity": q, "unit_price": price})
        if not tiers and not any(k.startswith(f"p{pid}-t") for k in errors):
            errors[f"p{pid}-t0-price"] = _("กรอกราคาอย่างน้อยหนึ่งขั้น (เริ่มที่จำนวน 0)")
        if pack is not None and minimum is not None:
            lines.append({"product_id": pid, "pack_size": pack, "min_quantity": minimum, "tiers": tiers})
    fee = _read(errors, "delivery_fee", read_form_money, request.form.get("delivery_fee", "") or "0")
    if errors:
        return rows, errors, None
    return rows, errors, {"delivery_fee": fee, "lines": lines}


def _service_errors(exc: DomainError, data: services.QuoteInput) -> dict[str, str]:
    """The service names fields by position (``lines.0.tiers.1.unit_price``): map them to the form."""
    out: dict[str, str] = {}
    for name, found in (exc.fields or {}).items():
        parts = name.split(".")
        message = _("ขั้นราคาไม่ถูกต้อง: เริ่มที่ 0 จำนวนเพิ่มขึ้น ราคาไม่เพิ่มขึ้น")
        if len(parts) >= 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(data["lines"]):
            pid = data["lines"][int(parts[1])]["product_id"]
            if parts[2] == "tiers":
                out[f"p{pid}-tiers"] = message
            else:
                short = {"pack_size": "pack", "min_quantity": "min"}.get(parts[2], parts[2])
                out[f"p{pid}-{short}"] = field_text(found[0]) if isinstance(found, list) and found else message
        elif name == "delivery_fee" and isinstance(found, list) and found:
            out["delivery_fee"] = field_text(found[0])
        else:
            out["_"] = error_text(exc)
    return out


def _amounts(view: services.SupplierView) -> dict[int, Any]:
    """What each quoted product comes to at the expected quantity, as the committee will compare it."""
    if view.quote is None:
        return {}
    wanted = {i.product_id: i.quantity for i in view.rfq.items}
    return {ln.product_id: price_line(ln.product_id, 0, wanted[ln.product_id],
                                      QuoteLine(ln.pack_size, ln.min_quantity,
                                                tuple(Tier(t.min_quantity, t.unit_price) for t in ln.tiers)))
            for ln in view.quote.lines if ln.product_id in wanted}


@bp.route("/q/<string:token>", methods=["GET", "POST"])
@limiter.limit(_quote_limit)
def supplier_quote(token: str) -> ResponseReturnValue:
    view = services.supplier_view(token)
    form = ActionForm()
    rows = _supplier_rows(view)
    errors: dict[str, str] = {}
    fee = str(view.quote.delivery_fee) if view.quote else "0.00"
    status = 200
    if request.method == "POST":
        fee = request.form.get("delivery_fee", "")
        if not form.validate_on_submit():
            errors["_"] = _("หน้านี้หมดอายุ กรุณาโหลดหน้าใหม่แล้วส่งอีกครั้ง")
        else:
            rows, errors, data = _parse_supplier_form(view)
            if data is not None:
                if not data["lines"]:
                    errors["_"] = _("เลือกสินค้าที่จะเสนอราคาอย่างน้อยหนึ่งรายการ")
                else:
                    try:
                        services.submit_quote(token, data)
                    except DomainError as exc:
                        errors.update(_service_errors(exc, data) if exc.status == 422 else {"_": error_text(exc)})
                    else:
                        flash(_("บันทึกใบเสนอราคาแล้ว แก้ไขได้จนถึงเวลาปิดรับ"), "ok")
                        return redirect(url_for("quotes_views.supplier_quote", token=token))
        status = 422 if errors else 200
    labels = {"delivery_fee": _("ค่าขนส่ง")}
    for item in view.rfq.items:  # the summary at the top names each box it lists
        pid, name = item.product_id, item.product_name
        labels[f"p{pid}-pack"] = _("%(product)s: ขนาดบรรจุ", product=name)
        labels[f"p{pid}-min"] = _("%(product)s: จำนวนสั่งขั้นต่ำ", product=name)
        for i in range(TIER_ROWS):
            labels[f"p{pid}-t{i}-min"] = _("%(product)s: ขั้นราคา %(n)s จำนวน", product=name, n=i + 1)
            labels[f"p{pid}-t{i}-price"] = _("%(product)s: ขั้นราคา %(n)s ราคา", product=name, n=i + 1)
    return render_template("quotes/supplier.html", view=view, rows=rows, errors=errors, error_labels=labels,
                           fee=fee, form=form,
                           amounts=_amounts(view), tier_rows=range(TIER_ROWS), token=token,
                           open=view.rfq.state == "open"), status


def register_pages() -> None:
    """What the quotes domain adds to the shared page registries (core.pages)."""
    from core.pages import home_item, nav_link
    from quotes import home

    nav_link("quotes_views.rfqs", _l("ขอใบเสนอราคา"), COMMITTEE, 24)
    home_item("quotes", home.attention, order=15)
