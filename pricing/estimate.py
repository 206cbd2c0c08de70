"""What a group's order would come to if the round closed now: the same rules as the combine (pack
rounding, minimum, tier, allocation, fees shared by value), applied to the network's orders so far.

The other groups' lines are taken together as one line, so where a pack is filled by tolerance or a
shortfall is shared the estimate can differ from the bill by a unit (and the fee share by a satang or
two); later orders change it too. Pages call it an estimate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from pricing.allocation import Line
from pricing.fees import network_fee, split_fee
from pricing.money import ZERO, money
from pricing.offer import OfferTerms, combine_offer
from pricing.savings import line_amount, line_savings

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EstimateOffer:
    offer_id: int
    supplier_id: int
    terms: OfferTerms
    others_quantity: int  # what the other groups have ordered so far
    others_tolerance: int = 0  # and the extra units they accept to fill a pack


@dataclass(frozen=True)
class LineEstimate:
    offer_id: int
    quantity: int
    allocated: int  # 0 when the offer would not be ordered
    ordered: bool  # the network's total reaches the supplier's minimum
    network_quantity: int  # all groups' quantities together
    network_ordered: int  # what would be bought: whole packs
    min_quantity: int
    unit_price: Decimal | None
    value: Decimal  # allocated × unit price
    fee_share: Decimal
    amount: Decimal
    baseline: Decimal  # allocated × reference price: buying alone at the shop
    savings: Decimal


@dataclass(frozen=True)
class OrderEstimate:
    lines: tuple[LineEstimate, ...]
    value: Decimal
    fees: Decimal
    amount: Decimal
    baseline: Decimal
    savings: Decimal


def estimate_order(offers: Sequence[EstimateOffer], mine: Mapping[int, tuple[int, int]], fee_percent: Decimal,
                   supplier_fees: Mapping[int, Decimal] | None = None) -> OrderEstimate:
    """``mine`` maps offer id -> (quantity, tolerance) of the group's order."""
    supplier_fees = supplier_fees or {}
    results = {}
    for offer in offers:
        quantity, tolerance = mine.get(offer.offer_id, (0, 0))
        lines = [Line(1, quantity, tolerance, _EPOCH)] if quantity > 0 else []
        if offer.others_quantity > 0:
            lines.append(Line(2, offer.others_quantity, offer.others_tolerance, _EPOCH))
        results[offer.offer_id] = combine_offer(offer.terms, lines)

    # Per supplier: its purchase order's value, the fees, and each line's share by value (as the combine does).
    by_supplier: dict[int, list[EstimateOffer]] = defaultdict(list)
    for offer in offers:
        by_supplier[offer.supplier_id].append(offer)
    shares: dict[int, Decimal] = {}
    for supplier_id, supplier_offers in by_supplier.items():
        keys: list[tuple[object, ...]] = []
        values: list[Decimal] = []
        owners: list[int | None] = []
        fees = ZERO
        any_ordered = False
        for offer in supplier_offers:
            result = results[offer.offer_id]
            if result.unit_price is None:
                continue
            any_ordered = True
            fees += offer.terms.delivery_fee
            for line_id, allocated in sorted(result.allocations.items()):
                keys.append((offer.offer_id, line_id))
                values.append(money(allocated * result.unit_price))
                owners.append(offer.offer_id if line_id == 1 else None)
        if not any_ordered:
            continue
        fees += network_fee(sum(values, ZERO), fee_percent) + supplier_fees.get(supplier_id, ZERO)
        for owner, share in zip(owners, split_fee(money(fees), values, keys) if values else []):
            if owner is not None:
                shares[owner] = share

    out = []
    for offer in offers:
        quantity, _ = mine.get(offer.offer_id, (0, 0))
        if quantity <= 0:
            continue
        result = results[offer.offer_id]
        allocated = result.allocations.get(1, 0) if result.unit_price is not None else 0
        price = result.unit_price
        share = shares.get(offer.offer_id, ZERO)
        value = money(allocated * price) if price is not None else ZERO
        out.append(LineEstimate(
            offer_id=offer.offer_id, quantity=quantity, allocated=allocated, ordered=price is not None,
            network_quantity=quantity + offer.others_quantity, network_ordered=result.pack.ordered_quantity,
            min_quantity=offer.terms.min_quantity, unit_price=price, value=value, fee_share=share,
            amount=line_amount(allocated, price, share) if price is not None else ZERO,
            baseline=money(allocated * offer.terms.reference_price),
            savings=line_savings(allocated, offer.terms.reference_price, price, share) if price is not None else ZERO))
    done = tuple(out)
    return OrderEstimate(lines=done, value=sum((ln.value for ln in done), ZERO),
                         fees=sum((ln.fee_share for ln in done), ZERO), amount=sum((ln.amount for ln in done), ZERO),
                         baseline=sum((ln.baseline for ln in done), ZERO), savings=sum((ln.savings for ln in done), ZERO))
