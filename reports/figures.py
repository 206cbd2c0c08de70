"""The monthly summary's figures, added up by the database.

By default the sums come from the per-month roll-ups that the receipts and marketplace deliveries keep in
their own transactions (``orders.rollups``, ``market.rollups``, read by ``reports.rollup_reads``): a few
rows per offer, group and month, whatever the number of lines. ``compute_summary(..., scan=True)`` adds the
same figures up from the allocations and purchases themselves (one GROUP BY per kind of row): the reference
the roll-ups are proved equal to (tests/integration/test_rollups.py), kept for that and for checking.
Python only sees one row per offer, per group, per month, so memory does not grow with the lines.
Money is exact: integer satang or Numeric sums, quantised to the satang; ratios to four places.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, NotRequired, TypedDict, cast

from sqlalchemy import and_, func, select

import pricing
from core.db import db
from core.errors import NotFound
from core.summary_parts import summary_parts
from network.models import Network
from orders.models import (
    Allocation,
    Offer,
    PriceTier,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from pricing.money import RATIO, ZERO, round_half_up
from reports import periods, rollup_reads
from reports.figure_sql import (
    allocation_sums,
    as_money,
    delivered_purchases,
    purchase_sums,
    received_purchase_orders,
)
from reports.group_lines import baht_of, group_lines

TREND_MONTHS = 12
HEADLINES = ("spend", "baseline", "savings", "savings_percent", "fees", "income_gain", "registered_poor_savings",
             "price_reduction", "tier_attainment", "pooling_gain")
RATIOS = {"savings_percent", "price_reduction", "tier_attainment"}


def _baht(value: Decimal) -> str:
    """Money as the summary's JSON stores it: a decimal string to the satang, e.g. "1234.50"."""
    text = str(value)
    if len(text) > 3 and text[-3] == "." and isinstance(value, Decimal):
        return text  # already to the satang (pricing.money would change nothing)
    return str(pricing.money(value))


def _ratio_text(value: Decimal | None) -> str | None:
    """A ratio as the summary's JSON stores it: four decimal places (None: no basis to compare)."""
    return None if value is None else str(value.quantize(RATIO))


# --- the figures -----------------------------------------------------------------------------------

@dataclass
class _Totals:
    joint_spend: Decimal = ZERO
    joint_baseline: Decimal = ZERO
    joint_actual: Decimal = ZERO
    fees: Decimal = ZERO
    pooling_gain: Decimal = ZERO
    market_spend: Decimal = ZERO
    market_savings: Decimal = ZERO
    income_gain: Decimal = ZERO
    rounds: int = 0
    purchases: int = 0
    sales: int = 0
    sales_amount: Decimal = ZERO
    tier_attainment_parts: list[tuple[Fraction, Fraction]] = field(default_factory=list)
    _attainment: tuple[Decimal | None] | None = None

    @property
    def spend(self) -> Decimal:
        return self.joint_spend + self.market_spend

    @property
    def baseline(self) -> Decimal:
        return self.joint_baseline + self.market_spend + self.market_savings

    @property
    def savings(self) -> Decimal:
        return self.baseline - self.spend

    def price_reduction(self) -> Decimal | None:
        return pricing.price_reduction(self.joint_actual, self.joint_baseline).value

    def tier_attainment(self) -> Decimal | None:
        # Asked for by the trend, the month's line and month over month: added up once (parts are final by then).
        if self._attainment is None:
            self._attainment = (pricing.weighted(self.tier_attainment_parts),)
        return self._attainment[0]


def _basis(bases: set[str]) -> str:
    if bases == {"households"}:
        return "households"
    if not bases or bases == {"proportion"}:
        return "proportion"
    return "mixed"


def _offers(network_id: int, months: list[tuple[str, datetime, datetime]], scan: bool) -> list[Any]:
    """One row per offer delivered in the window: its purchase-order line, tiers and line totals."""
    received = received_purchase_orders(network_id, months)
    a = Allocation
    offer_totals = rollup_reads.offer_totals(network_id, months) if not scan else (
        select(a.offer_id, *allocation_sums(),
               # One allocation per group per offer (one order per group and round, one line per offer).
               func.count().label("groups"),
               func.sum(a.allocated).label("allocated"))
        .join(received, and_(received.c.round_id == a.round_id, received.c.po_id == a.purchase_order_id))
        .group_by(a.offer_id)
        .subquery("offer_totals")
    )
    in_window = select(PurchaseOrderLine.offer_id).join(received, received.c.po_id == PurchaseOrderLine.purchase_order_id)
    tiers = (
        select(PriceTier.offer_id, func.count().label("n"), func.max(PriceTier.unit_price).label("list_price"),
               func.min(PriceTier.unit_price).label("best_price"))
        .where(PriceTier.offer_id.in_(in_window)).group_by(PriceTier.offer_id).subquery("tier_stats")
    )
    rounds = select(PurchaseOrder.round_id).join(received, received.c.po_id == PurchaseOrder.id)
    competing = (
        select(Offer.round_id, Offer.product_id, func.count().label("n"))
        .where(Offer.round_id.in_(rounds)).group_by(Offer.round_id, Offer.product_id).subquery("competing")
    )
    pol = PurchaseOrderLine
    return list(db.session.execute(
        select(received.c.month, pol.offer_id, pol.purchase_order_id, Offer.round_id, Offer.product_id,
               Product.name.label("product"), Product.unit, Offer.supplier_id, Supplier.name.label("supplier"),
               Offer.reference_price, pol.ordered_quantity, pol.received_quantity, pol.packs, pol.unit_price,
               pol.tier_min_quantity, tiers.c.n.label("tiers"), tiers.c.list_price, tiers.c.best_price,
               competing.c.n.label("competing"), offer_totals.c.actual, offer_totals.c.baseline, offer_totals.c.fees,
               offer_totals.c.spend, offer_totals.c.pooling, offer_totals.c.groups, offer_totals.c.allocated)
        .join(received, received.c.po_id == pol.purchase_order_id)
        .join(Offer, Offer.id == pol.offer_id)
        .join(Product, Product.id == Offer.product_id)
        .join(Supplier, Supplier.id == Offer.supplier_id)
        .join(tiers, tiers.c.offer_id == pol.offer_id)
        .join(competing, and_(competing.c.round_id == Offer.round_id, competing.c.product_id == Offer.product_id))
        .outerjoin(offer_totals, offer_totals.c.offer_id == pol.offer_id)
        .order_by(received.c.month, Product.name, Supplier.name, Offer.round_id, pol.offer_id)
    ))


def _tier_fraction(row: Any) -> Fraction:
    """``pricing.attainment_fraction`` of an offer row: list and best price are the max and min tier price."""
    return pricing.attainment_fraction(as_money(row.list_price), as_money(row.best_price), as_money(row.unit_price),
                                       int(row.tiers))


def _product_line(row: Any, fraction: Fraction) -> dict[str, Any]:
    actual, baseline = row.actual or 0, row.baseline or 0  # satang
    value = row.ordered_quantity * row.unit_price
    attainment = round_half_up(fraction, RATIO)
    return {
        "offer_id": row.offer_id, "round_id": row.round_id, "purchase_order_id": row.purchase_order_id,
        "product_id": row.product_id, "product": row.product, "unit": row.unit,
        "supplier_id": row.supplier_id, "supplier": row.supplier,
        "ordered_quantity": row.ordered_quantity, "received_quantity": row.received_quantity,
        "allocated": int(row.allocated or 0), "packs": row.packs, "tier_min_quantity": row.tier_min_quantity,
        "unit_price": _baht(row.unit_price), "list_price": _baht(row.list_price), "best_price": _baht(row.best_price),
        "reference_price": _baht(row.reference_price), "value": _baht(value),
        "actual": baht_of(actual), "baseline": baht_of(baseline),
        "price_reduction": _ratio_text(pricing.price_reduction(Decimal(actual).scaleb(-2),
                                                               Decimal(baseline).scaleb(-2)).value),
        "tier_attainment": _ratio_text(attainment), "pooling_gain": baht_of(row.pooling or 0),
        "groups_pooled": int(row.groups or 0), "competing_offers": int(row.competing),
    }


def _market_by_month(network_id: int, months: list[tuple[str, datetime, datetime]], scan: bool) -> dict[str, Any]:
    if not scan:
        return {row.month: row for row in db.session.execute(rollup_reads.market_by_month(network_id, months))}
    bought = delivered_purchases(network_id, months)
    return {row.month: row for row in db.session.execute(
        select(bought.c.month, *purchase_sums(bought)).group_by(bought.c.month))}


def _headline(t: _Totals, poor: Decimal | None, *, network: bool = True) -> dict[str, Any]:
    """The headline figures; a group's line (``network=False``) has no price reduction or tier attainment."""
    savings, baseline = t.savings, t.baseline
    line = {
        "spend": _baht(t.spend), "baseline": _baht(baseline), "savings": _baht(savings),
        "savings_percent": _ratio_text(pricing.ratio(savings, baseline)), "fees": _baht(t.fees),
        "income_gain": _baht(t.income_gain),
        "registered_poor_savings": None if poor is None else _baht(poor),
    }
    if network:
        line.update({"price_reduction": _ratio_text(t.price_reduction()),
                     "tier_attainment": _ratio_text(t.tier_attainment())})
    line["pooling_gain"] = _baht(t.pooling_gain)
    return line


def _change(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in HEADLINES:
        now, before = current.get(key), previous.get(key)
        if now is None or before is None:
            out[key] = {"previous": before, "change": None, "change_percent": None}
            continue
        diff = Decimal(now) - Decimal(before)
        if key in RATIOS:
            out[key] = {"previous": before, "change": _ratio_text(diff), "change_percent": None}
        else:
            out[key] = {"previous": before, "change": _baht(diff),
                        "change_percent": _ratio_text(pricing.ratio(diff, abs(Decimal(before))))}
    return out


class SummaryFigures(TypedDict):
    """A month's figures as stored (JSON: money and ratios as strings); the parts are described by
    reports/schemas.py (NetworkFiguresSchema, GroupLineSchema, ProductLineSchema, TrendPointSchema)."""

    month: str
    timezone: str
    network_id: int
    period: dict[str, str]
    network: dict[str, Any]
    groups: list[dict[str, Any]]
    products: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    previous_month: str
    month_over_month: dict[str, Any]
    # Parts other domains contribute (core.summary_parts): quotes/ adds what competition won.
    competition: NotRequired[dict[str, Any]]  # quotes/competition.py, CompetitionSchema


def compute_summary(network_id: int, month: str, *, scan: bool = False) -> SummaryFigures:
    """The month's figures as plain JSON (money as strings); reads only, writes nothing. From the roll-ups,
    or (``scan``) added up from every allocation and purchase of the window: the same figures."""
    year, mon = periods.parse_month(month)
    network = db.session.get(Network, network_id)
    if network is None:
        raise NotFound("No such network.")
    tz = periods.zone(network.timezone)
    trend_months = periods.window(tz, year, mon, TREND_MONTHS)
    label, previous_label = trend_months[-1][0], trend_months[-2][0]

    # Network level per month, from the offers (joint buying) and the marketplace.
    by_month: dict[str, _Totals] = defaultdict(_Totals)
    products: list[dict[str, Any]] = []
    rounds: dict[str, set[int]] = defaultdict(set)
    purchase_orders: dict[str, set[int]] = defaultdict(set)
    joint: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # satang: added up, then baht once
    for row in _offers(network_id, trend_months, scan):
        t = by_month[row.month]
        sums = joint[row.month]
        sums[0] += row.spend or 0
        sums[1] += row.baseline or 0
        sums[2] += row.actual or 0
        sums[3] += row.fees or 0
        sums[4] += row.pooling or 0
        rounds[row.month].add(row.round_id)
        purchase_orders[row.month].add(row.purchase_order_id)
        if row.unit_price is None or row.ordered_quantity <= 0:
            continue  # not ordered (minimum not met): nothing bought, no price reached
        fraction = _tier_fraction(row)
        t.tier_attainment_parts.append((fraction, Fraction(row.ordered_quantity * row.unit_price)))
        if row.month == label:
            products.append(_product_line(row, fraction))
    for name, sums in joint.items():
        t = by_month[name]
        t.joint_spend, t.joint_baseline, t.joint_actual, t.fees, t.pooling_gain = (
            Decimal(amount).scaleb(-2) for amount in sums)
    for name, row in _market_by_month(network_id, trend_months, scan).items():
        t = by_month[name]
        t.market_spend, t.market_savings, t.income_gain, t.purchases = (
            as_money(row.spend), as_money(row.savings), as_money(row.gain), int(row.n))

    # Group level for this month and the one before (registered-poor reach is rounded per group).
    groups = group_lines(network_id, trend_months[-2:], scan)
    poor = {name: Decimal(amount).scaleb(-2) for name, amount in groups.poor.items()}

    current = by_month[label]
    network_line = _headline(current, poor[label])
    network_line.update({
        "price_reduction_parts": {"actual": _baht(current.joint_actual), "baseline": _baht(current.joint_baseline)},
        "joint_buying": {"spend": _baht(current.joint_spend), "baseline": _baht(current.joint_baseline),
                         "savings": _baht(current.joint_baseline - current.joint_spend), "fees": _baht(current.fees)},
        "marketplace": {"spend": _baht(current.market_spend), "baseline": _baht(current.market_spend + current.market_savings),
                        "savings": _baht(current.market_savings), "purchases": current.purchases},
        "rounds": len(rounds[label]), "purchase_orders": len(purchase_orders[label]),
        "groups_active": sum(1 for line in groups.lines if line["spend"] != "0.00" or line["sales"]),
        "registered_poor_basis": _basis(groups.bases),
        "households_reached": sum(line["households_reached"] for line in groups.lines),
    })
    previous_line = _headline(by_month[previous_label], poor[previous_label])
    trend = []
    for name, _, _ in trend_months:
        t = by_month[name]
        point = _headline(t, None)
        del point["registered_poor_savings"]
        trend.append({"month": name, **point})
    summary: SummaryFigures = {
        "month": label, "timezone": tz.key, "network_id": network_id,
        "period": {"start": trend_months[-1][1].isoformat(), "end": trend_months[-1][2].isoformat()},
        "network": network_line, "groups": groups.lines, "products": products, "trend": trend,
        "previous_month": previous_label, "month_over_month": _change(network_line, previous_line),
    }
    cast(dict[str, Any], summary).update(summary_parts(network_id, trend_months[-1][1], trend_months[-1][2]))
    return summary
