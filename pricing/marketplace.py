"""Marketplace figures of one purchase: the seller's income gain and the buyer's saving."""

from __future__ import annotations

from decimal import Decimal

from pricing.money import CENT, _to_decimal


def income_gain(quantity: int, unit_price: Decimal, outside_price: Decimal | None) -> Decimal:
    """The seller's extra income over the middleman: quantity × (price − outside price); 0 without one."""
    if outside_price is None:
        return Decimal("0.00")
    return (quantity * (_to_decimal(unit_price) - _to_decimal(outside_price))).quantize(CENT)


def buyer_saving(quantity: int, unit_price: Decimal, reference_price: Decimal | None) -> Decimal:
    """The buyer's saving over buying elsewhere: quantity × (reference − price); 0 without a reference."""
    if reference_price is None:
        return Decimal("0.00")
    return (quantity * (_to_decimal(reference_price) - _to_decimal(unit_price))).quantize(CENT)
