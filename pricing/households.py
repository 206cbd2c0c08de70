"""The split of a group's allocation over its households (docs/households.md, "Household bills and the split rule").

Per offer: ``A`` = the group's allocated quantity, ``R_h`` a household's requested quantity, ``R = Σ R_h``.
If ``A ≥ R`` each household gets ``R_h`` and ``A − R`` stays on the group's own row (tolerance extras, the
leader's own additions). Otherwise each household gets ``floor(A × R_h / R)`` and the units left go one each
to the largest remainders ``(A × R_h) mod R``, ties to the smaller household id: never more than it asked.

The group's fee share for the offer is split over the rows with an allocation, by allocated quantity, in
satang, largest remainder, ties to the smaller household id, the group's own row last. (If no row has an
allocation — a delivery that came to nothing still carrying a fee — the group's own row keeps the fee.)
Each row: ``amount = allocated × unit_price + fee_share``, ``savings = allocated × reference_price − amount``.
The rows add up to the group's line exactly: Σ allocated = A, Σ fee = fee share, hence Σ amount = amount.

Plain data in, plain data out: no flask, sqlalchemy or celery.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pricing.allocation import largest_remainder
from pricing.money import CENT, from_satang, to_satang

# The key that sorts the group's own row after every household (ids are positive integers).
_GROUP_ROW_KEY = (1, 0)


@dataclass(frozen=True)
class HouseholdShare:
    """One row of one offer: a household's (``household_id``) or the group's own (``household_id`` None)."""

    household_id: int | None
    requested: int
    allocated: int
    fee_share: Decimal
    amount: Decimal
    savings: Decimal


def _check_quantity(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def _check_money(name: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal")
    if value < 0 or value != value.quantize(CENT):
        raise ValueError(f"{name} must be >= 0 with at most two decimal places, got {value}")


def split_quantity(allocated: int, requested: Mapping[int, int]) -> tuple[dict[int, int], int]:
    """(household id -> units, units left on the group's own row) for one offer."""
    _check_quantity("allocated", allocated)
    for hid, r in requested.items():
        _check_quantity(f"requested[{hid}]", r)
    total = sum(requested.values())
    if allocated >= total:
        return dict(requested), allocated - total
    ids = sorted(requested)
    shares = largest_remainder(allocated, [requested[h] for h in ids], [(h,) for h in ids])
    return dict(zip(ids, shares)), 0


def split_fee_by_quantity(fee_share: Decimal, household_units: Mapping[int, int], group_units: int) -> tuple[
        dict[int, Decimal], Decimal]:
    """(household id -> fee, the group's own row's fee): pro rata to allocated units, in satang."""
    _check_money("fee_share", fee_share)
    ids = sorted(h for h, units in household_units.items() if units > 0)
    weights = [household_units[h] for h in ids]
    keys: list[tuple[object, ...]] = [(0, h) for h in ids]
    if group_units > 0:
        weights.append(group_units)
        keys.append(_GROUP_ROW_KEY)
    fee = to_satang(fee_share)
    if not weights:
        # Nobody got anything, yet there is a fee: the group's own row carries it, so the sum holds.
        return {h: from_satang(0) for h in household_units}, from_satang(fee)
    parts = largest_remainder(fee, weights, keys)
    fees = {h: from_satang(0) for h in household_units}
    fees.update({h: from_satang(p) for h, p in zip(ids, parts)})
    group_fee = from_satang(parts[-1]) if group_units > 0 else from_satang(0)
    return fees, group_fee


def split_line(allocated: int, unit_price: Decimal | None, reference_price: Decimal, fee_share: Decimal,
               requested: Mapping[int, int]) -> list[HouseholdShare]:
    """The rows of one offer of one group: each household in id order, then the group's own row.

    ``unit_price`` None (the offer was not ordered) counts as nothing to pay for nothing allocated.
    """
    _check_money("unit_price", unit_price)
    _check_money("reference_price", reference_price)
    units, left = split_quantity(allocated, requested)
    fees, group_fee = split_fee_by_quantity(fee_share, units, left)
    price = unit_price if unit_price is not None else Decimal("0.00")

    def row(hid: int | None, asked: int, got: int, fee: Decimal) -> HouseholdShare:
        amount = (got * price + fee).quantize(CENT)
        return HouseholdShare(hid, asked, got, fee, amount, (got * reference_price - amount).quantize(CENT))

    rows = [row(h, requested[h], units[h], fees[h]) for h in sorted(requested)]
    rows.append(row(None, 0, left, group_fee))
    return rows


@dataclass(frozen=True)
class GroupLine:
    """One allocation of the group (one offer) as the invoice has it."""

    offer_id: int
    allocated: int
    unit_price: Decimal | None
    reference_price: Decimal
    fee_share: Decimal


def split_bill(lines: Sequence[GroupLine], requested: Mapping[int, Mapping[int, int]]) -> dict[int, list[HouseholdShare]]:
    """Offer id -> its rows, for every line of the group's invoice. ``requested``: offer -> household -> units.

    Households' requests for an offer the group has no allocation of are not billed (nothing came)."""
    return {ln.offer_id: split_line(ln.allocated, ln.unit_price, ln.reference_price, ln.fee_share,
                                    requested.get(ln.offer_id, {})) for ln in lines}
