"""Bargaining-power figures, each returned with its parts so a committee can follow it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from pricing.money import RATIO, _to_decimal, money, ratio, round_half_up
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


def attainment_fraction(list_price: Decimal, best_price: Decimal, achieved_price: Decimal, tier_count: int) -> Fraction:
    """How far down the tiers the achieved price got, exactly: (list − achieved) / (list − best).

    No discount on offer (one tier, or all tiers at one price) means none could be missed: 1."""
    lp, bp, achieved = (Fraction(_to_decimal(x)) for x in (list_price, best_price, achieved_price))
    if tier_count == 1 or lp == bp:
        return Fraction(1)
    return (lp - achieved) / (lp - bp)


def tier_attainment(tiers: Sequence[Tier], achieved_price: Decimal) -> TierAttainment:
    lp = list_price(tiers)
    bp = best_price(tiers)
    value = round_half_up(attainment_fraction(lp, bp, achieved_price, len(tiers)), RATIO)
    return TierAttainment(lp, achieved_price, bp, value)


def pooling_gain(allocated: int, alone_price: Decimal, achieved_price: Decimal) -> Decimal:
    return money(allocated * (alone_price - achieved_price))


def alone_price(tiers: Sequence[Tier], own_quantity: int) -> Decimal:
    """What the group would pay buying its own quantity alone from the same supplier."""
    return tier_for(tiers, own_quantity).unit_price


def weighted(values: Sequence[tuple[Decimal | Fraction, Decimal | Fraction]]) -> Decimal | None:
    """Value-weighted average of (figure, weight) to four places, rounded once; None when no weight.

    Tier attainment of a month is ``weighted`` over its offers of (``attainment_fraction``, ordered value)."""
    total_weight = sum((Fraction(w) for _, w in values), Fraction(0))
    if total_weight == 0:
        return None
    total = sum((Fraction(f) * Fraction(w) for f, w in values), Fraction(0))
    return round_half_up(total / total_weight, RATIO)
