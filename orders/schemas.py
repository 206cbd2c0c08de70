"""marshmallow schemas of buying rounds, offers, orders, purchase orders, invoices."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.fields import ID_RANGE, MAX_ID, Money, Quantity
from orders.models import PAYMENT_METHODS
from orders.tiers import tier_error

_MAX_QTY = 100_000_000


class SupplierSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(load_default="", validate=validate.Length(max=40))


class ProductSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=40))
    category = fields.String(load_default="", validate=validate.Length(max=80))


class RoundCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    closes_at = fields.AwareDateTime(required=True, format="iso")


class TierSchema(Schema):
    min_quantity = Quantity(required=True, validate=validate.Range(min=0, max=_MAX_QTY))
    unit_price = Money(required=True)


class OfferCreateSchema(Schema):
    product_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    supplier_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    pack_size = Quantity(required=True, validate=validate.Range(min=1, max=_MAX_QTY))
    min_quantity = Quantity(load_default=0, validate=validate.Range(min=0, max=_MAX_QTY))
    reference_price = Money(required=True)
    delivery_fee = Money(load_default=None)
    tiers = fields.List(fields.Nested(TierSchema), required=True, validate=validate.Length(min=1, max=50))

    @validates_schema
    def _tiers_rule(self, data: dict[str, Any], **kwargs: object) -> None:
        tiers = data.get("tiers") or []
        if not tiers:
            return  # the length validator has said so
        error = tier_error(tiers)
        if error is not None:
            raise ValidationError(error)


class OfferSchema(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    product_id = fields.Integer()
    supplier_id = fields.Integer()
    product_name = fields.String(attribute="product.name")
    unit = fields.String(attribute="product.unit")
    supplier_name = fields.String(attribute="supplier.name")
    pack_size = fields.Integer()
    min_quantity = fields.Integer()
    reference_price = Money()
    delivery_fee = Money()
    tiers = fields.List(fields.Nested(TierSchema))


class RoundSupplierFeeSchema(Schema):
    supplier_id = fields.Integer()
    delivery_fee = Money()


class RoundSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    state = fields.String()
    closes_at = fields.AwareDateTime(format="iso")
    created_at = fields.AwareDateTime(format="iso")
    opened_at = fields.AwareDateTime(format="iso", allow_none=True)
    closed_at = fields.AwareDateTime(format="iso", allow_none=True)
    combined_at = fields.AwareDateTime(format="iso", allow_none=True)
    delivered_at = fields.AwareDateTime(format="iso", allow_none=True)
    settled_at = fields.AwareDateTime(format="iso", allow_none=True)
    failure = fields.String(allow_none=True, metadata={
        "description": "why the combine failed for good (state combine_failed), in plain words"})
    offers = fields.List(fields.Nested(OfferSchema))
    supplier_fees = fields.List(fields.Nested(RoundSupplierFeeSchema), metadata={
        "description": "Delivery fee per supplier for the whole round, charged once on its purchase order "
                       "when at least one of its offers is ordered"})


class RoundListSchema(RoundSchema):
    """A round in a list: without its offers and fees (its own name in the OpenAPI document)."""

    class Meta:
        exclude = ("offers", "supplier_fees")


class JobStartedSchema(Schema):
    job_id = fields.String()
    state = fields.String()


class OrderLineInSchema(Schema):
    offer_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    quantity = Quantity(required=True, validate=validate.Range(min=1, max=_MAX_QTY))
    tolerance = Quantity(load_default=0, validate=validate.Range(min=0, max=_MAX_QTY))


_LINE_KEYS = frozenset(("offer_id", "quantity", "tolerance"))


def plain_order(data: Any) -> dict[str, Any] | None:
    """The loaded order when the body is plainly valid (JSON integers in range, no other keys, one line
    per offer), else None. Placing an order is the hottest write of a deadline: a body like this is
    what every client sends, and reading it here costs a tenth of marshmallow's load. Anything else
    (text, floats, booleans, unknown keys, values out of range, duplicates) is left to the schema,
    which answers exactly as before. ``tests/unit/test_order_body.py`` checks both agree."""
    if type(data) is not dict or len(data) != 1 or type(lines := data.get("lines")) is not list or len(lines) > 500:
        return None
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for line in lines:
        if type(line) is not dict or not line.keys() <= _LINE_KEYS:
            return None
        offer_id, quantity, tolerance = line.get("offer_id"), line.get("quantity"), line.get("tolerance", 0)
        if (type(offer_id) is not int or type(quantity) is not int or type(tolerance) is not int
                or not 1 <= offer_id <= MAX_ID or not 1 <= quantity <= _MAX_QTY or not 0 <= tolerance <= _MAX_QTY
                or offer_id in seen):
            return None
        seen.add(offer_id)
        out.append({"offer_id": offer_id, "quantity": quantity, "tolerance": tolerance})
    return {"lines": out}


class GroupOrderInSchema(Schema):
    lines = fields.List(fields.Nested(OrderLineInSchema), required=True, validate=validate.Length(max=500))

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None) -> Any:
        plain = plain_order(data) if not many and not partial else None
        return plain if plain is not None else super().load(data, many=many, partial=partial, unknown=unknown)

    @validates_schema
    def _one_line_per_offer(self, data: dict[str, Any], **kwargs: object) -> None:
        seen: set[int] = set()
        for i, line in enumerate(data.get("lines") or []):
            if line["offer_id"] in seen:
                raise ValidationError({"lines": {i: {"offer_id": ["This offer is already in the order."]}}})
            seen.add(line["offer_id"])


class OrderLineOutSchema(Schema):
    offer_id = fields.Integer()
    quantity = fields.Integer()
    tolerance = fields.Integer()
    allocated = fields.Integer(allow_none=True)
    unit_price = Money(allow_none=True)
    fee_share = Money(allow_none=True)
    amount = Money(allow_none=True)
    savings = Money(allow_none=True, allow_negative=True)


_UNPRICED = ("allocated", "unit_price", "fee_share", "amount", "savings")


def plain_placed_order(obj: Any) -> dict[str, Any] | None:
    """The dumped order when it is one just placed (integers, a UTC time, no allocation or money yet),
    else None: what every ``PUT`` answers, written without marshmallow's per-field dump. The same
    dictionary as the schema's (``tests/unit/test_order_body.py``)."""
    if type(obj) is not dict or len(obj) != 4 or type(lines := obj.get("lines")) is not list:
        return None
    group_id, round_id, updated_at = obj.get("group_id"), obj.get("round_id"), obj.get("updated_at")
    if type(group_id) is not int or type(round_id) is not int or type(updated_at) is not datetime \
            or updated_at.tzinfo is None:
        return None
    out: list[dict[str, Any]] = []
    for line in lines:
        if type(line) is not dict or len(line) != 8 or any(line.get(k, 0) is not None for k in _UNPRICED):
            return None
        offer_id, quantity, tolerance = line.get("offer_id"), line.get("quantity"), line.get("tolerance")
        if type(offer_id) is not int or type(quantity) is not int or type(tolerance) is not int:
            return None
        out.append({"offer_id": offer_id, "quantity": quantity, "tolerance": tolerance, "allocated": None,
                    "unit_price": None, "fee_share": None, "amount": None, "savings": None})
    return {"group_id": group_id, "round_id": round_id, "updated_at": updated_at.isoformat(), "lines": out}


class GroupOrderOutSchema(Schema):
    group_id = fields.Integer()
    round_id = fields.Integer()
    updated_at = fields.AwareDateTime(format="iso", allow_none=True)
    lines = fields.List(fields.Nested(OrderLineOutSchema))

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        plain = plain_placed_order(obj) if not many and not self.many else None
        return plain if plain is not None else super().dump(obj, many=many)


class PurchaseOrderLineSchema(Schema):
    offer_id = fields.Integer()
    product_id = fields.Integer()
    total_quantity = fields.Integer()
    ordered_quantity = fields.Integer()
    packs = fields.Integer()
    unit_price = Money(allow_none=True)
    tier_min_quantity = fields.Integer(allow_none=True)
    received_quantity = fields.Integer(allow_none=True)
    amount = Money()


class PurchaseOrderSchema(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    supplier_id = fields.Integer()
    lines = fields.List(fields.Nested(PurchaseOrderLineSchema))
    value = Money()
    delivery_fee = Money()
    network_fee = Money()
    total = Money()
    received_at = fields.AwareDateTime(format="iso", allow_none=True)


class ReceiptLineSchema(Schema):
    offer_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    received_quantity = Quantity(required=True, validate=validate.Range(min=0, max=_MAX_QTY))


class ReceiptSchema(Schema):
    received_at = fields.AwareDateTime(format="iso", load_default=None)
    lines = fields.List(fields.Nested(ReceiptLineSchema), required=True)


class InvoiceSchema(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    group_id = fields.Integer()
    total = Money()
    paid = Money()
    outstanding = Money(metadata={"description": "total - paid, or 0"})
    credit = Money(metadata={"description": "paid - total when a short delivery came after payment, else 0"})
    savings = Money(allow_negative=True)


class SlipField(fields.Field[bytes]):
    """A photo as base64 (a data: URL prefix is accepted), at most 5 MB once decoded."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bytes:
        if not isinstance(value, str) or len(value) > 7_000_000:
            raise ValidationError("A photo as base64, at most 5 MB.")
        text = value.split(",", 1)[1] if value.startswith("data:") else value
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("Not base64.") from exc


class PaymentInSchema(Schema):
    amount = Money(required=True)
    method = fields.String(load_default=None, validate=validate.OneOf(PAYMENT_METHODS), metadata={
        "description": "cash (default), promptpay or transfer; transfer when only a slip is sent"})
    slip = SlipField(load_default=None, metadata={
        "description": "photo of the bank's transfer slip, base64: its QR's reference is read and kept; the same "
                       "reference on a second payment is refused with 409; a slip without a readable QR is "
                       "kept and marked for the treasurer to check by eye"})
    note = fields.String(load_default="", validate=validate.Length(max=500))


class PaymentSchema(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    amount = Money()
    amount_words = fields.String(metadata={"description": "the amount in Thai words, as on the receipt"})
    method = fields.String()
    receipt_number = fields.String(metadata={"description": "<Buddhist-era year>/<six digits>, per network"})
    bank_ref = fields.String(allow_none=True)
    slip_state = fields.String(allow_none=True, metadata={
        "description": "null without a slip; read (its QR gave bank_ref) or check_by_eye"})
    paid_at = fields.AwareDateTime(format="iso")
    cancellation_number = fields.String(allow_none=True, metadata={
        "description": "the number of the document that cancelled this receipt, or null"})


class CancellationInSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CancellationSchema(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "<Buddhist-era year>/<six digits>, the network's cancellations"})
    payment_id = fields.Integer()
    receipt_number = fields.String(attribute="payment.receipt_number")
    amount = Money(attribute="payment.amount")
    amount_words = fields.String(attribute="payment.amount_words")
    reason = fields.String()
    cancelled_at = fields.AwareDateTime(format="iso")


class PaymentRequestSchema(Schema):
    promptpay_id = fields.String()
    amount = Money()
    payload = fields.String(metadata={"description": "EMVCo merchant-presented PromptPay payload, CRC-16 last"})


class InvoiceDetailSchema(Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    round_id = fields.Integer()
    total = Money()
    paid = Money()
    due = Money(metadata={"description": "still to pay: total - paid, or 0"})
    due_words = fields.String(metadata={"description": "due in Thai words"})
    credit = Money()
    savings = Money(allow_negative=True)
    payment = fields.Nested(PaymentRequestSchema, allow_none=True, metadata={
        "description": "how to pay what is due by PromptPay (the network's id); null without an id or when paid"})
    payments = fields.List(fields.Nested(PaymentSchema))


class ListArgs(Schema):
    state = fields.String(load_default=None, validate=validate.OneOf(
        ("draft", "open", "closed", "combined", "delivered", "settled")))
