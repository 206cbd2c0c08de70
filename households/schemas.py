"""marshmallow schemas of households, the round's sheet and household bills (docs/households.md)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import ID_RANGE, Money, Quantity


class HouseholdInSchema(Schema):
    # Checked again by the service (the rule is there, for every entry point); here for the API's 422.
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    registered_poor = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class HouseholdPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    registered_poor = fields.Boolean(truthy={True}, falsy={False})
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))


class HouseholdSchema(Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)
    registered_poor = fields.Boolean()
    phone = fields.String(allow_none=True)


class SheetLinkSchema(Schema):
    token = fields.String(metadata={"description": "shown once: only its hash is kept"})
    url = fields.String()


class SheetRoundSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    state = fields.String()
    closes_at = fields.AwareDateTime(format="iso")


class SheetOfferSchema(Schema):
    id = fields.Integer()
    product_name = fields.String()
    unit = fields.String()
    reference_price = Money()
    list_price = Money(allow_none=True)
    best_price = Money(allow_none=True)


class NamedSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class SheetSchema(Schema):
    round = fields.Nested(SheetRoundSchema)
    group = fields.Nested(NamedSchema)
    offers = fields.List(fields.Nested(SheetOfferSchema))
    households = fields.List(fields.Nested(NamedSchema))


class SheetLineInSchema(Schema):
    offer_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    quantity = Quantity(required=True)


class SheetLinesInSchema(Schema):
    lines = fields.List(fields.Nested(SheetLineInSchema), required=True, validate=validate.Length(max=500))


class LineSchema(Schema):
    offer_id = fields.Integer()
    quantity = fields.Integer()


class BillLineSchema(Schema):
    offer_id = fields.Integer()
    requested = fields.Integer()
    allocated = fields.Integer()
    unit_price = Money(allow_none=True)
    fee_share = Money()
    amount = Money()
    savings = Money(allow_negative=True)


class BillRowSchema(Schema):
    household_id = fields.Integer(allow_none=True, metadata={"description": "null: the group's own row"})
    name = fields.String(allow_none=True, metadata={"description": "null: a removed household"})
    removed = fields.Boolean()
    registered_poor = fields.Boolean()
    lines = fields.List(fields.Nested(BillLineSchema))
    total = Money()
    total_words = fields.String(metadata={"description": "the total in Thai words"})
    savings = Money(allow_negative=True)
    payment = fields.Dict(allow_none=True, metadata={"description": "PromptPay to the group (docs/paying.md)"})


class HouseholdLinesSchema(Schema):
    household_id = fields.Integer()
    name = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(LineSchema))
    bill = fields.Nested(BillRowSchema, allow_none=True)


class HouseholdBillsSchema(Schema):
    round_id = fields.Integer()
    group_id = fields.Integer()
    invoice_id = fields.Integer()
    total = Money()
    rows = fields.List(fields.Nested(BillRowSchema))


class HouseholdOrderSchema(Schema):
    household_id = fields.Integer()
    name = fields.String(allow_none=True)
    registered_poor = fields.Boolean()
    removed = fields.Boolean()
    lines = fields.List(fields.Nested(LineSchema))


class OrderDifferenceSchema(Schema):
    offer_id = fields.Integer()
    households = fields.Integer()
    ordered = fields.Integer()
    difference = fields.Integer(metadata={"description": "households' total minus the group's order"})


class RoundHouseholdsSchema(Schema):
    round_id = fields.Integer()
    group_id = fields.Integer()
    households = fields.List(fields.Nested(HouseholdOrderSchema))
    totals = fields.List(fields.Nested(LineSchema))
    order = fields.List(fields.Nested(OrderDifferenceSchema))
    sheet_live = fields.Boolean()
    sheet_created_at = fields.AwareDateTime(format="iso", allow_none=True)


class ToleranceSchema(Schema):
    offer_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    tolerance = Quantity(required=True)


class FromHouseholdsSchema(Schema):
    tolerances = fields.List(fields.Nested(ToleranceSchema), load_default=list, validate=validate.Length(max=500))
