"""Per-line amount and savings against the reference (buying-alone) price; the registered-poor share."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from pricing.money import CENT, ZERO, half_up_quotient, money, round_half_up


def line_amount(allocated: int, unit_price: Decimal, fee_share: Decimal) -> Decimal:
    return money(allocated * unit_price + fee_share)


def line_savings(
    allocated: int, reference_price: Decimal, unit_price: Decimal, fee_share: Decimal
) -> Decimal:
    """Can be negative: reports show a bad deal as it is."""
    return money(allocated * (reference_price - unit_price) - fee_share)


def registered_poor_share(savings: Decimal, members: int, registered_poor_members: int) -> Decimal:
    """The part of a group's savings that reached its registered-poor households: savings × poor ÷ members,
    rounded once to the satang, half up (per group; the network's figure is the sum of the groups').
    Nothing for a group with no members on record."""
    if not members:
        return ZERO
    satang = savings.scaleb(2)
    if members > 0 and satang == satang.to_integral_value():  # whole satang: the same rounding in integers
        share = half_up_quotient(int(satang) * registered_poor_members, members)
        return Decimal(share).scaleb(-2).quantize(CENT)
    return round_half_up(Fraction(savings) * registered_poor_members / members, CENT)
