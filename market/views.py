"""Marketplace pages: browse and filter, buy, follow a purchase; a seller's listings, stock, pause,
purchases to confirm and deliver, and income gain."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core import format as fmt
from core.errors import DomainError
from core.fields import money_or_none
from core.glossary import known
from core.pages import (
    IntField,
    apply_domain_error,
    confirmation,
    filled,
    flash_refusal,
    page_error_handlers,
    roles_required,
    show_refusal,
)
from market import permissions, services

bp = Blueprint("market_views", __name__, template_folder="templates")

SORTS = [("newest", _l("ใหม่ล่าสุด")), ("price", _l("ราคาต่ำไปสูง")), ("-price", _l("ราคาสูงไปต่ำ")),
         ("name", _l("ชื่อ ก-ฮ"))]
PER_PAGE = 20


def _money_check(form: Any, field: Any) -> None:
    if field.data not in (None, "") and money_or_none(str(field.data), grouping=True) is None:
        raise ValidationError(_l("จำนวนเงินไม่ถูกต้อง (ไม่ติดลบ ทศนิยมไม่เกิน 2 ตำแหน่ง)"))


def _optional_money(text: Any) -> Decimal | None:
    return money_or_none(str(text), grouping=True) if text not in (None, "") else None


class ListingForm(FlaskForm):
    name = StringField(_l("ชื่อสินค้า"), validators=[DataRequired(_l("กรุณากรอกชื่อ")), Length(max=200)])
    unit = StringField(_l("หน่วย"), validators=[DataRequired(_l("กรุณากรอกหน่วย")), Length(max=40)])
    category = StringField(_l("หมวด"), validators=[Optional(), Length(max=80)])
    price = StringField(_l("ราคาขาย (บาท/หน่วย)"), validators=[DataRequired(_l("กรุณากรอกราคา")), _money_check])
    stock = IntField(_l("จำนวนในสต็อก"), validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                                     NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])
    outside_price = StringField(_l("ราคาที่พ่อค้าคนกลางให้ (บาท/หน่วย)"), validators=[Optional(), _money_check])
    reference_price = StringField(_l("ราคาตลาดที่ผู้ซื้อจ่ายที่อื่น (บาท/หน่วย)"), validators=[Optional(), _money_check])
    district = StringField(_l("อำเภอ"), validators=[Optional(), Length(max=100)])
    description = TextAreaField(_l("รายละเอียด"), validators=[Optional(), Length(max=2000)])

    def values(self) -> dict[str, Any]:
        return {"name": filled(self.name.data).strip(), "unit": filled(self.unit.data).strip(),
                "category": (self.category.data or "").strip(),
                "price": money_or_none(filled(self.price.data), grouping=True),
                "stock": self.stock.data, "outside_price": _optional_money(self.outside_price.data),
                "reference_price": _optional_money(self.reference_price.data),
                "district": (self.district.data or "").strip(), "description": self.description.data or ""}


class BuyForm(FlaskForm):
    quantity = IntField(_l("จำนวนที่ซื้อ"), validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                                       NumberRange(min=1, message=_l("อย่างน้อย 1"))])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("ค้นหา"), validators=[Optional(), Length(max=200)])
    category = SelectField(_l("หมวด"), choices=[], validate_choice=False)
    district = SelectField(_l("อำเภอ"), choices=[], validate_choice=False)
    sort = SelectField(_l("เรียงตาม"), choices=SORTS, validate_choice=False)


# --- browse and buy --------------------------------------------------------------------------------

@bp.route("/market")
@login_required
def browse() -> ResponseReturnValue:
    form = FilterForm(request.args)
    everything = services.list_listings(current_user, {"state": "active", "page": 1, "per_page": 500}).items
    form.category.choices = [("", _("ทุกหมวด"))] + [(c, known(c)) for c in sorted({x.category for x in everything if x.category})]
    form.district.choices = [("", _("ทุกอำเภอ"))] + [(d, known(d)) for d in sorted({x.district for x in everything if x.district})]
    sort = form.sort.data if form.sort.data in dict(SORTS) else "newest"
    try:
        page_no = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page_no = 1
    args = {"state": "active", "q": (form.q.data or "")[:200], "category": form.category.data or None,
            "district": form.district.data or None, "sort": sort, "page": page_no, "per_page": PER_PAGE}
    page = services.list_listings(current_user, args)
    return render_template("market/browse.html", form=form, page=page, pages=max(1, -(-page.total // PER_PAGE)),
                           query={k: v for k, v in request.args.items() if k != "page"})


@bp.route("/market/listings/<int:listing_id>", methods=["GET", "POST"])
@login_required
def listing(listing_id: int) -> ResponseReturnValue:
    item = services.get_listing(current_user, listing_id)
    can_buy = current_user.role == "leader" and current_user.group_id != item.group_id and item.state == "active"
    form = BuyForm() if can_buy else None
    status = 200
    if request.method == "POST":
        if form is None:
            abort(403)
        status = 422
        if form.validate_on_submit():
            try:
                purchase = services.place_purchase(current_user, listing_id, current_user.group_id,
                                                   filled(form.quantity.data))
            except DomainError as exc:
                if exc.status == 404:
                    raise
                apply_domain_error(form, exc)
            else:
                flash(_("สั่งซื้อแล้ว %(n)s %(unit)s รวม %(amount)s บาท รอผู้ขายยืนยัน", n=purchase.quantity,
                        unit=item.unit, amount=f"{purchase.amount:,}"), "ok")
                return redirect(url_for("market_views.my_purchases"))
        item = services.get_listing(current_user, listing_id)
    return render_template("market/listing.html", item=item, form=form,
                           can_edit=permissions.can_edit_listing(current_user, item)), status


@bp.route("/market/purchases")
@roles_required("leader", "seller")
def my_purchases() -> ResponseReturnValue:
    return render_template("market/purchases.html", purchases=services.list_my_purchases(current_user))


# --- a seller's side -------------------------------------------------------------------------------

@bp.route("/market/mine", methods=["GET", "POST"])
@roles_required("seller", "leader")
def my_listings() -> ResponseReturnValue:
    form = ListingForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                item = services.create_listing(current_user, form.values())
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                flash(_("ลงขาย %(name)s แล้ว", name=item.name), "ok")
                return redirect(url_for("market_views.my_listings"))
    items = services.list_listings(current_user, {"state": "all", "group_id": current_user.group_id, "page": 1,
                                                  "per_page": 200}).items
    return render_template("market/mine.html", items=items, form=form), status


@bp.route("/market/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@roles_required("seller", "leader")
def edit_listing(listing_id: int) -> ResponseReturnValue:
    item = services.get_listing(current_user, listing_id)
    if not permissions.can_edit_listing(current_user, item):
        abort(403)
    form = ListingForm(obj=item) if request.method == "GET" else ListingForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                services.update_listing(current_user, listing_id, form.values())
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                flash(_("บันทึกแล้ว"), "ok")
                return redirect(url_for("market_views.my_listings"))
    return render_template("market/edit.html", item=item, form=form), status


@bp.route("/market/listings/<int:listing_id>/state", methods=["POST"])
@roles_required("seller", "leader")
def listing_state(listing_id: int) -> ResponseReturnValue:
    state = request.form.get("state")
    if state not in ("active", "paused", "closed"):
        abort(400)
    try:
        services.update_listing(current_user, listing_id, {"state": state})
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash(_("หยุดขายชั่วคราวแล้ว") if state == "paused" else (_("เปิดขายแล้ว") if state == "active"
                                                                    else _("ปิดรายการแล้ว")), "ok")
    return redirect(url_for("market_views.my_listings"))


@bp.route("/market/sales")
@roles_required("seller", "leader")
def sales() -> ResponseReturnValue:
    rows = services.list_sales(current_user)
    gain = sum((p.income_gain or Decimal("0") for p in rows if p.state == "delivered"), Decimal("0"))
    income = sum((p.amount for p in rows if p.state == "delivered"), Decimal("0"))
    return render_template("market/sales.html", purchases=rows, gain=gain, income=income)


@bp.route("/market/purchases/<int:purchase_id>/<action>", methods=["POST"])
@roles_required("seller", "leader")
def purchase_action(purchase_id: int, action: str) -> ResponseReturnValue:
    fn = {"confirm": services.confirm_purchase, "deliver": services.deliver_purchase,
          "cancel": services.cancel_purchase}.get(action)
    if fn is None:
        abort(404)
    if action == "cancel":
        found = services.get_purchase(current_user, purchase_id)  # 404 for a purchase not theirs to see
        way_back = url_for("market_views.my_purchases") if found.buyer_group_id == current_user.group_id \
            else url_for("market_views.sales")
        asked = confirmation(
            _("ยกเลิกคำสั่งซื้อ %(name)s?", name=found.listing.name),
            _("คำสั่งซื้อ %(name)s %(n)s %(unit)s เป็นเงิน %(amount)s บาท ของ %(group)s จะถูกยกเลิก และสินค้าจะคืนเข้าสต็อกของผู้ขาย "
              "ยกเลิกแล้วกลับคืนไม่ได้ ถ้ายังต้องการต้องสั่งใหม่", name=found.listing.name, n=fmt.number(found.quantity),
              unit=found.listing.unit, amount=fmt.baht(found.amount), group=found.buyer_group.name),
            way_back, _("ยกเลิกคำสั่งซื้อนี้"))
        if asked is not None:
            return asked
    try:
        purchase = fn(current_user, purchase_id)
    except DomainError as exc:
        flash_refusal(exc)
        purchase = None
    else:
        flash({"confirm": _("ยืนยันคำสั่งซื้อแล้ว"), "deliver": _("บันทึกการส่งของแล้ว"),
               "cancel": _("ยกเลิกคำสั่งซื้อแล้ว")}[action], "ok")
    back = request.form.get("back")
    if back == "purchases" or (purchase is not None and purchase.buyer_group_id == current_user.group_id):
        return redirect(url_for("market_views.my_purchases"))
    return redirect(url_for("market_views.sales"))


page_error_handlers(bp)


def _home_attention() -> str:
    """Purchases waiting for the seller's (or the buying leader's) answer."""
    if current_user.role not in ("seller", "leader"):
        return ""
    try:
        waiting = [p for p in services.list_sales(current_user) if p.state == "placed"]
    except DomainError:
        return ""
    return render_template("market/_home_attention.html", market=waiting)


def register_pages() -> None:
    """What the market adds to the shared page registries (core.pages)."""
    from core.pages import home_item, nav_link

    nav_link("market_views.my_listings", _l("สินค้าของฉัน"), ("seller",), 40)
    nav_link("market_views.sales", _l("คำสั่งซื้อที่ได้รับ"), ("seller",), 45)
    nav_link("market_views.browse", _l("ตลาด"), ("leader", "seller", "committee", "admin"), 50)
    nav_link("market_views.my_purchases", _l("ที่ซื้อในตลาด"), ("leader",), 55)
    home_item("market", _home_attention, order=20)
