"""marshmallow schemas of the marketplace API: listings and purchases."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import ID_RANGE, Money, PatchSchema, Quantity
from market.models import LISTING_STATES, PURCHASE_STATES

_MAX_QTY = 100_000_000
LISTING_SORTS = ("newest", "oldest", "name", "-name", "price", "-price", "stock", "-stock")


class ListingCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=40))
    category = fields.String(required=True, validate=validate.Length(max=80))
    price = Money(required=True)
    stock = Quantity(required=True, validate=validate.Range(min=0, max=_MAX_QTY))
    outside_price = Money(load_default=None, allow_none=True)
    reference_price = Money(load_default=None, allow_none=True)
    district = fields.String(load_default="", validate=validate.Length(max=100))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class ListingPatchSchema(PatchSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    unit = fields.String(validate=validate.Length(min=1, max=40))
    category = fields.String(validate=validate.Length(max=80))
    price = Money()
    stock = Quantity(validate=validate.Range(min=0, max=_MAX_QTY))
    outside_price = Money(allow_none=True)
    reference_price = Money(allow_none=True)
    district = fields.String(validate=validate.Length(max=100))
    description = fields.String(validate=validate.Length(max=2000))
    state = fields.String(validate=validate.OneOf(LISTING_STATES))


class ListingSchema(Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    group_name = fields.String(attribute="group.name")
    name = fields.String()
    unit = fields.String()
    category = fields.String()
    price = Money()
    stock = fields.Integer()
    outside_price = Money(allow_none=True)
    reference_price = Money(allow_none=True)
    district = fields.String()
    description = fields.String()
    state = fields.String()
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ListingListArgs(PageArgs):
    category = fields.String(load_default=None)
    district = fields.String(load_default=None)
    group_id = fields.Integer(load_default=None, validate=ID_RANGE)
    in_stock = fields.Boolean(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    state = fields.String(load_default="active", validate=validate.OneOf((*LISTING_STATES, "all")))
    sort = fields.String(load_default="newest", validate=validate.OneOf(LISTING_SORTS))


class PurchaseCreateSchema(Schema):
    group_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    quantity = Quantity(required=True, validate=validate.Range(min=1, max=_MAX_QTY))


class DeliverSchema(Schema):
    delivered_at = fields.AwareDateTime(format="iso", load_default=None)


class PurchaseSchema(Schema):
    id = fields.Integer()
    listing_id = fields.Integer()
    listing_name = fields.String(attribute="listing.name")
    unit = fields.String(attribute="listing.unit")
    buyer_group_id = fields.Integer()
    seller_group_id = fields.Integer()
    state = fields.String()
    quantity = fields.Integer()
    unit_price = Money()
    outside_price = Money(allow_none=True)
    reference_price = Money(allow_none=True)
    amount = Money()
    income_gain = Money(allow_none=True, allow_negative=True)  # below the outside price: a loss, shown as it is
    buyer_saving = Money(allow_none=True, allow_negative=True)  # above the reference price
    placed_at = fields.AwareDateTime(format="iso")
    confirmed_at = fields.AwareDateTime(format="iso", allow_none=True)
    delivered_at = fields.AwareDateTime(format="iso", allow_none=True)
    cancelled_at = fields.AwareDateTime(format="iso", allow_none=True)


class PurchaseListArgs(PageArgs):
    state = fields.String(load_default=None, validate=validate.OneOf(PURCHASE_STATES))
    side = fields.String(load_default=None, validate=validate.OneOf(("buyer", "seller")))
    listing_id = fields.Integer(load_default=None, validate=ID_RANGE)
