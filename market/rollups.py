"""Per-month roll-ups of the marketplace, kept in the transaction of the delivery that changes them.

A marketplace purchase counts in the monthly summary in the month (network's time zone,
``core.periods``) in which it was delivered. ``market.services.deliver_purchase`` is the one write that
makes a purchase delivered, and a delivered purchase never changes again (it can no longer be cancelled);
so the delivery adds its purchase to ``market_month_groups`` — the buyer's row (spend, saving, count) and the
seller's (income gain, amount, count) — with one ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE``.

Money is integer satang (``bigint``), exact. The scan in ``reports.figures`` is the reference
(``tests/integration/test_rollups.py``). ``rebuild`` recomputes a network's rows (a changed time zone).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, select, text

from core import periods
from core.db import UTCDateTime, db, is_postgres
from market.models import MarketMonthGroup, Purchase
from network.models import Network


def purchase_figures(postgres: bool) -> tuple[str, str, str]:
    """The one place that reads a purchase's figures by column name, per row of ``p``, in satang: what was paid,
    the buyer's saving and the seller's income gain (stored at delivery; for a row without them the same
    formulas as ``pricing.marketplace``, as the scan's ``reports.figure_sql.delivered_purchases``)."""
    def satang(expr: str) -> str:
        return f"CAST(({expr}) * 100 AS BIGINT)" if postgres else f"CAST(round(({expr}) * 100) AS INTEGER)"
    saving = "coalesce(p.buyer_saving, p.quantity * (coalesce(p.reference_price, p.unit_price) - p.unit_price))"
    gain = ("coalesce(p.income_gain, CASE WHEN p.outside_price IS NULL THEN 0 "
            "ELSE p.quantity * (p.unit_price - p.outside_price) END)")
    return satang("p.amount"), satang(saving), satang(gain)


def _statement(postgres: bool, where: str) -> Any:
    amount, saving, gain = purchase_figures(postgres)
    figures = ("bought_spend_s", "bought_savings_s", "bought", "sold_gain_s", "sold_amount_s", "sold")
    return text(f"""
INSERT INTO market_month_groups (network_id, month, group_id, {", ".join(figures)})
SELECT x.network_id, :month, x.group_id, {", ".join(f"sum(x.{c})" for c in figures)}
FROM (
  SELECT p.network_id, p.buyer_group_id AS group_id, {amount} AS bought_spend_s, {saving} AS bought_savings_s,
         1 AS bought, 0 AS sold_gain_s, 0 AS sold_amount_s, 0 AS sold
  FROM market_purchases p WHERE p.state = 'delivered' AND {where}
  UNION ALL
  SELECT p.network_id, p.seller_group_id, 0, 0, 0, {gain}, {amount}, 1
  FROM market_purchases p WHERE p.state = 'delivered' AND {where}
) x
WHERE true
GROUP BY x.network_id, x.group_id
ON CONFLICT (network_id, month, group_id) DO UPDATE SET
  {", ".join(f"{c} = market_month_groups.{c} + excluded.{c}" for c in figures)}""")


def count_delivery(purchase_id: int) -> None:
    """Add a purchase just delivered (state and ``delivered_at`` written) to the month of its delivery.
    Called by ``deliver_purchase`` in its transaction, after its write."""
    row = db.session.execute(
        select(Purchase.delivered_at, Network.timezone).join(Network, Network.id == Purchase.network_id)
        .where(Purchase.id == purchase_id, Purchase.state == "delivered")).one_or_none()
    if row is None or row.delivered_at is None:
        return
    db.session.execute(_statement(is_postgres(), "p.id = :purchase_id"),
                       {"month": periods.month_of(periods.zone(row.timezone), row.delivered_at),
                        "purchase_id": purchase_id})


def rebuild(network_id: int) -> int:
    """The network's roll-ups recomputed from its delivered purchases, one statement per month, in the caller's
    transaction. Returns how many months were counted."""
    db.session.execute(delete(MarketMonthGroup).where(MarketMonthGroup.network_id == network_id))
    first, last = db.session.execute(
        select(func.min(Purchase.delivered_at), func.max(Purchase.delivered_at))
        .where(Purchase.network_id == network_id, Purchase.state == "delivered")).one()
    if first is None:
        return 0
    timezone = db.session.scalar(select(Network.timezone).where(Network.id == network_id))
    months = periods.spanning(periods.zone(timezone), first, last)
    statement = _statement(is_postgres(), "p.network_id = :network_id AND p.delivered_at >= :start "
                                          "AND p.delivered_at < :end").bindparams(
        bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))
    for label, start, end in months:
        db.session.execute(statement, {"month": label, "network_id": network_id, "start": start, "end": end})
    return len(months)


def on_timezone_changed(_sender: object = None, *, network_id: int) -> None:
    """``core.events.network_timezone_changed``: the months move, so the roll-ups are rebuilt (same transaction)."""
    rebuild(network_id)
