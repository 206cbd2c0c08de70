"""The split rule of a group's bill over its households (pricing/households.py): examples and properties."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import from_satang
from pricing.households import GroupLine, split_bill, split_fee_by_quantity, split_line, split_quantity

D = Decimal


def test_enough_for_everyone_and_the_rest_stays_on_the_groups_row() -> None:
    assert split_quantity(12, {3: 4, 1: 5}) == ({3: 4, 1: 5}, 3)


def test_short_floor_then_largest_remainder_ties_to_the_smaller_id() -> None:
    # A=5 over 3 x 3: floors 1,1,1 (remainders 6,6,6 of 9); two units left -> ids 2 and 5 (the smaller).
    assert split_quantity(5, {9: 3, 2: 3, 5: 3}) == ({2: 2, 5: 2, 9: 1}, 0)
    # Remainders decide before ids: A=7 over 1,2,4 (R=7) is exact.
    assert split_quantity(7, {1: 1, 2: 2, 3: 4}) == ({1: 1, 2: 2, 3: 4}, 0)
    # A=4 over 1,2,4: floors 0,1,2; remainders 4,1,2 -> the unit goes to household 1.
    assert split_quantity(4, {1: 1, 2: 2, 3: 4}) == ({1: 1, 2: 1, 3: 2}, 0)


def test_fee_by_allocated_quantity_the_groups_row_last_on_a_tie() -> None:
    # 1.00 baht over 1 + 1 + 1 (group): 33 each, one satang left -> the smallest household id, never the group.
    fees, group = split_fee_by_quantity(D("1.00"), {4: 1, 7: 1}, 1)
    assert fees == {4: D("0.34"), 7: D("0.33")} and group == D("0.33")
    # Two satang, three equal rows: both to the households before the group's own row.
    fees, group = split_fee_by_quantity(D("0.02"), {4: 1, 7: 1}, 1)
    assert fees == {4: D("0.01"), 7: D("0.01")} and group == D("0.00")
    # A household with nothing allocated carries no fee.
    fees, group = split_fee_by_quantity(D("0.50"), {4: 0, 7: 2}, 0)
    assert fees == {4: D("0.00"), 7: D("0.50")} and group == D("0.00")


def test_a_fee_with_nothing_allocated_stays_on_the_groups_row() -> None:
    rows = split_line(0, D("10.00"), D("12.00"), D("3.00"), {1: 2})
    assert [(r.household_id, r.allocated, r.fee_share, r.amount) for r in rows] == [
        (1, 0, D("0.00"), D("0.00")), (None, 0, D("3.00"), D("3.00"))]


def test_worked_row() -> None:
    # Group got 10 of 12 asked at 45.00 (shop 50.00), fee share 12.35.
    rows = split_line(10, D("45.00"), D("50.00"), D("12.35"), {1: 5, 2: 4, 3: 3})
    assert [(r.household_id, r.requested, r.allocated) for r in rows] == [(1, 5, 4), (2, 4, 3), (3, 3, 3), (None, 0, 0)]
    # 1235 satang over 4,3,3: 494, 370.5, 370.5 -> floors 494, 370, 370, one left: tie 2 vs 3 -> 2.
    assert [r.fee_share for r in rows] == [D("4.94"), D("3.71"), D("3.70"), D("0.00")]
    assert rows[0].amount == D("184.94") and rows[0].savings == D("15.06")
    assert sum(r.amount for r in rows) == 10 * D("45.00") + D("12.35")


def test_input_is_checked() -> None:
    with pytest.raises(ValueError):
        split_quantity(-1, {1: 2})
    with pytest.raises(TypeError):
        split_quantity(True, {1: 2})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        split_line(1, D("1.001"), D("1.00"), D("0.00"), {1: 1})


money = st.integers(0, 500_000).map(from_satang)
requests = st.dictionaries(st.integers(1, 60), st.integers(0, 40), max_size=12)


@given(st.integers(0, 400), money, money, money, requests)
def test_rows_add_up_to_the_groups_line_exactly(allocated: int, price: Decimal, reference: Decimal, fee: Decimal,
                                                requested: dict[int, int]) -> None:
    rows = split_line(allocated, price, reference, fee, requested)
    assert [r.household_id for r in rows] == [*sorted(requested), None]
    assert sum(r.allocated for r in rows) == allocated
    assert sum(r.fee_share for r in rows) == fee
    assert sum((r.amount for r in rows), D("0.00")) == allocated * price + fee
    assert sum((r.savings for r in rows), D("0.00")) == allocated * reference - (allocated * price + fee)
    total = sum(requested.values())
    group_row = rows[-1]
    for r in rows[:-1]:
        assert 0 <= r.allocated <= r.requested  # never more than a household asked
        assert r.requested == requested[r.household_id]  # type: ignore[index]
        exact = Fraction(min(allocated, total) * r.requested, total) if total else Fraction(0)
        assert exact - 1 < r.allocated < exact + 1  # within one unit of the exact share
        if allocated >= total:
            assert r.allocated == r.requested
    assert group_row.allocated == max(allocated - total, 0)
    # The fee goes only to rows with an allocation, and each within a satang of its exact share.
    carrying = [r for r in rows if r.allocated > 0]
    for r in rows:
        if r.allocated == 0 and carrying:
            assert r.fee_share == 0
        if carrying:
            exact_fee = Fraction(fee) * r.allocated / allocated
            assert abs(Fraction(r.fee_share) - exact_fee) < Fraction(1, 100)
    for r in rows:
        assert r.amount == r.allocated * price + r.fee_share
        assert r.savings == r.allocated * reference - r.amount


@given(st.integers(1, 50), st.lists(st.integers(1, 30), min_size=2, max_size=6, unique=True), st.integers(1, 9))
def test_equal_requests_favour_the_smaller_household_id(allocated: int, ids: list[int], each: int) -> None:
    requested = {h: each for h in ids}
    units, _ = split_quantity(min(allocated, each * len(ids)), requested)
    ordered = [units[h] for h in sorted(ids)]
    assert ordered == sorted(ordered, reverse=True)  # more never goes to a larger id on a tie
    assert max(ordered) - min(ordered) <= 1


@given(st.integers(0, 100), requests)
def test_result_does_not_depend_on_the_order_households_come_in(allocated: int, requested: dict[int, int]) -> None:
    backwards = dict(reversed(list(requested.items())))
    assert split_quantity(allocated, requested) == split_quantity(allocated, backwards)


@given(st.lists(st.tuples(st.integers(0, 200), money, money, money), min_size=1, max_size=5), requests)
def test_a_whole_bill_adds_up_to_the_invoice(lines: list[tuple[int, Decimal, Decimal, Decimal]],
                                             requested: dict[int, int]) -> None:
    group_lines = [GroupLine(i + 1, a, p, r, f) for i, (a, p, r, f) in enumerate(lines)]
    bill = split_bill(group_lines, {ln.offer_id: requested for ln in group_lines})
    invoice_total = sum((ln.allocated * (ln.unit_price or 0) + ln.fee_share for ln in group_lines), D("0.00"))
    rows_total = sum((r.amount for rows in bill.values() for r in rows), D("0.00"))
    assert rows_total == invoice_total
