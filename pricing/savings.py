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
        share = registered_poor_share_satang(int(satang), members, registered_poor_members)
        return Decimal(share).scaleb(-2).quantize(CENT)
    return round_half_up(Fraction(savings) * registered_poor_members / members, CENT)


def registered_poor_share_satang(savings: int, members: int, registered_poor_members: int) -> int:
    """``registered_poor_share`` of savings in whole satang, in whole satang: the monthly summary's group
    lines (thousands a month) are added up in integers."""
    if not members:
        return 0
    if members < 0:  # no group has that; the same result as the rule above all the same
        savings, members = -savings, -members
    return half_up_quotient(savings * registered_poor_members, members)
