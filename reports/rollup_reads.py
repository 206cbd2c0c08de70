"""The monthly summary's sums read from the roll-ups (orders/rollups.py, market/rollups.py) instead of a scan.

Each function returns what its scan counterpart in ``reports.figures`` returns, with the same labels, so the
figures are built by the same code either way; ``tests/integration/test_rollups.py`` proves the two equal to
the satang. The roll-ups hold integer satang; ``Satang`` turns a sum back into exact baht.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, TypeDecorator, cast, func, literal, select, type_coerce, union_all
from sqlalchemy.sql.elements import ColumnElement

from market.models import MarketMonthGroup
from orders.models import AllocationMonthGroup, AllocationMonthOffer


class Satang(TypeDecorator[Decimal]):
    """Integer satang read back as exact baht (a ``bigint``, or PostgreSQL's ``numeric`` sum of them)."""

    impl = BigInteger
    cache_ok = True

    def process_result_value(self, value: Any, dialect: object) -> Decimal | None:
        return None if value is None else Decimal(int(value)).scaleb(-2)


def _baht(expr: Any, name: str) -> ColumnElement[Any]:
    return type_coerce(expr, Satang()).label(name)


def offer_totals(network_id: int, months: list[tuple[str, datetime, datetime]]) -> Any:
    """Per offer counted in the window: the columns of ``figures._offers``' scan of the allocations."""
    o = AllocationMonthOffer
    return (
        select(o.offer_id, _baht(o.actual_s, "actual"), _baht(o.baseline_s, "baseline"), _baht(o.fees_s, "fees"),
               _baht(o.spend_s, "spend"), _baht(o.pooling_s, "pooling"), o.lines.label("groups"), o.allocated)
        .where(o.network_id == network_id, o.month.in_([name for name, _, _ in months]))
        .subquery("offer_totals")
    )


def _sum(column: Any) -> Any:
    """A sum of satang as a ``bigint`` (PostgreSQL's sum of bigints is ``numeric``, slower to read back)."""
    return cast(func.sum(column), BigInteger)


def groups(network_id: int, month: str) -> Any:
    """Per group for the month, one row each (``figures._group_totals``' three scans): joint buying's sums and
    the rounds joined, then as a buyer in the marketplace (spend, savings, purchases) and as a seller (gain,
    amount, sales); zeros where the group did nothing of a kind. Money as whole satang (plain integers: the
    caller turns thousands of them into baht without a type's processing per value)."""
    g, m = AllocationMonthGroup, MarketMonthGroup
    zero = literal(0, BigInteger)
    # The joint rows (one per round) and the marketplace row side by side, added up per group: a UNION ALL,
    # not a FULL JOIN (which SQLite has only since 3.39, and the embedded default may run on an older one).
    both = union_all(
        select(g.group_id.label("group_id"), g.spend_s.label("spend"), g.baseline_s.label("baseline"),
               g.actual_s.label("actual"), g.fees_s.label("fees"), g.pooling_s.label("pooling"),
               literal(1).label("rounds"), zero.label("bought_spend"), zero.label("bought_savings"),
               literal(0).label("bought"), zero.label("sold_gain"), zero.label("sold_amount"), literal(0).label("sold"))
        .where(g.network_id == network_id, g.month == month),
        select(m.group_id, zero, zero, zero, zero, zero, literal(0), m.bought_spend_s, m.bought_savings_s, m.bought,
               m.sold_gain_s, m.sold_amount_s, m.sold)
        .where(m.network_id == network_id, m.month == month),
    ).subquery("both")
    return (
        select(both.c.group_id, *[_sum(both.c[c]) for c in ("spend", "baseline", "actual", "fees", "pooling")],
               _sum(both.c.rounds), _sum(both.c.bought_spend), _sum(both.c.bought_savings), _sum(both.c.bought),
               _sum(both.c.sold_gain), _sum(both.c.sold_amount), _sum(both.c.sold))
        .group_by(both.c.group_id)
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
