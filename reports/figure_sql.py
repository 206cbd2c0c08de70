"""The SQL forms of the monthly summary's figures, defined once: the windows of purchase orders received and
marketplace purchases delivered, and what the figures add up over them (allocations, purchases). The scan in
``reports.figures`` and the per-group lines in ``reports.group_lines`` build on these; the roll-ups
(``orders.rollups``, ``market.rollups``) add up the same, proved equal by tests/integration/test_rollups.py."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, case, cast, func, literal, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

import pricing
from market.models import Purchase
from orders.models import Allocation, BuyingRound, PurchaseOrder
from pricing.money import ZERO


def exact_sum(expr: Any) -> ColumnElement[Any]:
    """A SUM read back as an exact decimal (PostgreSQL numeric; SQLite's float rounded to the satang)."""
    return type_coerce(expr, Numeric(20, 2, asdecimal=True))


def as_money(value: Any) -> Decimal:
    """A figure read from the database as exact money (a missing sum is nothing)."""
    if value is None:
        return ZERO
    return pricing.money(Decimal(str(value)))


def bucket(column: Any, months: list[tuple[str, datetime, datetime]]) -> Any:
    """The month label of a UTC instant already known to lie inside the window (portable CASE)."""
    if len(months) == 1:
        return literal(months[0][0])
    return case(*[(column < end, literal(name)) for name, _, end in months[:-1]], else_=literal(months[-1][0]))


def received_purchase_orders(network_id: int, months: list[tuple[str, datetime, datetime]]) -> Any:
    """Purchase orders received in the window, with their month: a handful of rows per month."""
    return (
        select(PurchaseOrder.id.label("po_id"), PurchaseOrder.round_id.label("round_id"),
               bucket(PurchaseOrder.received_at, months).label("month"))
        .join(BuyingRound, BuyingRound.id == PurchaseOrder.round_id)
        .where(BuyingRound.network_id == network_id,
               PurchaseOrder.received_at >= months[0][1], PurchaseOrder.received_at < months[-1][2])
        .subquery("po_months")
    )


def delivered_purchases(network_id: int, months: list[tuple[str, datetime, datetime]]) -> Any:
    """Marketplace purchases delivered in the window, with their month and the figures they add.

    The saving and the gain are stored on the purchase at delivery (``pricing.marketplace``); for a row
    without them, the SQL forms below are the same formulas (tests/integration/test_reports_rules.py)."""
    p = Purchase
    saving = func.coalesce(p.buyer_saving, p.quantity * (func.coalesce(p.reference_price, p.unit_price) - p.unit_price))
    gain = func.coalesce(
        p.income_gain, case((p.outside_price.is_(None), literal(0)), else_=p.quantity * (p.unit_price - p.outside_price)))
    return (
        select(p.id.label("purchase_id"), bucket(p.delivered_at, months).label("month"), p.buyer_group_id,
               p.seller_group_id,
               p.amount.label("amount"), saving.label("saving"), gain.label("gain"))
        .where(p.network_id == network_id, p.state == "delivered",
               p.delivered_at >= months[0][1], p.delivered_at < months[-1][2])
        .subquery("purchases_months")
    )


def allocation_sums() -> list[ColumnElement[Any]]:
    """What the figures add up over allocations, defined once for the per-offer and the per-group totals, in
    whole satang (allocations hold integer satang; bigint sums): at the price reached, at the reference price,
    the fees, what was paid, and the pooling gain (``pricing.pooling_gain``: allocated × (alone price − price
    reached); test_reports_rules)."""
    a = Allocation
    price = func.coalesce(a.unit_price_satang, 0)
    return [
        satang_sum(a.allocated * price).label("actual"),
        satang_sum(a.allocated * a.reference_price_satang).label("baseline"),
        satang_sum(a.fee_share_satang).label("fees"),
        satang_sum(a.allocated * price + a.fee_share_satang).label("spend"),  # Allocation.amount
        satang_sum(a.allocated * (a.alone_price_satang - price)).label("pooling"),
    ]


def satang_sum(column: Any) -> ColumnElement[Any]:
    """A sum of satang as a ``bigint`` (PostgreSQL's sum of bigints is ``numeric``, slower to read back)."""
    return cast(func.sum(column), BigInteger)


def purchase_sums(bought: Any) -> list[ColumnElement[Any]]:
    """What the figures add up over delivered marketplace purchases (``delivered_purchases``), defined once
    for the buyers', the sellers' and the month's totals: paid, the buyers' saving, the sellers' gain, count."""
    return [
        exact_sum(func.sum(bought.c.amount)).label("spend"),
        exact_sum(func.sum(bought.c.saving)).label("savings"),
        exact_sum(func.sum(bought.c.gain)).label("gain"),
        func.count().label("n"),
    ]
