"""Properties of the pricing rules that must hold for every input, not just worked examples."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pricing import (
    Line,
    allocate,
    from_satang,
    largest_remainder,
    reallocate_shortage,
    round_to_packs,
    split_fee,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)

# Few distinct times so that placed_at ties (and the id tie-break) actually occur.
placed = st.integers(0, 3).map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def line_sets(draw: st.DrawFn) -> list[Line]:
    n = draw(st.integers(1, 8))
    ids = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n, unique=True))
    return [Line(i, draw(st.integers(1, 40)), draw(st.integers(0, 15)), draw(placed)) for i in ids]


offers = st.tuples(line_sets(), st.integers(1, 25), st.integers(0, 120))


@given(offers)
def test_allocation_invariants(offer: tuple[list[Line], int, int]) -> None:
    lines, pack_size, min_quantity = offer
    total = sum(ln.quantity for ln in lines)
    pack = round_to_packs(total, sum(ln.tolerance for ln in lines), pack_size, min_quantity)
    alloc = allocate(lines, pack.ordered_quantity)
    assert set(alloc) == {ln.id for ln in lines}
    assert sum(alloc.values()) == pack.ordered_quantity
    assert pack.ordered_quantity % pack_size == 0
    if pack.is_ordered:
        assert pack.ordered_quantity >= min_quantity
        # Rounding moves at most to the neighbouring pack boundary.
        assert abs(pack.ordered_quantity - total) < pack_size
    for ln in lines:
        a = alloc[ln.id]
        assert 0 <= a <= ln.quantity + ln.tolerance
        if pack.ordered_quantity <= total:
            assert a <= ln.quantity
        else:
            assert a >= ln.quantity


@given(offers, st.randoms(use_true_random=False))
def test_allocation_independent_of_line_order(offer: tuple[list[Line], int, int], rnd: random.Random) -> None:
    lines, pack_size, min_quantity = offer
    pack = round_to_packs(
        sum(ln.quantity for ln in lines), sum(ln.tolerance for ln in lines), pack_size, min_quantity
    )
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert allocate(shuffled, pack.ordered_quantity) == allocate(lines, pack.ordered_quantity)


@given(line_sets(), st.data())
def test_allocate_any_feasible_quantity(lines: list[Line], data: st.DataObject) -> None:
    # Not only pack multiples: the rule must hold for every O up to quantities + tolerances.
    total = sum(ln.quantity for ln in lines)
    o = data.draw(st.integers(0, total + sum(ln.tolerance for ln in lines)))
    alloc = allocate(lines, o)
    assert sum(alloc.values()) == o
    for ln in lines:
        assert (alloc[ln.id] <= ln.quantity) if o <= total else (alloc[ln.id] >= ln.quantity)
        assert alloc[ln.id] <= ln.quantity + ln.tolerance


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=12), st.data())
def test_largest_remainder_within_one_of_exact(weights: list[int], data: st.DataObject) -> None:
    w_sum = sum(weights)
    total = data.draw(st.integers(0, 100_000)) if w_sum else 0
    shares = largest_remainder(total, weights, [(i,) for i in range(len(weights))])
    assert sum(shares) == total
    for s, w in zip(shares, weights):
        exact = Fraction(total * w, w_sum) if w_sum else Fraction(0)
        assert abs(s - exact) < 1
        assert s >= 0


@given(
    st.integers(0, 100_000),
    st.lists(st.integers(0, 1_000_000), max_size=10),
)
def test_fee_shares_add_up_exactly(fee_satang: int, value_satang: list[int]) -> None:
    fee = from_satang(fee_satang)
    values = [from_satang(v) for v in value_satang]
    keys = [(i,) for i in range(len(values))]
    if not values and fee_satang > 0:
        return  # refused, covered by the example tests
    shares = split_fee(fee, values, keys)
    assert len(shares) == len(values)
    assert sum(shares, Decimal(0)) == fee
    assert all(s >= 0 and s == s.quantize(Decimal("0.01")) for s in shares)
    if sum(value_satang) > 0:
        # Lines worth nothing pay nothing when others carry value.
        assert all(s == 0 for s, v in zip(shares, value_satang) if v == 0)


@given(line_sets(), st.data())
def test_reallocate_shortage_invariants(lines: list[Line], data: st.DataObject) -> None:
    allocated = {ln.id: ln.quantity for ln in lines}
    keys = {ln.id: (ln.placed_at, ln.id) for ln in lines}
    received = data.draw(st.integers(0, sum(allocated.values()) + 10))
    new = reallocate_shortage(allocated, keys, received)
    assert set(new) == set(allocated)
    assert sum(new.values()) == min(received, sum(allocated.values()))
    assert all(0 <= new[i] <= allocated[i] for i in allocated)
    # Same rule, any order of the mapping.
    reversed_alloc = dict(reversed(list(allocated.items())))
    assert reallocate_shortage(reversed_alloc, keys, received) == new
