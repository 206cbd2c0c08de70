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

from sqlalchemy import Numeric, and_, case, func, literal, literal_column, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

import pricing
from core.db import db
from core.errors import NotFound
from core.summary_parts import group_figures, summary_parts
from market.models import Purchase
from network.models import Group, Network
from orders.models import (
    Allocation,
    BuyingRound,
    Offer,
    PriceTier,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from pricing.money import RATIO, ZERO, round_half_up
from reports import periods, rollup_reads

TREND_MONTHS = 12
HEADLINES = ("spend", "baseline", "savings", "savings_percent", "fees", "income_gain", "registered_poor_savings",
             "price_reduction", "tier_attainment", "pooling_gain")
RATIOS = {"savings_percent", "price_reduction", "tier_attainment"}


def _exact_sum(expr: Any) -> ColumnElement[Any]:
    """A SUM read back as an exact decimal (PostgreSQL numeric; SQLite's float rounded to the satang)."""
    return type_coerce(expr, Numeric(20, 2, asdecimal=True))


def _as_money(value: Any) -> Decimal:
    """A figure read from the database as exact money (a missing sum is nothing)."""
    if value is None:
        return ZERO
    return pricing.money(Decimal(str(value)))


def _baht(value: Decimal) -> str:
    """Money as the summary's JSON stores it: a decimal string to the satang, e.g. "1234.50"."""
    text = str(value)
    if len(text) > 3 and text[-3] == "." and isinstance(value, Decimal):
        return text  # already to the satang (pricing.money would change nothing)
    return str(pricing.money(value))


def _ratio_text(value: Decimal | None) -> str | None:
    """A ratio as the summary's JSON stores it: four decimal places (None: no basis to compare)."""
    return None if value is None else str(value.quantize(RATIO))


def _bucket(column: Any, months: list[tuple[str, datetime, datetime]]) -> Any:
    """The month label of a UTC instant already known to lie inside the window (portable CASE)."""
    if len(months) == 1:
        return literal(months[0][0])
    return case(*[(column < end, literal(name)) for name, _, end in months[:-1]], else_=literal(months[-1][0]))


def _received_purchase_orders(network_id: int, months: list[tuple[str, datetime, datetime]]) -> Any:
    """Purchase orders received in the window, with their month: a handful of rows per month."""
    return (
        select(PurchaseOrder.id.label("po_id"), PurchaseOrder.round_id.label("round_id"),
               _bucket(PurchaseOrder.received_at, months).label("month"))
        .join(BuyingRound, BuyingRound.id == PurchaseOrder.round_id)
        .where(BuyingRound.network_id == network_id,
               PurchaseOrder.received_at >= months[0][1], PurchaseOrder.received_at < months[-1][2])
        .subquery("po_months")
    )


def _delivered_purchases(network_id: int, months: list[tuple[str, datetime, datetime]]) -> Any:
    """Marketplace purchases delivered in the window, with their month and the figures they add.

    The saving and the gain are stored on the purchase at delivery (``pricing.marketplace``); for a row
    without them, the SQL forms below are the same formulas (tests/integration/test_reports_rules.py)."""
    p = Purchase
    saving = func.coalesce(p.buyer_saving, p.quantity * (func.coalesce(p.reference_price, p.unit_price) - p.unit_price))
    gain = func.coalesce(
        p.income_gain, case((p.outside_price.is_(None), literal(0)), else_=p.quantity * (p.unit_price - p.outside_price)))
    return (
        select(p.id.label("purchase_id"), _bucket(p.delivered_at, months).label("month"), p.buyer_group_id,
               p.seller_group_id,
               p.amount.label("amount"), saving.label("saving"), gain.label("gain"))
        .where(p.network_id == network_id, p.state == "delivered",
               p.delivered_at >= months[0][1], p.delivered_at < months[-1][2])
        .subquery("purchases_months")
    )


def _allocation_sums() -> list[ColumnElement[Any]]:
    """What the figures add up over allocations, defined once for the per-offer and the per-group totals:
    at the price reached, at the reference price, the fees, what was paid, and the pooling gain
    (``pricing.pooling_gain``: allocated × (alone price − price reached); test_reports_rules)."""
    a = Allocation
    price = func.coalesce(a.unit_price_satang, 0)

    def baht(satang: Any) -> ColumnElement[Any]:
        # Allocations hold integer satang: bigint sums, turned into baht once per group.
        return _exact_sum(func.sum(satang) * literal_column("0.01"))

    return [
        baht(a.allocated * price).label("actual"),
        baht(a.allocated * a.reference_price_satang).label("baseline"),
        baht(a.fee_share_satang).label("fees"),
        baht(a.allocated * price + a.fee_share_satang).label("spend"),  # Allocation.amount
        baht(a.allocated * (a.alone_price_satang - price)).label("pooling"),
    ]


def _purchase_sums(bought: Any) -> list[ColumnElement[Any]]:
    """What the figures add up over delivered marketplace purchases (``_delivered_purchases``), defined once
    for the buyers', the sellers' and the month's totals: paid, the buyers' saving, the sellers' gain, count."""
    return [
        _exact_sum(func.sum(bought.c.amount)).label("spend"),
        _exact_sum(func.sum(bought.c.saving)).label("savings"),
        _exact_sum(func.sum(bought.c.gain)).label("gain"),
        func.count().label("n"),
    ]


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


def _poor_reach(t: _Totals, g: Any, measured: dict[str, Any] | None) -> tuple[Decimal, str, int]:
    """Savings reaching registered-poor households: measured where the group's households have bills (the
    registered-poor households' own savings), the proportional estimate for the rest of its savings."""
    if measured is None:
        return pricing.registered_poor_share(t.savings, g.members, g.registered_poor_members), "proportion", 0
    rest = t.savings - measured["savings"]
    estimated = pricing.registered_poor_share(rest, g.members, g.registered_poor_members)
    whole = measured["rounds"] >= t.rounds and not t.purchases
    return measured["poor_savings"] + estimated, "households" if whole else "mixed", int(measured["households"])


def _basis(bases: set[str]) -> str:
    if bases == {"households"}:
        return "households"
    if not bases or bases == {"proportion"}:
        return "proportion"
    return "mixed"


def _offers(network_id: int, months: list[tuple[str, datetime, datetime]], scan: bool) -> list[Any]:
    """One row per offer delivered in the window: its purchase-order line, tiers and line totals."""
    received = _received_purchase_orders(network_id, months)
    a = Allocation
    offer_totals = rollup_reads.offer_totals(network_id, months) if not scan else (
        select(a.offer_id, *_allocation_sums(),
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
    return pricing.attainment_fraction(_as_money(row.list_price), _as_money(row.best_price), _as_money(row.unit_price),
                                       int(row.tiers))


def _product_line(row: Any, fraction: Fraction) -> dict[str, Any]:
    actual, baseline = _as_money(row.actual), _as_money(row.baseline)
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
        "actual": _baht(actual), "baseline": _baht(baseline),
        "price_reduction": _ratio_text(pricing.price_reduction(actual, baseline).value),
        "tier_attainment": _ratio_text(attainment), "pooling_gain": _baht(_as_money(row.pooling)),
        "groups_pooled": int(row.groups or 0), "competing_offers": int(row.competing),
    }


def _group_totals(network_id: int, month: tuple[str, datetime, datetime], scan: bool) -> dict[int, _Totals]:
    """Per group for one month: joint buying, purchases as a buyer and sales as a seller.

    Grouped on plain columns (group, round), not on a computed month, so the planner's estimates
    stay right and it hash-aggregates in one pass."""
    totals: dict[int, _Totals] = defaultdict(_Totals)
    if not scan:
        return _group_totals_rolled(network_id, month[0])
    received = _received_purchase_orders(network_id, [month])
    a = Allocation
    per_round = (
        select(a.group_id, a.round_id, *_allocation_sums())
        .join(received, and_(received.c.round_id == a.round_id, received.c.po_id == a.purchase_order_id))
        .group_by(a.group_id, a.round_id)
        .subquery("group_rounds")
    )
    for row in db.session.execute(
        select(per_round.c.group_id,
               *[_exact_sum(func.sum(per_round.c[name])).label(name)
                 for name in ("spend", "baseline", "actual", "fees", "pooling")],
               func.count().label("rounds"))
        .group_by(per_round.c.group_id)
    ):
        t = totals[row.group_id]
        t.joint_spend, t.joint_baseline, t.joint_actual = _as_money(row.spend), _as_money(row.baseline), _as_money(row.actual)
        t.fees, t.pooling_gain, t.rounds = _as_money(row.fees), _as_money(row.pooling), int(row.rounds)
    bought = _delivered_purchases(network_id, [month])
    for row in db.session.execute(
            select(bought.c.buyer_group_id, *_purchase_sums(bought)).group_by(bought.c.buyer_group_id)):
        t = totals[row.buyer_group_id]
        t.market_spend, t.market_savings, t.purchases = _as_money(row.spend), _as_money(row.savings), int(row.n)
    for row in db.session.execute(
            select(bought.c.seller_group_id, *_purchase_sums(bought)).group_by(bought.c.seller_group_id)):
        t = totals[row.seller_group_id]
        t.income_gain, t.sales, t.sales_amount = _as_money(row.gain), int(row.n), _as_money(row.spend)
    return totals


def _group_totals_rolled(network_id: int, month: str) -> dict[int, _Totals]:
    """``_group_totals`` from the roll-ups: the same figures, a few rows per group."""
    totals: dict[int, _Totals] = defaultdict(_Totals)
    # Whole satang to exact baht (two places), here rather than by a column type: thousands of values.
    def b(satang: int) -> Decimal:
        return Decimal(satang).scaleb(-2)

    for (group_id, spend, baseline, actual, fees, pooling, rounds, spent, saved, purchases, gain, sales_amount,
         sales) in db.session.connection().execute(rollup_reads.groups(network_id, month)):
        totals[group_id] = _Totals(joint_spend=b(spend), joint_baseline=b(baseline), joint_actual=b(actual),
                                   fees=b(fees), pooling_gain=b(pooling), rounds=rounds, market_spend=b(spent),
                                   market_savings=b(saved), purchases=purchases, income_gain=b(gain), sales=sales,
                                   sales_amount=b(sales_amount))
    return totals


def _market_by_month(network_id: int, months: list[tuple[str, datetime, datetime]], scan: bool) -> dict[str, Any]:
    if not scan:
        return {row.month: row for row in db.session.execute(rollup_reads.market_by_month(network_id, months))}
    bought = _delivered_purchases(network_id, months)
    return {row.month: row for row in db.session.execute(
        select(bought.c.month, *_purchase_sums(bought)).group_by(bought.c.month))}


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


def _baht_of(satang: int) -> str:
    """Whole satang written as ``_baht`` writes the same amount ("-12.05")."""
    sign, n = ("-", -satang) if satang < 0 else ("", satang)
    return f"{sign}{n // 100}.{n % 100:02d}"


def _group_figures(t: _Totals, poor: Decimal) -> dict[str, Any]:
    """A group's headline, as ``_headline(t, poor, network=False)`` writes it, in integer satang: the month has a
    line per group (thousands), and exact integers are several times cheaper than ``Decimal`` and ``Fraction``.
    The savings percentage is rounded by ``pricing.half_up_quotient``, the rule ``pricing.ratio`` applies."""
    joint, market = int(t.joint_spend.scaleb(2)), int(t.market_spend.scaleb(2))
    spend = joint + market
    baseline = int(t.joint_baseline.scaleb(2)) + market + int(t.market_savings.scaleb(2))
    savings = baseline - spend
    percent = None
    if baseline:
        q = pricing.half_up_quotient(-savings * 10_000 if baseline < 0 else savings * 10_000, abs(baseline))
        percent = f"{'-' if q < 0 else ''}{abs(q) // 10_000}.{abs(q) % 10_000:04d}"
    return {
        "spend": _baht_of(spend), "baseline": _baht_of(baseline), "savings": _baht_of(savings),
        "savings_percent": percent, "fees": _baht_of(int(t.fees.scaleb(2))),
        "income_gain": _baht_of(int(t.income_gain.scaleb(2))), "registered_poor_savings": _baht(poor),
        "pooling_gain": _baht_of(int(t.pooling_gain.scaleb(2))),
        "joint_buying_spend": _baht_of(joint), "marketplace_spend": _baht_of(market),
    }


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
    for row in _offers(network_id, trend_months, scan):
        t = by_month[row.month]
        t.joint_spend += _as_money(row.spend)
        t.joint_baseline += _as_money(row.baseline)
        t.joint_actual += _as_money(row.actual)
        t.fees += _as_money(row.fees)
        t.pooling_gain += _as_money(row.pooling)
        rounds[row.month].add(row.round_id)
        purchase_orders[row.month].add(row.purchase_order_id)
        if row.unit_price is None or row.ordered_quantity <= 0:
            continue  # not ordered (minimum not met): nothing bought, no price reached
        fraction = _tier_fraction(row)
        t.tier_attainment_parts.append((fraction, Fraction(row.ordered_quantity * row.unit_price)))
        if row.month == label:
            products.append(_product_line(row, fraction))
    for name, row in _market_by_month(network_id, trend_months, scan).items():
        t = by_month[name]
        t.market_spend, t.market_savings, t.income_gain, t.purchases = (
            _as_money(row.spend), _as_money(row.savings), _as_money(row.gain), int(row.n))

    # Group level for this month and the one before (registered-poor reach is rounded per group).
    groups_totals = {name: _group_totals(network_id, (name, start, end), scan) for name, start, end in trend_months[-2:]}
    group_rows = db.session.execute(
        select(Group.id, Group.name, Group.district, Group.members, Group.registered_poor_members)
        .where(Group.network_id == network_id).order_by(Group.name, Group.id)
    ).all()
    poor: dict[str, Decimal] = {label: ZERO, previous_label: ZERO}
    # households/ registers its measured reach (core.summary_parts.group_figure): reports/ never imports it.
    reach = {name: group_figures("measured_reach", network_id, start, end) for name, start, end in trend_months[-2:]}
    groups: list[dict[str, Any]] = []
    bases: set[str] = set()
    for g in group_rows:
        for name in (previous_label, label):
            t = groups_totals[name].get(g.id) or _Totals()
            share, basis, reached = _poor_reach(t, g, reach[name].get(g.id))
            poor[name] += share
            if name == label:
                if t.rounds or t.purchases:
                    bases.add(basis)
                line = {"group_id": g.id, "name": g.name, "district": g.district, "members": g.members,
                        "registered_poor_members": g.registered_poor_members,
                        "registered_poor_basis": basis, "households_reached": reached}
                line.update(_group_figures(t, share))
                line.update({"rounds_joined": t.rounds, "purchases": t.purchases, "sales": t.sales,
                             "sales_amount": _baht(t.sales_amount)})
                groups.append(line)

    current = by_month[label]
    network_line = _headline(current, poor[label])
    network_line.update({
        "price_reduction_parts": {"actual": _baht(current.joint_actual), "baseline": _baht(current.joint_baseline)},
        "joint_buying": {"spend": _baht(current.joint_spend), "baseline": _baht(current.joint_baseline),
                         "savings": _baht(current.joint_baseline - current.joint_spend), "fees": _baht(current.fees)},
        "marketplace": {"spend": _baht(current.market_spend), "baseline": _baht(current.market_spend + current.market_savings),
                        "savings": _baht(current.market_savings), "purchases": current.purchases},
        "rounds": len(rounds[label]), "purchase_orders": len(purchase_orders[label]),
        "groups_active": sum(1 for line in groups if line["spend"] != "0.00" or line["sales"]),
        "registered_poor_basis": _basis(bases), "households_reached": sum(line["households_reached"] for line in groups),
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
        "network": network_line, "groups": groups, "products": products, "trend": trend,
        "previous_month": previous_label, "month_over_month": _change(network_line, previous_line),
    }
    cast(dict[str, Any], summary).update(summary_parts(network_id, trend_months[-1][1], trend_months[-1][2]))
    return summary
