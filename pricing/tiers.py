"""Volume price tiers of an offer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pricing.money import CENT


@dataclass(frozen=True)
class Tier:
    min_quantity: int
    unit_price: Decimal


def _is_money(x: object) -> bool:
    # Value-based, so "12.50" and "12.5" are both acceptable; "12.505" is not.
    return isinstance(x, Decimal) and x.is_finite() and x >= 0 and x == x.quantize(CENT)


def validate_tiers(tiers: Sequence[Tier]) -> list[str]:
    """Problems with the tiers as given (empty list = valid), each naming the field."""
    problems: list[str] = []
    if not tiers:
        return ["tiers: at least one tier is required"]
    for i, t in enumerate(tiers):
        if isinstance(t.min_quantity, bool) or not isinstance(t.min_quantity, int):
            problems.append(f"tiers[{i}].min_quantity: must be an integer")
        if not _is_money(t.unit_price):
            problems.append(f"tiers[{i}].unit_price: must be a Decimal >= 0 with at most two decimal places")
    if problems:
        # Order checks below would compare garbage.
        return problems
    if tiers[0].min_quantity != 0:
        problems.append(f"tiers[0].min_quantity: the first tier must start at 0, got {tiers[0].min_quantity}")
    for i in range(1, len(tiers)):
        prev, cur = tiers[i - 1], tiers[i]
        if cur.min_quantity <= prev.min_quantity:
            problems.append(
                f"tiers[{i}].min_quantity: must be greater than {prev.min_quantity}, got {cur.min_quantity}"
            )
        if cur.unit_price > prev.unit_price:
            problems.append(
                f"tiers[{i}].unit_price: must not exceed the previous tier's {prev.unit_price},"
                f" got {cur.unit_price}"
            )
    return problems


def _sorted(tiers: Sequence[Tier]) -> list[Tier]:
    if not tiers:
        raise ValueError("an offer needs at least one tier")
    return sorted(tiers, key=lambda t: t.min_quantity)


def tier_for(tiers: Sequence[Tier], quantity: int) -> Tier:
    """The tier with the largest min_quantity <= quantity."""
    chosen: Tier | None = None
    for t in _sorted(tiers):
        if t.min_quantity <= quantity:
            chosen = t
        else:
            break
    if chosen is None:
        raise ValueError(f"no tier reaches quantity {quantity}")
    return chosen


def list_price(tiers: Sequence[Tier]) -> Decimal:
    return _sorted(tiers)[0].unit_price


def best_price(tiers: Sequence[Tier]) -> Decimal:
    return _sorted(tiers)[-1].unit_price
