"""Per-month roll-ups of the allocations, kept in the transaction of the write that changes them.

An allocation counts in the monthly summary in the month (network's time zone, ``core.periods``) in which
its purchase order was received. A purchase order is received once (``orders.delivery.record_receipt``,
which refuses a second receipt) and its allocations never change afterwards; before its receipt they count
in no month. So the receipt is the one write that changes these figures, and it adds its purchase order's
allocations, in its own transaction, with ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`` into
two tables (on PostgreSQL one statement: the order's allocations read once, both sums by ``GROUPING SETS``):

* ``allocation_month_offers``: one row per offer (an offer is on one purchase order): what the summary's
  product lines and each month's network figures add up;
* ``allocation_month_groups``: per (month, group, round): what each group's line adds up, and how many
  rounds it joined that month.

The combine writes allocations of purchase orders not yet received: no month's figures change, and it
does not call this module (doing so would only cost it a statement).

Money is integer satang (``bigint``), exact. The scan in ``reports.figures`` (``compute_summary(...,
scan=True)``) is the reference: ``tests/integration/test_rollups.py`` proves the two equal to the satang.
``rebuild`` recomputes a network's rows from its allocations (a changed time zone moves months; the
migration's backfill does the same).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, text

from core import periods
from core.db import db, is_postgres
from network.models import Network
from orders.models import (
    AllocationMonthGroup,
    AllocationMonthOffer,
    BuyingRound,
    PurchaseOrder,
    allocation_amount_sql,
)

FIGURES = ("actual_s", "baseline_s", "fees_s", "spend_s", "pooling_s", "allocated", "lines")


def allocation_figures(postgres: bool) -> str:
    """The one place that reads the allocations' figures by column name: the roll-ups' sums over ``a``.

    What each adds (the same as the scan's ``reports.figure_sql.allocation_sums``): at the price reached,
    at the reference price, the fees, what was paid, the pooling gain (allocated × (alone price − price
    reached)), units and lines. The allocations hold integer satang (migration combine1), so every sum is a
    ``bigint`` sum of satang on PostgreSQL and SQLite alike; the amount is ``Allocation.amount`` spelled in
    SQL (``orders.models.allocation_amount_sql``)."""
    def total(expr: str) -> str:
        return f"sum({expr})"
    price, reference, alone, fee = ("coalesce(a.unit_price_satang, 0)", "a.reference_price_satang",
                                    "a.alone_price_satang", "a.fee_share_satang")
    amount = allocation_amount_sql("a")
    return ", ".join([
        f"{total(f'a.allocated * {price}')} AS actual_s",
        f"{total(f'a.allocated * {reference}')} AS baseline_s",
        f"{total(fee)} AS fees_s",
        f"{total(amount)} AS spend_s",
        f"{total(f'a.allocated * ({alone} - {price})')} AS pooling_s",
        "sum(a.allocated) AS allocated",
        "count(*) AS lines",
    ])


def _statements(postgres: bool) -> tuple[Any, ...]:
    figures = allocation_figures(postgres)
    columns = ", ".join(FIGURES)
    where = "WHERE a.round_id = :round_id AND a.purchase_order_id = :po_id"
    if postgres:
        # One read of the order's allocations, both sums at once (GROUPING SETS), both tables written.
        return (text(f"""
WITH sums AS MATERIALIZED (
  SELECT a.offer_id, a.group_id, a.round_id, GROUPING(a.offer_id) AS per_group, {figures}
  FROM allocations a {where}
  GROUP BY GROUPING SETS ((a.offer_id), (a.group_id, a.round_id))
), offers AS (
  INSERT INTO allocation_month_offers (offer_id, network_id, month, purchase_order_id, {columns})
  SELECT s.offer_id, :network_id, :month, :po_id, {", ".join(f"s.{c}" for c in FIGURES)} FROM sums s WHERE s.per_group = 0
  ON CONFLICT (offer_id) DO UPDATE SET network_id = excluded.network_id, month = excluded.month,
    purchase_order_id = excluded.purchase_order_id, {", ".join(f"{c} = excluded.{c}" for c in FIGURES)}
)
INSERT INTO allocation_month_groups (network_id, month, group_id, round_id, {columns})
SELECT :network_id, :month, s.group_id, s.round_id, {", ".join(f"s.{c}" for c in FIGURES)} FROM sums s
WHERE s.per_group = 1
ON CONFLICT (network_id, month, group_id, round_id) DO UPDATE SET
  {", ".join(f"{c} = allocation_month_groups.{c} + excluded.{c}" for c in FIGURES)}"""),)
    offers = text(f"""
INSERT INTO allocation_month_offers (offer_id, network_id, month, purchase_order_id, {columns})
SELECT a.offer_id, :network_id, :month, :po_id, {figures}
FROM allocations a {where}
GROUP BY a.offer_id
ON CONFLICT (offer_id) DO UPDATE SET network_id = excluded.network_id, month = excluded.month,
  purchase_order_id = excluded.purchase_order_id, {", ".join(f"{c} = excluded.{c}" for c in FIGURES)}""")
    groups = text(f"""
INSERT INTO allocation_month_groups (network_id, month, group_id, round_id, {columns})
SELECT :network_id, :month, a.group_id, a.round_id, {figures}
FROM allocations a {where}
GROUP BY a.group_id, a.round_id
ON CONFLICT (network_id, month, group_id, round_id) DO UPDATE SET
  {", ".join(f"{c} = allocation_month_groups.{c} + excluded.{c}" for c in FIGURES)}""")
    return offers, groups


def _add(network_id: int, month: str, round_id: int, po_id: int) -> None:
    params = {"network_id": network_id, "month": month, "round_id": round_id, "po_id": po_id}
    for statement in _statements(is_postgres()):
        db.session.execute(statement, params)


def count_receipt(purchase_order_id: int) -> None:
    """Add a purchase order just received (its ``received_at`` flushed, its allocations final) to the month
    of its receipt. Called by ``record_receipt`` in its transaction, after its allocation writes."""
    row = db.session.execute(
        select(PurchaseOrder.round_id, PurchaseOrder.received_at, BuyingRound.network_id, Network.timezone)
        .join(BuyingRound, BuyingRound.id == PurchaseOrder.round_id)
        .join(Network, Network.id == BuyingRound.network_id)
        .where(PurchaseOrder.id == purchase_order_id)).one()
    if row.received_at is None:
        return
    _add(row.network_id, periods.month_of(periods.zone(row.timezone), row.received_at), row.round_id,
         purchase_order_id)


def rebuild(network_id: int) -> int:
    """The network's roll-ups recomputed from its allocations, in the caller's transaction: every purchase
    order received, by the same statements as its receipt. Returns how many purchase orders were counted."""
    db.session.execute(delete(AllocationMonthOffer).where(AllocationMonthOffer.network_id == network_id))
    db.session.execute(delete(AllocationMonthGroup).where(AllocationMonthGroup.network_id == network_id))
    timezone = db.session.scalar(select(Network.timezone).where(Network.id == network_id))
    tz = periods.zone(timezone)
    received = db.session.execute(
        select(PurchaseOrder.id, PurchaseOrder.round_id, PurchaseOrder.received_at)
        .join(BuyingRound, BuyingRound.id == PurchaseOrder.round_id)
        .where(BuyingRound.network_id == network_id, PurchaseOrder.received_at.is_not(None))
        .order_by(PurchaseOrder.id)).all()
    for po_id, round_id, received_at in received:
        _add(network_id, periods.month_of(tz, received_at), round_id, po_id)
    return len(received)


def on_timezone_changed(_sender: object = None, *, network_id: int) -> None:
    """``core.events.network_timezone_changed``: the months move, so the roll-ups are rebuilt (same transaction)."""
    rebuild(network_id)
