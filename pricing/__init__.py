"""Pure pricing core: plain data in, plain data out; no flask, sqlalchemy or celery."""

from pricing.allocation import (
    Line,
    PackResult,
    allocate,
    largest_remainder,
    reallocate_shortage,
    round_to_packs,
)
from pricing.bargaining import (
    PriceReduction,
    TierAttainment,
    alone_price,
    pooling_gain,
    price_reduction,
    tier_attainment,
    weighted,
)
from pricing.fees import network_fee, purchase_order_delivery_fee, split_fee
from pricing.money import CENT, RATIO, from_satang, money, ratio, to_satang
from pricing.offer import OfferResult, OfferTerms, combine_offer
from pricing.savings import line_amount, line_savings
from pricing.tiers import Tier, best_price, list_price, tier_for, validate_tiers

__all__ = [
    "CENT",
    "RATIO",
    "Line",
    "OfferResult",
    "OfferTerms",
    "PackResult",
    "PriceReduction",
    "Tier",
    "TierAttainment",
    "allocate",
    "alone_price",
    "best_price",
    "combine_offer",
    "from_satang",
    "largest_remainder",
    "line_amount",
    "line_savings",
    "list_price",
    "money",
    "network_fee",
    "pooling_gain",
    "purchase_order_delivery_fee",
    "price_reduction",
    "ratio",
    "reallocate_shortage",
    "round_to_packs",
    "split_fee",
    "tier_attainment",
    "tier_for",
    "to_satang",
    "validate_tiers",
    "weighted",
]
