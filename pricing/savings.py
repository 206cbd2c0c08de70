"""Per-line amount and savings against the reference (buying-alone) price."""

from __future__ import annotations

from decimal import Decimal

from pricing.money import money


def line_amount(allocated: int, unit_price: Decimal, fee_share: Decimal) -> Decimal:
    return money(allocated * unit_price + fee_share)


def line_savings(
    allocated: int, reference_price: Decimal, unit_price: Decimal, fee_share: Decimal
) -> Decimal:
    """Can be negative: reports show a bad deal as it is."""
    return money(allocated * (reference_price - unit_price) - fee_share)
