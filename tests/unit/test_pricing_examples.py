"""Worked examples of the pricing rules (docs/pricing.md), each figure computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pricing import (
    Line,
    OfferTerms,
    Tier,
    allocate,
    alone_price,
    best_price,
    combine_offer,
    from_satang,
    largest_remainder,
    line_amount,
    line_savings,
    list_price,
    money,
    network_fee,
    pooling_gain,
    price_reduction,
    ratio,
    reallocate_shortage,
    round_to_packs,
    split_fee,
    tier_attainment,
    tier_for,
    to_satang,
    validate_tiers,
    weighted,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


D = Decimal
TIERS = (Tier(0, D("50.00")), Tier(100, D("45.00")), Tier(500, D("42.00")))


# --- money ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (D("1.005"), D("1.01")),  # half up, not banker's rounding (which would give 1.00)
        (D("1.004"), D("1.00")),
        ("-1.005", D("-1.01")),  # half up means away from zero for negatives too
        (7, D("7.00")),
    ],
)
def test_money_rounds_half_up(given: Decimal | int | str, expected: Decimal) -> None:
    assert money(given) == expected
    assert money(given).as_tuple().exponent == -2


def test_money_refuses_float() -> None:
    # A float has already lost the satang before we see it.
    with pytest.raises(TypeError):
        money(0.1)  # type: ignore[arg-type]


def test_satang_round_trip() -> None:
    assert to_satang(D("1250.50")) == 125050
    assert from_satang(125050) == D("1250.50")
    assert str(from_satang(5)) == "0.05"


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (D("1"), D("8"), D("0.1250")),
        (D("1"), D("3"), D("0.3333")),
        (D("2"), D("3"), D("0.6667")),
        (D("1"), D("20000"), D("0.0001")),  # 0.00005 exactly: the half goes up
        (D("1"), D("0"), None),  # no baseline, no ratio
    ],
)
def test_ratio(num: Decimal, den: Decimal, expected: Decimal | None) -> None:
    assert ratio(num, den) == expected


# --- pack rounding -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "tolerance", "pack_size", "min_quantity", "packs", "ordered", "is_ordered"),
    [
        # 23 = 2 packs + 3; tolerance 7 is exactly the 10 - 3 missing, so a 3rd pack is bought.
        (23, 7, 10, 0, 3, 30, True),
        # Tolerance 6 is one short of the 7 missing: the 3 odd units are dropped.
        (23, 6, 10, 0, 2, 20, True),
        # Already a whole number of packs: tolerance is never used to add a pack.
        (30, 9, 10, 0, 3, 30, True),
        # Nothing ordered: however much tolerance, it never fills a pack by itself.
        (0, 50, 10, 0, 0, 0, False),
        # 5 of a 10-pack with no tolerance rounds down to nothing, so nothing is ordered.
        (5, 0, 10, 0, 0, 0, False),
        # Tolerance fills the 3rd pack, but 30 < minimum 40: not ordered, packs reported as 0.
        (23, 7, 10, 40, 0, 0, False),
        # Exactly the minimum counts as met.
        (40, 0, 10, 40, 4, 40, True),
        # Pack size 1: every unit is its own pack, tolerance irrelevant.
        (7, 3, 1, 0, 7, 7, True),
    ],
)
def test_round_to_packs(
    total: int,
    tolerance: int,
    pack_size: int,
    min_quantity: int,
    packs: int,
    ordered: int,
    is_ordered: bool,
) -> None:
    r = round_to_packs(total, tolerance, pack_size, min_quantity)
    assert (r.total, r.tolerance) == (total, tolerance)
    assert (r.packs, r.ordered_quantity, r.is_ordered) == (packs, ordered, is_ordered)


@pytest.mark.parametrize("args", [(-1, 0, 10, 0), (1, -1, 10, 0), (1, 0, 0, 0), (1, 0, 10, -1)])
def test_round_to_packs_refuses_invalid(args: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        round_to_packs(*args)


# --- largest remainder and allocation -----------------------------------------------


def test_largest_remainder_basic() -> None:
    # 10 over 7:5:3 (W 15): floors 4, 3, 2 (sum 9), remainders 70%15=10, 50%15=5, 30%15=0.
    # The one unit left goes to the largest remainder, the first.
    assert largest_remainder(10, [7, 5, 3], [(1,), (2,), (3,)]) == [5, 3, 2]


def test_largest_remainder_zero_weight() -> None:
    assert largest_remainder(0, [0, 0], [(1,), (2,)]) == [0, 0]
    with pytest.raises(ValueError):
        largest_remainder(1, [0, 0], [(1,), (2,)])


def test_shortfall_with_remainders() -> None:
    # 15 ordered, packs of 10, no tolerance: O = 10. Shares as in the 7:5:3 example.
    lines = [Line(1, 7, 0, at(0)), Line(2, 5, 0, at(1)), Line(3, 3, 0, at(2))]
    assert allocate(lines, 10) == {1: 5, 2: 3, 3: 2}


def test_shortfall_tie_goes_to_earlier_placed_line() -> None:
    # 5+5+5 = 15, O = 10: each gets floor(50/15) = 3 with remainder 5; one unit left.
    # Line 3 has the highest id but was saved first, so it wins the tie.
    lines = [Line(1, 5, 0, at(10)), Line(2, 5, 0, at(5)), Line(3, 5, 0, at(0))]
    assert allocate(lines, 10) == {1: 3, 2: 3, 3: 4}


def test_shortfall_tie_same_time_goes_to_lower_id() -> None:
    # Same shares and remainders as above, all saved at once: the lower id breaks the tie.
    lines = [Line(9, 5, 0, at(0)), Line(4, 5, 0, at(0)), Line(7, 5, 0, at(0))]
    assert allocate(lines, 10) == {4: 4, 7: 3, 9: 3}


def test_surplus_shared_over_tolerances() -> None:
    # 6 + 7 = 13, packs of 10: 7 missing, tolerances 6 + 3 = 9 >= 7, so O = 20, 7 extra.
    # Extra pro rata to tolerance 6:3 (W 9): floors 42//9 = 4, 21//9 = 2 (sum 6),
    # remainders 42%9 = 6 and 21%9 = 3: the last unit goes to line 1.
    lines = [Line(1, 6, 6, at(0)), Line(2, 7, 3, at(1))]
    pack = round_to_packs(13, 9, 10, 0)
    assert pack.ordered_quantity == 20
    assert allocate(lines, 20) == {1: 11, 2: 9}


def test_surplus_never_touches_lines_without_tolerance() -> None:
    # 8 + 1 = 9, packs of 10: the single missing unit can only come from line 2's tolerance.
    lines = [Line(1, 8, 0, at(0)), Line(2, 1, 5, at(1))]
    assert allocate(lines, 10) == {1: 8, 2: 2}


def test_exact_and_zero_allocation() -> None:
    lines = [Line(1, 4, 2, at(0)), Line(2, 6, 0, at(1))]
    assert allocate(lines, 10) == {1: 4, 2: 6}
    # Not ordered: everyone gets 0.
    assert allocate(lines, 0) == {1: 0, 2: 0}


def test_allocate_refuses_more_than_quantity_plus_tolerance() -> None:
    with pytest.raises(ValueError):
        allocate([Line(1, 4, 2, at(0))], 7)


@pytest.mark.parametrize(
    "lines",
    [
        [Line(1, 0, 0, at(0))],  # quantity must be >= 1
        [Line(1, 1, -1, at(0))],  # tolerance must be >= 0
        [Line(1, 1, 0, at(0)), Line(1, 2, 0, at(1))],  # ids identify lines
    ],
)
def test_allocate_refuses_invalid_lines(lines: list[Line]) -> None:
    with pytest.raises(ValueError):
        allocate(lines, 0)


def test_reallocate_shortage() -> None:
    # 10 allocated (5, 3, 2), only 7 delivered: floors 35//10 = 3, 21//10 = 2, 14//10 = 1 (sum 6),
    # remainders 5, 1, 4: the last unit goes to line 1.
    allocated = {1: 5, 2: 3, 3: 2}
    keys = {1: (at(0), 1), 2: (at(1), 2), 3: (at(2), 3)}
    assert reallocate_shortage(allocated, keys, 7) == {1: 4, 2: 2, 3: 1}
    # Full or over-delivery changes nothing: nobody gets more than allocated.
    assert reallocate_shortage(allocated, keys, 10) == allocated
    assert reallocate_shortage(allocated, keys, 12) == allocated
    assert reallocate_shortage(allocated, keys, 0) == {1: 0, 2: 0, 3: 0}


# --- tiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price"),
    [
        (0, D("50.00")),
        (99, D("50.00")),  # one short of the 100 tier
        (100, D("45.00")),  # exactly on the boundary reaches the tier
        (499, D("45.00")),
        (500, D("42.00")),
        (10_000, D("42.00")),
    ],
)
def test_tier_for_boundaries(quantity: int, price: Decimal) -> None:
    assert tier_for(TIERS, quantity).unit_price == price
    # Callers may hand tiers in any order.
    assert tier_for(tuple(reversed(TIERS)), quantity).unit_price == price


def test_list_and_best_price() -> None:
    assert list_price(TIERS) == D("50.00")
    assert best_price(TIERS) == D("42.00")
    assert list_price(tuple(reversed(TIERS))) == D("50.00")


def test_valid_tiers() -> None:
    assert validate_tiers(TIERS) == []
    assert validate_tiers([Tier(0, D("10"))]) == []
    # Equal prices across tiers are allowed: "never increase".
    assert validate_tiers([Tier(0, D("10.00")), Tier(5, D("10.00"))]) == []


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ([], "tiers"),
        ([Tier(1, D("10.00"))], "tiers[0].min_quantity"),  # list price must start at 0
        ([Tier(0, D("10.00")), Tier(0, D("9.00"))], "tiers[1].min_quantity"),  # not strictly up
        ([Tier(0, D("10.00")), Tier(20, D("9.00")), Tier(10, D("8.00"))], "tiers[2].min_quantity"),
        ([Tier(0, D("10.00")), Tier(10, D("10.01"))], "tiers[1].unit_price"),  # price rises
        ([Tier(0, D("-1.00"))], "tiers[0].unit_price"),  # negative
        ([Tier(0, D("1.005"))], "tiers[0].unit_price"),  # sub-satang
        ([Tier(0, 1.5)], "tiers[0].unit_price"),  # type: ignore[arg-type]  # float, not Decimal
    ],
)
def test_invalid_tiers(tiers: list[Tier], field: str) -> None:
    problems = validate_tiers(tiers)
    assert problems
    assert any(p.startswith(field + ":") for p in problems)


# --- fees ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "percent", "fee"),
    [
        (D("0.50"), D("1"), D("0.01")),  # 0.005 exactly: half up to 1 satang
        (D("0.49"), D("1"), D("0.00")),  # 0.0049 rounds down
        (D("1250.50"), D("2.5"), D("31.26")),  # 31.2625
        (D("1000.00"), D("0"), D("0.00")),
    ],
)
def test_network_fee(value: Decimal, percent: Decimal, fee: Decimal) -> None:
    assert network_fee(value, percent) == fee


def test_split_fee_tie_and_exact_sum() -> None:
    # 100 satang over three equal values: 33 each, remainder 1 each; the one left over
    # goes to the earliest line.
    keys = [(at(2), 1), (at(0), 2), (at(1), 3)]
    shares = split_fee(D("1.00"), [D("10.00")] * 3, keys)
    assert shares == [D("0.33"), D("0.34"), D("0.33")]
    assert sum(shares) == D("1.00")


def test_split_fee_pro_rata() -> None:
    # 1000 satang over 10000:5000:0 satang: floors 666, 333, 0 (sum 999), remainders
    # 10000, 5000, 0: the last satang goes to the largest line. The zero line pays nothing.
    keys = [(at(0), 1), (at(1), 2), (at(2), 3)]
    shares = split_fee(D("10.00"), [D("100.00"), D("50.00"), D("0.00")], keys)
    assert shares == [D("6.67"), D("3.33"), D("0.00")]


def test_split_fee_all_zero_values_splits_equally() -> None:
    # Nothing to weigh by, but the fee must still be paid: 5 satang over 2 lines, 3 + 2.
    keys = [(at(1), 1), (at(0), 2)]
    assert split_fee(D("0.05"), [D("0"), D("0")], keys) == [D("0.02"), D("0.03")]


def test_split_fee_edges() -> None:
    assert split_fee(D("0.00"), [], []) == []
    assert split_fee(D("0.00"), [D("5.00")], [(1,)]) == [D("0.00")]
    with pytest.raises(ValueError):
        split_fee(D("1.00"), [], [])


# --- savings -------------------------------------------------------------------------


def test_line_amount_and_savings() -> None:
    # 10 units at 45.00 plus a fee share of 12.34.
    assert line_amount(10, D("45.00"), D("12.34")) == D("462.34")
    # 10 x (55 - 45) = 100.00, less the 12.34 fee share.
    assert line_savings(10, D("55.00"), D("45.00"), D("12.34")) == D("87.66")
    # No discount, but a fee: the line lost money, and it is shown as such.
    assert line_savings(1, D("45.00"), D("45.00"), D("0.50")) == D("-0.50")


# --- bargaining power ----------------------------------------------------------------


def test_price_reduction() -> None:
    r = price_reduction(D("900.00"), D("1000.00"))
    assert (r.actual, r.baseline, r.value) == (D("900.00"), D("1000.00"), D("0.1000"))
    assert price_reduction(D("0"), D("0")).value is None
    # 1 - 2469/20000 = 0.87655 exactly, which rounds half up to 0.8766 (rounding the
    # quotient first would give 1 - 0.1235 = 0.8765).
    assert price_reduction(D("24.69"), D("200.00")).value == D("0.8766")


@pytest.mark.parametrize(
    ("achieved", "value"),
    [
        (D("50.00"), D("0")),  # stayed at list price
        (D("45.00"), D("0.625")),  # (50-45)/(50-42) = 5/8
        (D("42.00"), D("1")),  # reached the best tier
    ],
)
def test_tier_attainment(achieved: Decimal, value: Decimal) -> None:
    t = tier_attainment(TIERS, achieved)
    assert (t.list_price, t.achieved, t.best_price, t.value) == (D("50.00"), achieved, D("42.00"), value)


def test_tier_attainment_single_tier_is_full() -> None:
    # With one tier there is no discount to win, so none was missed.
    t = tier_attainment([Tier(0, D("30.00"))], D("30.00"))
    assert t.value == D("1")
    assert (t.list_price, t.best_price) == (D("30.00"), D("30.00"))


def test_tier_attainment_flat_tiers_is_full() -> None:
    # Several tiers but list == best: dividing by zero would make no sense.
    assert tier_attainment([Tier(0, D("9.00")), Tier(5, D("9.00"))], D("9.00")).value == D("1")


def test_pooling_gain() -> None:
    # A group wanting 30 alone only reaches the list tier (50.00); pooled, the offer
    # reached 42.00, so pooling won 30 x 8.00.
    alone = alone_price(TIERS, 30)
    assert alone == D("50.00")
    assert pooling_gain(30, alone, D("42.00")) == D("240.00")
    # A group big enough to reach the pooled tier alone gained nothing from pooling.
    assert pooling_gain(600, alone_price(TIERS, 600), D("42.00")) == D("0.00")


def test_weighted() -> None:
    # (0.5 x 100 + 1 x 300) / 400 = 0.875
    assert weighted([(D("0.5"), D("100")), (D("1"), D("300"))]) == D("0.8750")
    assert weighted([]) is None
    assert weighted([(D("0.5"), D("0"))]) is None


# --- one offer -----------------------------------------------------------------------


def test_combine_offer_reaches_tier_with_tolerance() -> None:
    # 48 + 45 = 93 of 10-packs; 3 short, tolerance 5 fills the 10th pack: 100 reaches 45.00.
    # Extra 7 go to the only tolerant line.
    terms = OfferTerms(10, 50, D("55.00"), D("120.00"), TIERS)
    lines = [Line(1, 48, 0, at(0)), Line(2, 45, 8, at(1))]
    r = combine_offer(terms, lines)
    assert (r.pack.packs, r.pack.ordered_quantity, r.pack.is_ordered) == (10, 100, True)
    assert (r.unit_price, r.tier_min_quantity) == (D("45.00"), 100)
    assert r.allocations == {1: 48, 2: 52}


def test_combine_offer_below_minimum() -> None:
    terms = OfferTerms(10, 50, D("55.00"), D("0.00"), TIERS)
    r = combine_offer(terms, [Line(1, 30, 0, at(0))])
    assert not r.pack.is_ordered
    assert (r.unit_price, r.tier_min_quantity) == (None, None)
    assert r.allocations == {1: 0}


def test_combine_offer_refuses_invalid_terms() -> None:
    bad = OfferTerms(10, 0, D("55.00"), D("0.00"), (Tier(5, D("1.00")),))
    with pytest.raises(ValueError, match="tiers"):
        combine_offer(bad, [Line(1, 30, 0, at(0))])
