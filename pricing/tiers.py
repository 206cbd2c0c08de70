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


@dataclass(frozen=True)
class TierProblem:
    """One broken tier rule: which tier (None: the list itself), which field, a code and the detail."""

    index: int | None
    field: str
    code: str  # "required" | "not_integer" | "not_money" | "first_not_zero" | "not_increasing" | "price_rises"
    detail: str

    def __str__(self) -> str:
        where = "tiers" if self.index is None else f"tiers[{self.index}].{self.field}"
        return f"{where}: {self.detail}"


def tier_problems(tiers: Sequence[Tier]) -> list[TierProblem]:
    """The tier rules, defined once: at least one tier; whole quantities and exact non-negative prices;
    the first tier starts at 0 (the list price); quantities strictly increase; prices never increase.

    Empty list = valid. In order: the first problem is the first a person should fix."""
    if not tiers:
        return [TierProblem(None, "", "required", "at least one tier is required")]
    problems: list[TierProblem] = []
    for i, t in enumerate(tiers):
        if isinstance(t.min_quantity, bool) or not isinstance(t.min_quantity, int):
            problems.append(TierProblem(i, "min_quantity", "not_integer", "must be an integer"))
        if not _is_money(t.unit_price):
            problems.append(TierProblem(i, "unit_price", "not_money",
                                        "must be a Decimal >= 0 with at most two decimal places"))
    if problems:
        # Order checks below would compare garbage.
        return problems
    if tiers[0].min_quantity != 0:
        problems.append(TierProblem(0, "min_quantity", "first_not_zero",
                                    f"the first tier must start at 0, got {tiers[0].min_quantity}"))
    for i in range(1, len(tiers)):
        prev, cur = tiers[i - 1], tiers[i]
        if cur.min_quantity <= prev.min_quantity:
            problems.append(TierProblem(i, "min_quantity", "not_increasing",
                                        f"must be greater than {prev.min_quantity}, got {cur.min_quantity}"))
        if cur.unit_price > prev.unit_price:
            problems.append(TierProblem(i, "unit_price", "price_rises",
                                        f"must not exceed the previous tier's {prev.unit_price}, got {cur.unit_price}"))
    return problems


def validate_tiers(tiers: Sequence[Tier]) -> list[str]:
    """Problems with the tiers as given (empty list = valid), each naming the field."""
    return [str(problem) for problem in tier_problems(tiers)]


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


@dataclass(frozen=True)
class TierProgress:
    """Where the network's pooled quantity stands on an offer's tiers (the round and order pages)."""

    reached: Tier | None  # the tier it has reached; the first (list price) while it reaches none
    next: Tier | None  # the next tier up; None at the best price
    more: int  # units still needed to reach ``next``; 0 at the best price


def tier_progress(tiers: Sequence[Tier], so_far: int) -> TierProgress:
    """The tier ``so_far`` units reach (``tier_for``'s rule: the largest minimum <= so_far), the next
    one and how many more units reach it. No tiers: nothing reached, nothing next."""
    ordered = sorted(tiers, key=lambda t: t.min_quantity)
    reached = ordered[0] if ordered else None
    following: Tier | None = None
    for tier in ordered:
        if tier.min_quantity <= so_far:
            reached = tier
        elif following is None:
            following = tier
    return TierProgress(reached, following, following.min_quantity - so_far if following else 0)
