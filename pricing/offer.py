"""Combine one offer: pack rounding, minimum, tier and allocation in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pricing.allocation import Line, PackResult, allocate, round_to_packs
from pricing.money import CENT
from pricing.tiers import Tier, tier_for, validate_tiers


@dataclass(frozen=True)
class OfferTerms:
    pack_size: int
    min_quantity: int
    reference_price: Decimal
    delivery_fee: Decimal
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class OfferResult:
    pack: PackResult
    unit_price: Decimal | None
    tier_min_quantity: int | None
    allocations: dict[int, int]


def _check_terms(terms: OfferTerms) -> None:
    problems = validate_tiers(terms.tiers)
    for name in ("reference_price", "delivery_fee"):
        v = getattr(terms, name)
        if not (isinstance(v, Decimal) and v.is_finite() and v >= 0 and v == v.quantize(CENT)):
            problems.append(f"{name}: must be a Decimal >= 0 with at most two decimal places")
    if problems:
        raise ValueError("; ".join(problems))


def combine_offer(terms: OfferTerms, lines: Sequence[Line]) -> OfferResult:
    _check_terms(terms)
    pack = round_to_packs(
        sum(ln.quantity for ln in lines),
        sum(ln.tolerance for ln in lines),
        terms.pack_size,
        terms.min_quantity,
    )
    # Allocating 0 still validates the lines, so bad input fails the same way either way.
    allocations = allocate(lines, pack.ordered_quantity)
    if not pack.is_ordered:
        return OfferResult(pack, None, None, allocations)
    tier = tier_for(terms.tiers, pack.ordered_quantity)
    return OfferResult(pack, tier.unit_price, tier.min_quantity, allocations)
