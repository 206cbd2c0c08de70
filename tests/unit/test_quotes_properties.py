"""The solved best award equals brute force over every award, ties included, on small random requests."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.award_solver import solve_best_award
from pricing.money import to_satang
from pricing.quotes import Priced, QuoteLine, SupplierQuote, awardable, best_single_supplier, price_request
from pricing.tiers import Tier

# Few distinct prices and fees, so that equal totals (and the tie rules) come up often.
prices = st.sampled_from([Decimal("1.00"), Decimal("2.00"), Decimal("3.00"), Decimal("4.50")])
fees = st.sampled_from([Decimal("0.00"), Decimal("1.00"), Decimal("2.00"), Decimal("6.00")])


@st.composite
def quote_lines(draw: st.DrawFn) -> QuoteLine:
    n = draw(st.integers(1, 3))
    mins = [0] + sorted(draw(st.lists(st.integers(1, 12), min_size=n - 1, max_size=n - 1, unique=True)))
    ps = sorted((draw(prices) for _ in range(n)), reverse=True)
    return QuoteLine(draw(st.integers(1, 4)), draw(st.sampled_from([0, 0, 5, 10])), tuple(map(Tier, mins, ps)))


@st.composite
def requests(draw: st.DrawFn) -> tuple[dict[int, int], list[SupplierQuote]]:
    products = draw(st.lists(st.integers(1, 50), min_size=1, max_size=4, unique=True))
    quantities = {p: draw(st.integers(1, 10)) for p in products}
    suppliers = draw(st.lists(st.integers(1, 50), min_size=1, max_size=4, unique=True))
    quotes = []
    for s in suppliers:
        quoted = draw(st.lists(st.sampled_from(products), unique=True))
        quotes.append(SupplierQuote(s, draw(fees), {p: draw(quote_lines()) for p in quoted}))
    return quantities, quotes


def brute_force(priced: Priced) -> tuple[tuple[int, int, tuple[int, ...]], dict[int, int]]:
    products = awardable(priced)
    best: tuple[tuple[int, int, tuple[int, ...]], dict[int, int]] | None = None
    for suppliers in itertools.product(*(sorted(priced.eligible(p)) for p in products)):
        used = set(suppliers)
        total = sum(priced.amount_satang(p, s) for p, s in zip(products, suppliers)) + sum(priced.fees[s] for s in used)
        key = (total, len(used), tuple(suppliers))
        if best is None or key < best[0]:
            best = (key, dict(zip(products, suppliers)))
    assert best is not None
    return best


@settings(max_examples=300, deadline=None)
@given(requests())
def test_solver_agrees_with_brute_force(request: tuple[dict[int, int], list[SupplierQuote]]) -> None:
    quantities, quotes = request
    priced = price_request(quantities, quotes)
    solved = solve_best_award(priced)
    key, choice = brute_force(priced)
    assert solved.status == "OPTIMAL"
    assert solved.award.choice() == choice
    assert to_satang(solved.award.total) == key[0]
    assert set(solved.award.not_awarded) == set(quantities) - set(choice)


@settings(max_examples=200, deadline=None)
@given(requests())
def test_best_award_never_costs_more_than_the_other_two(request: tuple[dict[int, int], list[SupplierQuote]]) -> None:
    from pricing.quotes import cheapest_per_product

    priced = price_request(*request)
    best = solve_best_award(priced).award
    assert best.total <= cheapest_per_product(priced).total
    single = best_single_supplier(priced)
    if single is not None:
        assert best.total <= single.total
        # A single supplier quoting everything eligibly means every product is awardable.
        assert best.not_awarded == ()
