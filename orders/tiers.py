"""The tier rules of an offer (defined once, in ``pricing.tier_problems``) as the API reports them."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pricing

TIER_MESSAGES = {
    "required": "At least one tier.",
    "not_integer": "Must be a whole number.",
    "not_money": "Must be an amount in baht, such as \"1250.50\".",
    "first_not_zero": "The first tier starts at 0 (the list price).",
    "not_increasing": "Must be larger than the tier before.",
    "price_rises": "Must not be higher than the tier before.",
}


def tier_error(tiers: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The first broken tier rule as a field error ``{"tiers": {i: {field: [message]}}}``, or None.

    ``tiers``: ``{"min_quantity": int, "unit_price": Decimal}`` in the order given."""
    problems = pricing.tier_problems([pricing.Tier(t["min_quantity"], t["unit_price"]) for t in tiers])
    if not problems:
        return None
    first = problems[0]
    message = TIER_MESSAGES.get(first.code, first.detail)
    if first.index is None:
        return {"tiers": [message]}
    return {"tiers": {first.index: {first.field: [message]}}}
