"""A short delivery re-allocated over a purchase order's lines in one set-based statement.

``pricing.reallocate_shortage`` per offer (largest remainder over the combined allocations, ties to
the earlier ``placed_at``, then the lower line id), then ``pricing.split_fee`` of the purchase
order's fees over the new line values, then ``pricing.line_amount`` and ``line_savings``: the same
rules, computed by the database for every line at once in integer units and satang (exact on
SQLite too) and written with one ``UPDATE ... FROM``. Only lines whose figures change are
written. ``tests/integration/test_reallocation_sql.py`` compares it with ``pricing`` on random
receipts, on PostgreSQL and SQLite.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text

import pricing
from core.db import db
from core.errors import Conflict, Msg
from orders.models import PurchaseOrder

_INT64 = 2**63 - 1


def reallocate_shortage(po: PurchaseOrder, received: dict[int, int]) -> None:
    """Offer id -> units received, for every offer of ``po``; an offer that is short is re-shared."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    fee = pricing.to_satang(po.delivery_fee + po.network_fee)
    # The largest product is the fee times the order's value in satang (both bounded by the order).
    value = sum((pricing.to_satang(ln.unit_price) * ln.ordered_quantity for ln in po.lines
                 if ln.unit_price is not None), 0)
    wide = fee * max(value, len(po.lines), 1) > _INT64 or any(
        q * ln.ordered_quantity > _INT64 for ln in po.lines for q in [received[ln.offer_id]])
    if wide and not postgres:
        raise Conflict(Msg("These amounts are too large for the embedded database; run on PostgreSQL.",
                           "amounts_too_large"))
    values = ", ".join(f"({int(o)}, {int(q)})" for o, q in sorted(received.items()))
    db.session.execute(_statement(values, postgres, wide),
                       {"round_id": po.round_id, "po_id": po.id, "fee": fee})


def _statement(values: str, postgres: bool, wide: bool) -> Any:
    big = "NUMERIC" if wide else "BIGINT"
    div = (lambda a, b: f"div({a}, {b})") if wide else (lambda a, b: f"({a}) / ({b})")
    mod = (lambda a, b: f"mod({a}, {b})") if wide else (lambda a, b: f"({a}) % ({b})")
    money = "({}) * 0.01" if postgres else "({}) / 100.0"
    satang = "CAST(round(({}) * 100) AS BIGINT)" if postgres else "CAST(round(({}) * 100) AS INTEGER)"
    share = div(f"CAST(x.received AS {big}) * x.w", "x.w_total")
    rem = mod(f"CAST(x.received AS {big}) * x.w", "x.w_total")
    fee_w = f"CASE WHEN z.even = 1 THEN 1 ELSE CAST(z.alloc AS {big}) * z.price_s END"
    fee_base = div(f"CAST(:fee AS {big}) * ({fee_w})", "z.fee_total")
    fee_rem = mod(f"CAST(:fee AS {big}) * ({fee_w})", "z.fee_total")
    return text(f"""
WITH r (offer_id, received) AS (VALUES {values}),
k AS (
  -- Per offer: Σ combined allocation (the weights), its price; per order: Σ value after receipt.
  SELECT a.offer_id, sum(a.ordered_allocation) AS w_total, count(*) AS n,
         max({satang.format("coalesce(a.unit_price, 0)")}) AS price_s
  FROM allocations a WHERE a.round_id = :round_id AND a.purchase_order_id = :po_id GROUP BY a.offer_id
),
o AS (
  SELECT CAST(sum(k.n) AS BIGINT) AS n,
         CAST(sum(CAST(k.price_s AS {big}) * CASE WHEN r.received < k.w_total THEN r.received ELSE k.w_total END)
              AS {big}) AS value_s
  FROM k JOIN r ON r.offer_id = k.offer_id
)
UPDATE allocations
SET allocated = s.alloc, fee_share = {money.format("s.fee_s")},
    amount = {money.format("s.alloc * s.price_s + s.fee_s")},
    savings = {money.format("s.alloc * (s.ref_s - s.price_s) - s.fee_s")}
FROM (
  SELECT z.group_id, z.order_line_id, z.alloc, z.price_s, z.ref_s,
         CASE WHEN :fee = 0 THEN 0
              ELSE {fee_base} + CASE WHEN row_number() OVER f <= :fee - sum({fee_base}) OVER f THEN 1 ELSE 0 END
         END AS fee_s
  FROM (
    SELECT y.group_id, y.order_line_id, y.placed_at, y.price_s, y.ref_s,
           CASE WHEN y.short = 0 THEN y.w
                ELSE y.share + CASE WHEN row_number() OVER a <= y.received - sum(y.share) OVER a THEN 1 ELSE 0 END
           END AS alloc,
           CASE WHEN o.value_s = 0 THEN 1 ELSE 0 END AS even,
           CASE WHEN o.value_s = 0 THEN o.n ELSE o.value_s END AS fee_total
    FROM (
      SELECT x.group_id, x.order_line_id, x.offer_id, x.placed_at, x.w, x.received, x.price_s, x.ref_s,
             CASE WHEN x.received < x.w_total THEN 1 ELSE 0 END AS short,
             CASE WHEN x.received < x.w_total THEN {share} ELSE 0 END AS share,
             CASE WHEN x.received < x.w_total THEN {rem} ELSE 0 END AS rem
      FROM (
        SELECT a.group_id, a.order_line_id, a.offer_id, l.placed_at, a.ordered_allocation AS w, r.received,
               k.w_total, k.price_s, {satang.format("a.reference_price")} AS ref_s
        FROM allocations a
        JOIN r ON r.offer_id = a.offer_id
        JOIN k ON k.offer_id = a.offer_id
        JOIN order_lines l ON l.id = a.order_line_id
        WHERE a.round_id = :round_id AND a.purchase_order_id = :po_id
      ) x
    ) y
    CROSS JOIN o
    WINDOW a AS (PARTITION BY y.offer_id ORDER BY y.rem DESC, y.placed_at, y.order_line_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ) z
  WINDOW f AS (ORDER BY {fee_rem} DESC, z.placed_at, z.order_line_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
) s
WHERE allocations.round_id = :round_id AND allocations.group_id = s.group_id
  AND allocations.order_line_id = s.order_line_id
  AND (allocations.allocated <> s.alloc OR {satang.format("allocations.fee_share")} <> s.fee_s)
""")
