"""marshmallow schemas of the monthly summary (money as decimal strings, ratios to four places)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import Money, Ratio


class _Headline(Schema):
    spend = Money(allow_negative=True)
    baseline = Money(allow_negative=True)
    savings = Money(allow_negative=True)
    savings_percent = Ratio(allow_none=True)
    fees = Money(allow_negative=True)
    income_gain = Money(allow_negative=True)
    registered_poor_savings = Money(allow_negative=True)


class PriceReductionPartsSchema(Schema):
    actual = Money()
    baseline = Money()


class JointBuyingSchema(Schema):
    spend = Money()
    baseline = Money()
    savings = Money(allow_negative=True)
    fees = Money()


class MarketplaceSchema(Schema):
    spend = Money()
    baseline = Money()
    savings = Money(allow_negative=True)
    purchases = fields.Integer()


class NetworkFiguresSchema(_Headline):
    price_reduction = Ratio(allow_none=True)
    tier_attainment = Ratio(allow_none=True)
    pooling_gain = Money(allow_negative=True)
    price_reduction_parts = fields.Nested(PriceReductionPartsSchema)
    joint_buying = fields.Nested(JointBuyingSchema)
    marketplace = fields.Nested(MarketplaceSchema)
    rounds = fields.Integer()
    purchase_orders = fields.Integer()
    groups_active = fields.Integer()
    registered_poor_basis = fields.String(metadata={
        "description": "households: every active group's reach measured; proportion: all estimated; mixed"})
    households_reached = fields.Integer()


class GroupLineSchema(_Headline):
    group_id = fields.Integer()
    name = fields.String()
    district = fields.String()
    members = fields.Integer()
    registered_poor_members = fields.Integer()
    registered_poor_basis = fields.String(metadata={
        "description": "households: measured from household bills; proportion: estimated; mixed: both"})
    households_reached = fields.Integer(metadata={"description": "households with an allocation this month"})
    pooling_gain = Money(allow_negative=True)
    joint_buying_spend = Money()
    marketplace_spend = Money()
    rounds_joined = fields.Integer()
    purchases = fields.Integer(metadata={"description": "Marketplace purchases delivered to the group"})
    sales = fields.Integer(metadata={"description": "Marketplace sales the group delivered"})
    sales_amount = Money()


class ProductLineSchema(Schema):
    offer_id = fields.Integer()
    round_id = fields.Integer()
    purchase_order_id = fields.Integer()
    product_id = fields.Integer()
    product = fields.String()
    unit = fields.String()
    supplier_id = fields.Integer()
    supplier = fields.String()
    ordered_quantity = fields.Integer()
    received_quantity = fields.Integer(allow_none=True)
    allocated = fields.Integer()
    packs = fields.Integer()
    tier_min_quantity = fields.Integer(allow_none=True)
    unit_price = Money()
    list_price = Money()
    best_price = Money()
    reference_price = Money()
    value = Money()
    actual = Money()
    baseline = Money()
    price_reduction = Ratio(allow_none=True)
    tier_attainment = Ratio(allow_none=True)
    pooling_gain = Money(allow_negative=True)
    groups_pooled = fields.Integer()
    competing_offers = fields.Integer()


class TrendPointSchema(Schema):
    month = fields.String()
    spend = Money()
    baseline = Money()
    savings = Money(allow_negative=True)
    savings_percent = Ratio(allow_none=True)
    fees = Money()
    income_gain = Money(allow_negative=True)
    pooling_gain = Money(allow_negative=True)
    price_reduction = Ratio(allow_none=True)
    tier_attainment = Ratio(allow_none=True)


class ChangeSchema(Schema):
    previous = fields.String(allow_none=True)
    change = fields.String(allow_none=True)
    change_percent = fields.String(allow_none=True)


class VersionSchema(Schema):
    version = fields.Integer()
    built_at = fields.AwareDateTime(format="iso")
    reviewed_at = fields.AwareDateTime(format="iso", allow_none=True)


class FigureChangeSchema(Schema):
    figure = fields.String(metadata={"example": "savings"})
    group_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)


class CompetitionLineSchema(Schema):
    rfq_id = fields.Integer()
    rfq_name = fields.String()
    product_id = fields.Integer()
    product_name = fields.String()
    supplier_id = fields.Integer()
    quotes = fields.Integer(metadata={"description": "eligible quotes for the product"})
    awarded_amount = Money()
    median_amount = Money()
    single_supplier_amount = Money(allow_none=True)
    won_vs_median = Money(allow_negative=True)
    won_vs_single_supplier = Money(allow_negative=True, allow_none=True)


class CompetitionSchema(Schema):
    """What competition won: requests for quotation awarded in the month (docs/quotes.md)."""

    requests = fields.Integer()
    awarded_total = Money()
    requests_with_single_supplier = fields.Integer()
    single_supplier_total = Money()
    won_vs_single_supplier = Money(allow_negative=True)
    won_vs_median = Money(allow_negative=True)
    products = fields.List(fields.Nested(CompetitionLineSchema))


class SummarySchema(Schema):
    id = fields.Integer(allow_none=True)
    month = fields.String(metadata={"example": "2026-03"})
    version = fields.Integer(allow_none=True, metadata={"description": "null while the month is provisional"})
    provisional = fields.Boolean(metadata={"description": "a month in progress (or not built yet), computed live"})
    as_of = fields.AwareDateTime(format="iso")
    changed_since_sign_off = fields.Boolean()
    signed_version = fields.Integer(allow_none=True)
    changes = fields.List(fields.Nested(FigureChangeSchema))
    timezone = fields.String()
    built_at = fields.AwareDateTime(format="iso")
    reviewed_at = fields.AwareDateTime(format="iso", allow_none=True)
    reviewed_by_id = fields.Integer(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    meeting_date = fields.Date(allow_none=True)
    attendance = fields.Integer(allow_none=True)
    notes = fields.String()
    network = fields.Nested(NetworkFiguresSchema)
    groups = fields.List(fields.Nested(GroupLineSchema))
    products = fields.List(fields.Nested(ProductLineSchema))
    trend = fields.List(fields.Nested(TrendPointSchema))
    competition = fields.Nested(CompetitionSchema)
    previous_month = fields.String()
    month_over_month = fields.Dict(keys=fields.String(), values=fields.Nested(ChangeSchema))
    versions = fields.List(fields.Nested(VersionSchema))


class SummaryArgs(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
    version = fields.Integer(load_default=None, strict=False, validate=validate.Range(min=1, max=1_000_000))


class ReviewSchema(Schema):
    meeting_date = fields.Date(required=True)
    attendance = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1_000_000))
    notes = fields.String(load_default="", validate=validate.Length(max=20_000))


class SummaryJobSchema(Schema):
    job_id = fields.String()
    state = fields.String()
