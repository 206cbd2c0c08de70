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
    attainment_fraction,
    pooling_gain,
    price_reduction,
    tier_attainment,
    weighted,
)
from pricing.fees import network_fee, purchase_order_delivery_fee, split_fee
from pricing.households import GroupLine, HouseholdShare, split_bill, split_line
from pricing.marketplace import buyer_saving, income_gain
from pricing.money import CENT, RATIO, ZERO, from_satang, half_up_quotient, money, ratio, to_satang
from pricing.offer import OfferResult, OfferTerms, combine_offer
from pricing.savings import line_amount, line_savings, registered_poor_share, registered_poor_share_satang
from pricing.tiers import (
    Tier,
    TierProblem,
    TierProgress,
    best_price,
    list_price,
    tier_for,
    tier_problems,
    tier_progress,
    validate_tiers,
)

__all__ = [
    "CENT",
    "GroupLine",
    "HouseholdShare",
    "RATIO",
    "ZERO",
    "Line",
    "OfferResult",
    "OfferTerms",
    "PackResult",
    "PriceReduction",
    "Tier",
    "TierAttainment",
    "TierProblem",
    "TierProgress",
    "allocate",
    "alone_price",
    "attainment_fraction",
    "best_price",
    "buyer_saving",
    "combine_offer",
    "from_satang",
    "half_up_quotient",
    "income_gain",
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
    "registered_poor_share",
    "registered_poor_share_satang",
    "round_to_packs",
    "split_bill",
    "split_fee",
    "split_line",
    "tier_attainment",
    "tier_for",
    "tier_problems",
    "tier_progress",
    "to_satang",
    "validate_tiers",
    "weighted",
]
