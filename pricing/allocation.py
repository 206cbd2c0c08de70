"""Pack rounding and largest-remainder allocation of an offer's ordered quantity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Line:
    """One group order line for one offer."""

    id: int
    quantity: int
    tolerance: int
    placed_at: datetime

    @property
    def key(self) -> tuple[object, ...]:
        # Earlier first save wins ties, then the lower id: stable across edits and input order.
        return (self.placed_at, self.id)


def _check_int(name: str, value: int, minimum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def largest_remainder(total: int, weights: Sequence[int], keys: Sequence[tuple[object, ...]]) -> list[int]:
    """Split `total` whole units pro rata to integer weights (Hamilton's method).

    Each share is floor(total*w/W); the units left over go one each to the
    largest remainders (total*w) mod W, ties to the smaller key.
    """
    _check_int("total", total, 0)
    if len(weights) != len(keys):
        raise ValueError("weights and keys must have the same length")
    for i, w in enumerate(weights):
        _check_int(f"weights[{i}]", w, 0)
    w_sum = sum(weights)
    if w_sum == 0:
        if total != 0:
            raise ValueError(f"cannot share {total} units over zero weight")
        return [0] * len(weights)
    shares = [total * w // w_sum for w in weights]
    remainders = [total * w % w_sum for w in weights]
    left = total - sum(shares)
    # left < number of positive remainders, so a zero remainder never gets a unit.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], keys[i]))
    for i in order[:left]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class PackResult:
    total: int
    tolerance: int
    packs: int
    ordered_quantity: int
    is_ordered: bool


def round_to_packs(total: int, tolerance: int, pack_size: int, min_quantity: int) -> PackResult:
    _check_int("total", total, 0)
    _check_int("tolerance", tolerance, 0)
    _check_int("pack_size", pack_size, 1)
    _check_int("min_quantity", min_quantity, 0)
    packs, r = divmod(total, pack_size)
    # r > 0 guarantees real demand in the extra pack: tolerance alone never buys one.
    if r > 0 and tolerance >= pack_size - r:
        packs += 1
    ordered = packs * pack_size
    if ordered == 0 or ordered < min_quantity:
        return PackResult(total, tolerance, 0, 0, False)
    return PackResult(total, tolerance, packs, ordered, True)


def _check_lines(lines: Sequence[Line]) -> None:
    seen: set[int] = set()
    for line in lines:
        _check_int("id", line.id)
        _check_int(f"line {line.id} quantity", line.quantity, 1)
        _check_int(f"line {line.id} tolerance", line.tolerance, 0)
        if line.id in seen:
            raise ValueError(f"duplicate line id {line.id}")
        seen.add(line.id)


def allocate(lines: Sequence[Line], ordered_quantity: int) -> dict[int, int]:
    """Line id -> allocated units of the ordered quantity."""
    _check_lines(lines)
    _check_int("ordered_quantity", ordered_quantity, 0)
    # Sorting first makes the result independent of the order lines arrive in.
    ordered_lines = sorted(lines, key=lambda ln: ln.key)
    keys = [ln.key for ln in ordered_lines]
    quantities = [ln.quantity for ln in ordered_lines]
    total = sum(quantities)
    if ordered_quantity <= total:
        # Hamilton shares of O < total are always < q_i, so no cap is ever needed.
        shares = largest_remainder(ordered_quantity, quantities, keys)
    else:
        tolerances = [ln.tolerance for ln in ordered_lines]
        extra = ordered_quantity - total
        if extra > sum(tolerances):
            raise ValueError(
                f"ordered quantity {ordered_quantity} exceeds quantities plus tolerances "
                f"{total + sum(tolerances)}"
            )
        # extra <= Σt keeps every extra share <= t_i.
        extras = largest_remainder(extra, tolerances, keys)
        shares = [q + e for q, e in zip(quantities, extras)]
    return {ln.id: s for ln, s in sorted(zip(ordered_lines, shares), key=lambda p: p[0].id)}


def reallocate_shortage(
    allocated: Mapping[int, int], keys: Mapping[int, tuple[object, ...]], received: int
) -> dict[int, int]:
    """Share a short delivery over the allocations by the same largest-remainder rule."""
    _check_int("received", received, 0)
    ids = list(allocated)
    missing = [i for i in ids if i not in keys]
    if missing:
        raise ValueError(f"no key for line ids {missing}")
    for i in ids:
        _check_int(f"allocated[{i}]", allocated[i], 0)
    if received >= sum(allocated.values()):
        # Surplus deliveries are not handed out: nobody ordered them.
        return dict(allocated)
    ids.sort(key=lambda i: keys[i])
    shares = largest_remainder(received, [allocated[i] for i in ids], [keys[i] for i in ids])
    result = dict(zip(ids, shares))
    return {i: result[i] for i in allocated}
