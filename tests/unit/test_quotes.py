"""Requests for quotation: the quote-line rules and the three awards, on worked examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing.award_solver import solve_best_award
from pricing.quotes import (
    QuoteLine,
    SupplierQuote,
    award_of,
    best_award,
    best_single_supplier,
    bought_quantity,
    cheapest_per_product,
    price_line,
    price_request,
    validate_quote,
)
from pricing.tiers import Tier

D = Decimal


def line(pack: int, minimum: int, *tiers: tuple[int, str]) -> QuoteLine:
    return QuoteLine(pack, minimum, tuple(Tier(m, D(p)) for m, p in tiers))


def test_bought_quantity_is_the_smallest_whole_number_of_packs() -> None:
    assert bought_quantity(100, 25) == 100
    assert bought_quantity(101, 25) == 125
    assert bought_quantity(1, 50) == 50
    assert bought_quantity(7, 1) == 7
    with pytest.raises(ValueError):
        bought_quantity(10, 0)


def test_unit_price_is_the_tier_that_the_bought_quantity_reaches() -> None:
    terms = line(25, 0, (0, "20.00"), (100, "18.50"), (200, "17.00"))
    # 90 -> 100 bought: reaches the 100 tier only because of pack rounding.
    got = price_line(1, 7, 90, terms)
    assert (got.bought_quantity, got.unit_price, got.amount, got.eligible) == (100, D("18.50"), D("1850.00"), True)
    got = price_line(1, 7, 60, terms)
    assert (got.bought_quantity, got.unit_price, got.amount) == (75, D("20.00"), D("1500.00"))


def test_a_line_whose_minimum_is_not_reached_is_not_eligible() -> None:
    terms = line(10, 120, (0, "5.00"))
    assert not price_line(1, 1, 105, terms).eligible  # 110 bought < 120
    assert price_line(1, 1, 111, terms).eligible  # 120 bought


def test_validate_quote_names_the_field() -> None:
    problems = validate_quote(D("-1"), {3: line(0, -1, (5, "2.00"))})
    assert "delivery_fee: must be >= 0 with at most two decimal places" in problems
    assert any(p.startswith("lines[3].pack_size") for p in problems)
    assert any(p.startswith("lines[3].min_quantity") for p in problems)
    assert any(p.startswith("lines[3].tiers[0].min_quantity") for p in problems)
    assert validate_quote(D("0.10"), {3: line(1, 0, (0, "2.00"))}) == []


def three_suppliers() -> list[SupplierQuote]:
    # Products 1 (rice, 100 kg) and 2 (oil, 40 bottles).
    return [
        SupplierQuote(10, D("300.00"), {1: line(1, 0, (0, "30.00")), 2: line(1, 0, (0, "50.00"))}),
        SupplierQuote(20, D("100.00"), {1: line(1, 0, (0, "29.00"))}),
        SupplierQuote(30, D("100.00"), {2: line(12, 0, (0, "47.00"), (48, "40.00"))}),
    ]


def test_the_three_awards_of_a_small_request() -> None:
    priced = price_request({1: 100, 2: 40}, three_suppliers())
    # Supplier 30 sells oil in cases of 12: 40 -> 48 bottles, which reaches its 40.00 tier.
    oil = priced.lines[2][30]
    assert (oil.bought_quantity, oil.unit_price, oil.amount) == (48, D("40.00"), D("1920.00"))
    # Single supplier 10: 3000 + 2000 + 300 fee.
    single = best_single_supplier(priced)
    assert single is not None and single.suppliers == (10,) and single.total == D("5300.00")
    # Cheapest per product: 1 -> 20 (2900), 2 -> 30 (1920) + 200 fees.
    cheapest = cheapest_per_product(priced)
    assert cheapest.choice() == {1: 20, 2: 30} and cheapest.total == D("5020.00")
    # Every other award costs more: {10, 30} 5320, {10, 20} 5300, {10} 5300.
    best = best_award(priced)
    assert best.choice() == {1: 20, 2: 30}
    assert (best.amounts, best.delivery_fees, best.total) == (D("4820.00"), D("200.00"), D("5020.00"))
    assert best.supplier_fees == ((20, D("100.00")), (30, D("100.00")))
    assert best.not_awarded == ()


def test_best_award_uses_fees_that_cheapest_per_product_ignores() -> None:
    quotes = [
        SupplierQuote(1, D("0.00"), {1: line(1, 0, (0, "10.00")), 2: line(1, 0, (0, "10.00"))}),
        SupplierQuote(2, D("500.00"), {1: line(1, 0, (0, "9.00"))}),
    ]
    priced = price_request({1: 100, 2: 100}, quotes)
    assert cheapest_per_product(priced).total == D("2400.00")  # 900 + 1000 + 500
    best = best_award(priced)
    assert best.choice() == {1: 1, 2: 1} and best.total == D("2000.00")


def test_products_without_an_eligible_quote_are_not_awarded() -> None:
    quotes = [SupplierQuote(1, D("0"), {1: line(1, 500, (0, "10.00")), 2: line(1, 0, (0, "3.00"))})]
    priced = price_request({1: 100, 2: 10, 3: 5}, quotes)
    best = best_award(priced)
    assert best.choice() == {2: 1}
    assert best.not_awarded == (1, 3)
    assert best_single_supplier(priced) is None


def test_ties_go_to_the_smaller_supplier_ids_in_product_order() -> None:
    same = {1: line(1, 0, (0, "1.00")), 2: line(1, 0, (0, "1.00"))}
    quotes = [SupplierQuote(s, D("5.00"), same) for s in (9, 4, 7)]
    priced = price_request({1: 10, 2: 10}, quotes)
    solved = solve_best_award(priced)
    assert solved.award.choice() == {1: 4, 2: 4}
    assert solved.status == "OPTIMAL"


def test_ties_between_supplier_sets_take_the_smaller_id_for_the_first_product() -> None:
    # Suppliers 4 and 2 alone each cost 6; the pair costs 2 + fees 4 = 6: one supplier, and 2 < 4.
    quotes = [
        SupplierQuote(4, D("2.00"), {1: line(1, 0, (0, "1.00")), 2: line(1, 0, (0, "3.00"))}),
        SupplierQuote(2, D("2.00"), {1: line(1, 0, (0, "3.00")), 2: line(1, 0, (0, "1.00"))}),
        SupplierQuote(1, D("0.00"), {2: line(1, 0, (0, "7.00"))}),
    ]
    priced = price_request({1: 1, 2: 1}, quotes)
    assert best_award(priced).choice() == {1: 2, 2: 2}


def test_an_own_choice_is_priced_and_checked() -> None:
    priced = price_request({1: 100, 2: 40}, three_suppliers())
    own = award_of(priced, {1: 20, 2: 10})
    assert own.total == D("5300.00") and own.delivery_fees == D("400.00")
    with pytest.raises(ValueError, match="product 1: supplier 30"):
        award_of(priced, {1: 30})


def test_an_empty_request_awards_nothing() -> None:
    priced = price_request({1: 10}, [])
    assert best_award(priced).total == D("0.00")
    assert best_award(priced).not_awarded == (1,)


def test_purchase_order_delivery_fee_charges_the_supplier_fee_once_if_anything_is_ordered() -> None:
    from pricing import purchase_order_delivery_fee

    assert purchase_order_delivery_fee([D("10.00"), D("0.00")], D("90.00")) == D("100.00")
    assert purchase_order_delivery_fee([], D("90.00")) == D("0.00")
    assert purchase_order_delivery_fee([D("5.00")], D("0")) == D("5.00")
    with pytest.raises(ValueError):
        purchase_order_delivery_fee([D("1.00")], D("-1"))


def test_median_amount_takes_the_middle_or_the_mean_of_the_two_middle_half_up() -> None:
    from pricing.quotes import median_amount

    assert median_amount([D("3.00"), D("1.00"), D("2.00")]) == D("2.00")
    assert median_amount([D("1.00"), D("2.01")]) == D("1.51")  # 1.505 half up
    assert median_amount([D("5.00")]) == D("5.00")
    with pytest.raises(ValueError):
        median_amount([])


def test_competition_won_against_the_median_and_the_single_supplier() -> None:
    from pricing.quotes import competition_won

    priced = price_request({1: 100, 2: 40}, three_suppliers())
    won = competition_won(priced, {1: 20, 2: 30})
    # Rice: quotes 3000 (10) and 2900 (20): median 2950, awarded 2900, supplier 10 alone 3000.
    # Oil: quotes 2000 (10) and 1920 (30): median 1960, awarded 1920, supplier 10 alone 2000.
    assert [(ln.product_id, ln.quotes, ln.median_amount, ln.won_vs_median, ln.won_vs_single_supplier)
            for ln in won.lines] == [(1, 2, D("2950.00"), D("50.00"), D("100.00")),
                                     (2, 2, D("1960.00"), D("40.00"), D("80.00"))]
    assert (won.awarded_total, won.single_supplier_total, won.won_vs_single_supplier, won.won_vs_median) == (
        D("5020.00"), D("5300.00"), D("280.00"), D("90.00"))
