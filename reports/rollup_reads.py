"""The monthly summary's sums read from the roll-ups (orders/rollups.py, market/rollups.py) instead of a scan.

Each function returns what its scan counterpart in ``reports.figures`` returns, with the same labels, so the
figures are built by the same code either way; ``tests/integration/test_rollups.py`` proves the two equal to
the satang. The roll-ups hold integer satang; ``Satang`` turns a sum back into exact baht.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, TypeDecorator, func, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from market.models import MarketMonthGroup
from orders.models import AllocationMonthGroup, AllocationMonthOffer
from reports.figure_sql import satang_sum


class Satang(TypeDecorator[Decimal]):
    """Integer satang read back as exact baht (a ``bigint``, or PostgreSQL's ``numeric`` sum of them)."""

    impl = BigInteger
    cache_ok = True

    def process_result_value(self, value: Any, dialect: object) -> Decimal | None:
        return None if value is None else Decimal(int(value)).scaleb(-2)


def _baht(expr: Any, name: str) -> ColumnElement[Any]:
    return type_coerce(expr, Satang()).label(name)


def offer_totals(network_id: int, months: list[tuple[str, datetime, datetime]]) -> Any:
    """Per offer counted in the window: the columns of ``figures._offers``' scan of the allocations (satang)."""
    o = AllocationMonthOffer
    return (
        select(o.offer_id, o.actual_s.label("actual"), o.baseline_s.label("baseline"), o.fees_s.label("fees"),
               o.spend_s.label("spend"), o.pooling_s.label("pooling"), o.lines.label("groups"), o.allocated)
        .where(o.network_id == network_id, o.month.in_([name for name, _, _ in months]))
        .subquery("offer_totals")
    )


def group_joint_buying(network_id: int, months: list[str]) -> Any:
    """Per month and group (``figures`` ``group_totals``' scan of the allocations): joint buying's sums in whole
    satang (plain integers: the caller turns thousands of them into baht without a type's processing per value)
    and the rounds joined (one roll-up row per round)."""
    g = AllocationMonthGroup
    return (
        select(g.month, g.group_id, satang_sum(g.spend_s), satang_sum(g.baseline_s), satang_sum(g.fees_s),
               satang_sum(g.pooling_s),
               func.count())
        .where(g.network_id == network_id, g.month.in_(months))
        .group_by(g.month, g.group_id)
    )


def group_marketplace(network_id: int, months: list[str]) -> Any:
    """Per month and group, as a buyer (spend, savings, purchases) and as a seller (gain, amount, sales): the
    roll-up holds one row per group and month already, so nothing is added up."""
    m = MarketMonthGroup
    return (
        select(m.month, m.group_id, m.bought_spend_s, m.bought_savings_s, m.bought, m.sold_gain_s, m.sold_amount_s,
               m.sold)
        .where(m.network_id == network_id, m.month.in_(months))
    )


def market_by_month(network_id: int, months: list[tuple[str, datetime, datetime]]) -> Any:
    """Per month of the window: the marketplace's spend, savings, gain and purchases."""
    m = MarketMonthGroup
    return (
        select(m.month, _baht(func.sum(m.bought_spend_s), "spend"), _baht(func.sum(m.bought_savings_s), "savings"),
               _baht(func.sum(m.sold_gain_s), "gain"), func.sum(m.bought).label("n"))
        .where(m.network_id == network_id, m.month.in_([name for name, _, _ in months]))
        .group_by(m.month)
    )


def rebuild(network_id: int) -> None:
    """Both domains' roll-ups of the network recomputed from their rows, in the caller's transaction: the
    backfill tool (``flask reports rebuild-rollups``), and for data written behind the services' back."""
    from market import rollups as market_rollups
    from orders import rollups as order_rollups

    order_rollups.rebuild(network_id)
    market_rollups.rebuild(network_id)
