"""The estimate before the deadline uses the combine's own rules: on the worked example it is the bill."""
from __future__ import annotations

from decimal import Decimal

from pricing import OfferTerms, Tier
from pricing.estimate import EstimateOffer, estimate_order

UREA = OfferTerms(pack_size=5, min_quantity=0, reference_price=Decimal("850.00"), delivery_fee=Decimal("500.00"),
                  tiers=(Tier(0, Decimal("820.00")), Tier(50, Decimal("780.00")), Tier(100, Decimal("750.00"))))


def test_worked_example_group_a_is_its_bill():
    # Group a orders 18 (+2); the others 42 and 37 (+3): 100 sacks at 750.00, fees 1,250.00 shared by value.
    est = estimate_order([EstimateOffer(1, 1, UREA, others_quantity=79, others_tolerance=3)], {1: (18, 2)},
                         Decimal("1"))
    [line] = est.lines
    assert (line.allocated, line.unit_price, line.fee_share, line.amount, line.savings) == (
        19, Decimal("750.00"), Decimal("237.50"), Decimal("14487.50"), Decimal("1662.50"))
    assert line.network_ordered == 100 and line.ordered
    assert (est.amount, est.fees, est.baseline, est.savings) == (
        Decimal("14487.50"), Decimal("237.50"), Decimal("16150.00"), Decimal("1662.50"))


def test_minimum_not_met_is_not_ordered_and_costs_nothing():
    oil = OfferTerms(pack_size=1, min_quantity=1000, reference_price=Decimal("55.00"), delivery_fee=Decimal("300.00"),
                     tiers=(Tier(0, Decimal("48.00")),))
    est = estimate_order([EstimateOffer(7, 2, oil, others_quantity=150)], {7: (250, 0)}, Decimal("1"))
    [line] = est.lines
    assert not line.ordered and line.allocated == 0 and line.network_quantity == 400 and line.min_quantity == 1000
    assert line.amount == line.fee_share == line.savings == Decimal("0.00")


def test_fees_larger_than_the_discount_make_a_negative_saving():
    small = OfferTerms(pack_size=1, min_quantity=0, reference_price=Decimal("100.00"), delivery_fee=Decimal("400.00"),
                       tiers=(Tier(0, Decimal("99.00")),))
    est = estimate_order([EstimateOffer(3, 1, small, others_quantity=0)], {3: (10, 0)}, Decimal("2"))
    [line] = est.lines
    # 10 × 1.00 discount, minus 400.00 delivery and 2% of 990.00 (19.80): -409.80
    assert line.fee_share == Decimal("419.80") and line.savings == Decimal("-409.80") and est.savings < 0
