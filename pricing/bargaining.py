"""Bargaining-power figures, each returned with its parts so a committee can follow it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from pricing.money import RATIO, money, ratio, round_half_up
from pricing.tiers import Tier, best_price, list_price, tier_for

ONE = Decimal("1.0000")


@dataclass(frozen=True)
class PriceReduction:
    actual: Decimal
    baseline: Decimal
    value: Decimal | None


def price_reduction(actual: Decimal, baseline: Decimal) -> PriceReduction:
    # (baseline - actual)/baseline rounds the exact figure once; 1 - round(a/b) could differ at ties.
    return PriceReduction(actual, baseline, ratio(baseline - actual, baseline))


@dataclass(frozen=True)
class TierAttainment:
    list_price: Decimal
    achieved: Decimal
    best_price: Decimal
    value: Decimal


def tier_attainment(tiers: Sequence[Tier], achieved_price: Decimal) -> TierAttainment:
    lp = list_price(tiers)
    bp = best_price(tiers)
    spread_ratio = ratio(lp - achieved_price, lp - bp)
    # No discount on offer means none could be missed: full attainment.
    value = ONE if len(tiers) == 1 or spread_ratio is None else spread_ratio
    return TierAttainment(lp, achieved_price, bp, value)


def pooling_gain(allocated: int, alone_price: Decimal, achieved_price: Decimal) -> Decimal:
    return money(allocated * (alone_price - achieved_price))


def alone_price(tiers: Sequence[Tier], own_quantity: int) -> Decimal:
    """What the group would pay buying its own quantity alone from the same supplier."""
    return tier_for(tiers, own_quantity).unit_price


def weighted(values: Sequence[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Value-weighted average of (figure, weight) to four places; None when no weight."""
    total_weight = sum((Fraction(w) for _, w in values), Fraction(0))
    if total_weight == 0:
        return None
    total = sum((Fraction(f) * Fraction(w) for f, w in values), Fraction(0))
    return round_half_up(total / total_weight, RATIO)
