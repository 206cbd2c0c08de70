"""marshmallow schemas of requests for quotation, quotes, the comparison and the award."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from core.fields import ID_RANGE, Money, Quantity

_MAX_QTY = 100_000_000


def _unique(key: str, where: str) -> Any:
    def check(items: list[Any]) -> None:
        seen: set[Any] = set()
        for i, item in enumerate(items):
            value = item[key] if isinstance(item, dict) else item
            if value in seen:
                raise ValidationError({i: {key: ["Listed twice."]}} if isinstance(item, dict) else {i: ["Listed twice."]})
            seen.add(value)
    check.__name__ = f"unique_{where}"
    return check


class RfqItemInSchema(Schema):
    product_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    quantity = Quantity(required=True, validate=validate.Range(min=1, max=_MAX_QTY))
    reference_price = Money(required=True)


class RfqCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    closes_at = fields.AwareDateTime(required=True, format="iso")
    items = fields.List(fields.Nested(RfqItemInSchema), required=True,
                        validate=[validate.Length(min=1, max=500), _unique("product_id", "items")])
    supplier_ids = fields.List(fields.Integer(strict=True, validate=ID_RANGE), required=True,
                               validate=[validate.Length(min=1, max=100), _unique("", "suppliers")])


class RfqItemSchema(Schema):
    product_id = fields.Integer()
    product_name = fields.String()
    unit = fields.String()
    quantity = fields.Integer()
    reference_price = Money()
    awarded_supplier_id = fields.Integer(allow_none=True)


class InvitationSchema(Schema):
    supplier_id = fields.Integer()
    supplier_name = fields.String()
    quoted_at = fields.AwareDateTime(format="iso", allow_none=True)
    token = fields.String(allow_none=True, metadata={
        "description": "Only in the answer that created it (null after): stored hashed."})


class RfqSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    state = fields.String(metadata={"description": "open, closed (past closes_at, not awarded) or awarded"})
    closes_at = fields.AwareDateTime(format="iso")
    created_at = fields.AwareDateTime(format="iso")
    awarded_at = fields.AwareDateTime(format="iso", allow_none=True)
    round_id = fields.Integer(allow_none=True)
    awarded_total = Money(allow_none=True)
    items = fields.List(fields.Nested(RfqItemSchema))
    invitations = fields.List(fields.Nested(InvitationSchema))


class QuoteTierSchema(Schema):
    min_quantity = Quantity(required=True, validate=validate.Range(min=0, max=_MAX_QTY))
    unit_price = Money(required=True)


class QuoteLineSchema(Schema):
    product_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    pack_size = Quantity(required=True, validate=validate.Range(min=1, max=_MAX_QTY))
    min_quantity = Quantity(load_default=0, validate=validate.Range(min=0, max=_MAX_QTY))
    tiers = fields.List(fields.Nested(QuoteTierSchema), required=True, validate=validate.Length(min=1, max=20))


class QuoteInSchema(Schema):
    delivery_fee = Money(load_default=None)
    lines = fields.List(fields.Nested(QuoteLineSchema), required=True,
                        validate=[validate.Length(max=500), _unique("product_id", "lines")])


class QuoteSchema(Schema):
    delivery_fee = Money()
    submitted_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")
    lines = fields.List(fields.Nested(QuoteLineSchema))


class SupplierItemSchema(Schema):
    product_id = fields.Integer()
    product_name = fields.String()
    unit = fields.String()
    quantity = fields.Integer()


class SupplierRfqSchema(Schema):
    name = fields.String()
    closes_at = fields.AwareDateTime(format="iso")
    state = fields.String()
    supplier_name = fields.String()
    items = fields.List(fields.Nested(SupplierItemSchema))


class SupplierViewSchema(Schema):
    rfq = fields.Nested(SupplierRfqSchema)
    quote = fields.Nested(QuoteSchema, allow_none=True)


class PricedQuoteSchema(Schema):
    supplier_id = fields.Integer()
    bought_quantity = fields.Integer()
    unit_price = Money()
    amount = Money()
    eligible = fields.Boolean()


class ComparisonItemSchema(Schema):
    product_id = fields.Integer()
    product_name = fields.String()
    unit = fields.String()
    quantity = fields.Integer()
    reference_price = Money()
    quotes = fields.List(fields.Nested(PricedQuoteSchema))


class AwardLineSchema(Schema):
    product_id = fields.Integer()
    supplier_id = fields.Integer()
    bought_quantity = fields.Integer()
    unit_price = Money()
    amount = Money()


class SupplierFeeSchema(Schema):
    supplier_id = fields.Integer()
    delivery_fee = Money()


class BestAwardSchema(Schema):
    total = Money()
    amounts = Money()
    delivery_fees = Money()
    supplier_fees = fields.List(fields.Nested(SupplierFeeSchema))
    lines = fields.List(fields.Nested(AwardLineSchema))


class TotalSchema(Schema):
    total = Money()
    saving_of_best = Money(allow_negative=True, metadata={"description": "this total minus the best award's"})
    lines = fields.List(fields.Nested(AwardLineSchema))


class SingleSupplierSchema(TotalSchema):
    supplier_id = fields.Integer()


class ComparisonSchema(Schema):
    rfq_id = fields.Integer()
    state = fields.String()
    items = fields.List(fields.Nested(ComparisonItemSchema))
    best = fields.Nested(BestAwardSchema)
    cheapest_per_product = fields.Nested(TotalSchema)
    best_single_supplier = fields.Nested(SingleSupplierSchema, allow_none=True)
    not_awarded = fields.List(fields.Integer())


class AwardChoiceSchema(Schema):
    product_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    supplier_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)


class AwardInSchema(Schema):
    closes_at = fields.AwareDateTime(format="iso", load_default=None)
    lines = fields.List(fields.Nested(AwardChoiceSchema), load_default=None,
                        validate=[validate.Length(min=1, max=500), _unique("product_id", "lines")])


class AwardOutSchema(Schema):
    rfq_id = fields.Integer()
    round_id = fields.Integer()
    total = Money()
    best_total = Money()
    difference = Money(allow_negative=True, metadata={"description": "total minus the best award's total"})
