"""Network fee and the split of fees over purchase-order lines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from pricing.allocation import largest_remainder
from pricing.money import CENT, from_satang, round_half_up, to_satang


def network_fee(value: Decimal, fee_percent: Decimal) -> Decimal:
    """fee_percent of value, rounded half up to the satang."""
    if value < 0:
        raise ValueError(f"value must be >= 0, got {value}")
    if fee_percent < 0:
        raise ValueError(f"fee_percent must be >= 0, got {fee_percent}")
    return round_half_up(Fraction(value) * Fraction(fee_percent) / 100, CENT)


def split_fee(
    fee: Decimal, line_values: Sequence[Decimal], keys: Sequence[tuple[object, ...]]
) -> list[Decimal]:
    """Shares of `fee` pro rata by line value, in satang, adding up exactly to `fee`."""
    if len(line_values) != len(keys):
        raise ValueError("line_values and keys must have the same length")
    if fee < 0 or fee != fee.quantize(CENT):
        raise ValueError(f"fee must be >= 0 with at most two decimal places, got {fee}")
    fee_satang = to_satang(fee)
    weights = [to_satang(v) for v in line_values]
    if any(w < 0 for w in weights):
        raise ValueError("line values must be >= 0")
    if fee_satang > 0 and not weights:
        raise ValueError(f"no lines to carry a fee of {fee}")
    if fee_satang > 0 and sum(weights) == 0:
        # Lines worth nothing still share the fee rather than leaving it unpaid.
        weights = [1] * len(weights)
    return [from_satang(s) for s in largest_remainder(fee_satang, weights, keys)]


def purchase_order_delivery_fee(ordered_offer_fees: Sequence[Decimal], supplier_fee: Decimal) -> Decimal:
    """A purchase order's delivery fee: the fees of its offers that were ordered, plus the supplier's
    fee for the whole round, charged once when at least one of its offers is ordered (else nothing)."""
    if supplier_fee < 0 or any(fee < 0 for fee in ordered_offer_fees):
        raise ValueError("delivery fees must be >= 0")
    if not ordered_offer_fees:
        return Decimal("0.00")
    return sum(ordered_offer_fees, Decimal("0.00")) + supplier_fee
