"""The forms of the buying-round pages (what a person types, checked before a service sees it)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.datefields import ThaiDateTimeField
from core.fields import money_or_none
from core.pages import IntField
from orders import price_list


def money_check(form: Any, field: Any) -> None:
    if field.data in (None, ""):
        return
    if money_or_none(str(field.data), grouping=True) is None:
        raise ValidationError(_l("จำนวนเงินไม่ถูกต้อง (ไม่ติดลบ ทศนิยมไม่เกิน 2 ตำแหน่ง)"))


def form_money(text: Any) -> Decimal:
    return money_or_none(str(text or "0"), grouping=True) or Decimal("0.00")


class RoundForm(FlaskForm):
    name = StringField(_l("ชื่อรอบ"), validators=[DataRequired(_l("กรุณากรอกชื่อ")), Length(max=200)])
    closes_at = ThaiDateTimeField(_l("ปิดรับคำสั่งซื้อ"), validators=[DataRequired(_l("กรุณากรอกวันและเวลา"))])


class OfferForm(FlaskForm):
    product_id = SelectField(_l("สินค้า"), coerce=int, validators=[DataRequired(_l("กรุณาเลือก"))])
    supplier_id = SelectField(_l("ผู้ขายส่ง"), coerce=int, validators=[DataRequired(_l("กรุณาเลือก"))])
    pack_size = IntField(_l("ขนาดบรรจุ (หน่วย)"), default=1,
                             validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                         NumberRange(min=1, message=_l("อย่างน้อย 1"))])
    min_quantity = IntField(_l("จำนวนสั่งขั้นต่ำ"), default=0,
                                validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                            NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])
    reference_price = StringField(_l("ราคาอ้างอิง (ราคาร้านค้าในพื้นที่ บาท/หน่วย)"),
                                  validators=[DataRequired(_l("กรุณากรอกราคา")), money_check])
    delivery_fee = StringField(_l("ค่าขนส่ง (บาท)"), default="0", validators=[Optional(), money_check])
    tiers = TextAreaField(_l("ขั้นราคา"), validators=[DataRequired(_l("กรุณากรอกขั้นราคา"))])

    def validate_tiers(self, field: Any) -> None:
        if price_list.parse_tiers(field.data or "") is None:
            raise ValidationError(_l("ขั้นราคาไม่ถูกต้อง: เริ่มที่ 0 จำนวนเพิ่มขึ้น ราคาไม่เพิ่มขึ้น"))


class ActionForm(FlaskForm):
    """Buttons that only need the CSRF token."""


def order_form_class(offers: list[Any]) -> type[FlaskForm]:
    attrs: dict[str, Any] = {}
    for offer in offers:
        # The labels name the product: the error summary at the top of the page lists them.
        product = getattr(getattr(offer, "product", None), "name", "")
        attrs[f"q_{offer.id}"] = IntField(
            _("%(product)s: จำนวน", product=product),
            validators=[Optional(), NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])
        attrs[f"t_{offer.id}"] = IntField(
            _("%(product)s: รับเพิ่มได้", product=product),
            validators=[Optional(), NumberRange(min=0, message=_l("ต้องไม่ติดลบ"))])
    return type("OrderForm", (FlaskForm,), attrs)


def receipt_form_class(lines: Sequence[Mapping[str, Any]]) -> type[FlaskForm]:
    attrs: dict[str, Any] = {
        "received_at": ThaiDateTimeField(_l("วันเวลาที่รับของ"), validators=[Optional()])}
    for line in lines:
        attrs[f"r_{line['offer_id']}"] = IntField(
            _l("จำนวนที่ได้รับ"), validators=[InputRequired(_l("กรุณากรอกตัวเลข")),
                                              NumberRange(min=0, max=line["ordered_quantity"],
                                                          message=_l("ระหว่าง 0 ถึงจำนวนที่สั่ง"))])
    return type("ReceiptForm", (FlaskForm,), attrs)


METHOD_LABELS = {"cash": _l("เงินสด"), "promptpay": _l("พร้อมเพย์"), "transfer": _l("โอนเงินเข้าบัญชี")}


class PaymentForm(FlaskForm):
    amount = StringField(_l("จำนวนเงินที่ชำระ (บาท)"), validators=[DataRequired(_l("กรุณากรอกจำนวนเงิน")), money_check])
    method = SelectField(_l("ชำระโดย"), choices=list(METHOD_LABELS.items()), default="cash")
    slip = FileField(_l("รูปสลิปโอนเงิน (ถ้ามี)"))
    note = StringField(_l("หมายเหตุ"), validators=[Optional(), Length(max=500)])

    def slip_bytes(self) -> bytes | None:
        """The uploaded slip's bytes, or None when no file was chosen."""
        upload = self.slip.data
        if upload is None or not getattr(upload, "filename", ""):
            return None
        return bytes(upload.read())


class CancelReceiptForm(FlaskForm):
    reason = StringField(_l("เหตุผลที่ยกเลิก"), validators=[DataRequired(_l("กรุณาบอกเหตุผลที่ยกเลิก")), Length(max=500)])


class SupplierForm(FlaskForm):
    name = StringField(_l("ชื่อผู้ขายส่ง"), validators=[DataRequired(_l("กรุณากรอกชื่อ")), Length(max=200)])
    phone = StringField(_l("โทรศัพท์"), validators=[Optional(), Length(max=40)])


class ProductForm(FlaskForm):
    name = StringField(_l("ชื่อสินค้า"), validators=[DataRequired(_l("กรุณากรอกชื่อ")), Length(max=200)])
    unit = StringField(_l("หน่วย"), validators=[DataRequired(_l("กรุณากรอกหน่วย")), Length(max=40)])
    category = StringField(_l("หมวด"), validators=[Optional(), Length(max=80)])


class PriceListForm(FlaskForm):
    supplier_id = SelectField(_l("ผู้ขายส่ง"), coerce=int, validators=[DataRequired(_l("กรุณาเลือก"))])
    round_id = SelectField(_l("เพิ่มเป็นข้อเสนอในรอบ (ไม่บังคับ)"), coerce=int, choices=[])
    file = FileField(_l("ไฟล์ CSV รายการราคา"))
