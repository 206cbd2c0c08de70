"""The rules moved into pricing/: tier problems (structured), the marketplace formulas, tier attainment,
the registered-poor share of a group's savings, and where the pooled quantity stands on the tiers."""
from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import (
    Tier,
    attainment_fraction,
    buyer_saving,
    income_gain,
    registered_poor_share,
    tier_attainment,
    tier_for,
    tier_problems,
    tier_progress,
    weighted,
)

prices = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n).scaleb(-2))


@pytest.mark.parametrize(("tiers", "first"), [
    ([], (None, "", "required")),
    ([Tier(5, D("10.00"))], (0, "min_quantity", "first_not_zero")),
    ([Tier(0, D("10.00")), Tier(0, D("9.00"))], (1, "min_quantity", "not_increasing")),
    ([Tier(0, D("10.00")), Tier(10, D("10.01"))], (1, "unit_price", "price_rises")),
    ([Tier(0, D("1.005"))], (0, "unit_price", "not_money")),
])
def test_the_first_problem_names_tier_field_and_rule(tiers: list[Tier], first: tuple[object, str, str]) -> None:
    problems = tier_problems(tiers)
    assert (problems[0].index, problems[0].field, problems[0].code) == first


def test_valid_tiers_have_no_problem() -> None:
    assert tier_problems([Tier(0, D("10.00")), Tier(5, D("10.00")), Tier(9, D("8.50"))]) == []


@given(st.integers(min_value=0, max_value=100_000), prices, st.one_of(st.none(), prices))
def test_income_gain_and_buyer_saving_are_exact(quantity: int, price: D, other: D | None) -> None:
    gain, saving = income_gain(quantity, price, other), buyer_saving(quantity, price, other)
    if other is None:
        assert gain == saving == D("0.00")
    else:
        assert gain == quantity * (price - other) and gain.as_tuple().exponent == -2
        assert saving == quantity * (other - price) == -gain


def test_marketplace_formulas_refuse_floats() -> None:
    with pytest.raises(TypeError):
        income_gain(1, 1.5, D("1.00"))  # type: ignore[arg-type]


def test_attainment_fraction_is_exact_and_full_without_a_discount() -> None:
    assert attainment_fraction(D("28.00"), D("25.00"), D("26.00"), 3) == Fraction(2, 3)
    assert attainment_fraction(D("850.00"), D("850.00"), D("850.00"), 1) == 1
    assert attainment_fraction(D("10.00"), D("10.00"), D("10.00"), 2) == 1  # all tiers at one price


@given(st.lists(prices, min_size=1, max_size=6, unique=True), st.data())
def test_tier_attainment_is_the_rounded_fraction(raw: list[D], data: st.DataObject) -> None:
    ladder = sorted(raw, reverse=True)
    tiers = [Tier(i * 10, p) for i, p in enumerate(ladder)]
    achieved = data.draw(st.sampled_from(ladder))
    value = tier_attainment(tiers, achieved).value
    assert value == weighted([(attainment_fraction(ladder[0], ladder[-1], achieved, len(tiers)), D(1))])
    assert D(0) <= value <= D(1)


def test_weighting_rounds_once() -> None:
    # Exact fractions in, one rounding at the end: (2/3 * 1 + 1 * 2) / 3 = 8/9 = 0.8888.. -> 0.8889.
    assert weighted([(Fraction(1, 3), D(1))] * 3) == D("0.3333")
    assert weighted([(Fraction(1, 3), D(1)), (Fraction(1, 3), D(1)), (Fraction(1, 3), D(1)), (Fraction(1), D(0))]) \
        == D("0.3333")
    assert weighted([(Fraction(2, 3), D(1)), (Fraction(1), D(2))]) == D("0.8889")
    assert weighted([]) is None


def test_registered_poor_share_is_savings_times_poor_over_members_rounded_once() -> None:
    # 1,000.00 baht saved by a group of 30 with 7 registered-poor households: 233.333… -> 233.33.
    assert registered_poor_share(D("1000.00"), 30, 7) == D("233.33")
    # Half a satang rounds up (0.05 x 1 / 10 = 0.005), and a loss is shared as a loss.
    assert registered_poor_share(D("0.05"), 10, 1) == D("0.01")
    assert registered_poor_share(D("-10.00"), 3, 1) == D("-3.33")
    assert registered_poor_share(D("500.00"), 0, 0) == D("0.00")  # no members on record: nothing
    assert registered_poor_share(D("500.00"), 20, 20) == D("500.00")


@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=0, max_size=5, unique=True),
       st.integers(min_value=0, max_value=10_000))
def test_tier_progress_reaches_the_tier_for_and_names_the_next(steps: list[int], so_far: int) -> None:
    tiers = [Tier(q, D(100 - i).scaleb(-1)) for i, q in enumerate(sorted({0, *steps}))]
    progress = tier_progress(list(reversed(tiers)), so_far)  # in any order
    assert progress.reached == tier_for(tiers, so_far)
    above = [t for t in tiers if t.min_quantity > so_far]
    assert progress.next == (above[0] if above else None)
    assert progress.more == (above[0].min_quantity - so_far if above else 0)
    assert progress.more >= 0 and (progress.next is None) == (progress.more == 0)


def test_tier_progress_without_tiers_and_before_the_first() -> None:
    assert (tier_progress([], 5).reached, tier_progress([], 5).next, tier_progress([], 5).more) == (None, None, 0)
    # Not a valid offer (the first tier starts at 0), but the page still shows the list price and the gap.
    progress = tier_progress([Tier(10, D("9.00")), Tier(20, D("8.00"))], 4)
    assert (progress.reached, progress.next, progress.more) == (Tier(10, D("9.00")), Tier(10, D("9.00")), 6)
