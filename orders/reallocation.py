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
from core.db import db, is_postgres
from core.errors import Conflict, Msg
from orders.models import PurchaseOrder

_INT64 = 2**63 - 1


def reallocate_shortage(po: PurchaseOrder, received: dict[int, int]) -> None:
    """Offer id -> units received, for every offer of ``po``; an offer that is short is re-shared.

    Per offer the weights add up to its ordered quantity and every line has its unit price (both as
    combined), so the order's value after the receipt, which weighs the fee split, is known here:
    the statement reads only the order's allocations and their lines' ``placed_at``.
    """
    postgres = is_postgres()
    fee = pricing.to_satang(po.delivery_fee + po.network_fee)
    rows = []
    value = 0
    for ln in po.lines:
        price = pricing.to_satang(ln.unit_price) if ln.unit_price is not None else 0
        rows.append((ln.offer_id, received[ln.offer_id], ln.ordered_quantity, price))
        value += price * min(received[ln.offer_id], ln.ordered_quantity)
    wide = fee * max(value, 1) > _INT64 or any(q * w > _INT64 for _, q, w, _ in rows)
    if wide and not postgres:
        raise Conflict(Msg("These amounts are too large for the embedded database; run on PostgreSQL.",
                           "amounts_too_large"))
    values = ", ".join(f"({o}, {q}, {w}, {p})" for o, q, w, p in sorted(rows))
    if postgres:
        # The two window sorts of a large order stay in memory.
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    # Lines worth nothing still share a fee rather than leaving it unpaid (pricing.split_fee).
    split = "none" if fee == 0 else ("even" if value == 0 else "value")
    db.session.execute(_statement(values, postgres, wide, split),
                       {"round_id": po.round_id, "po_id": po.id, "fee": fee, "value": value})


def _statement(values: str, postgres: bool, wide: bool, split: str) -> Any:
    big = "NUMERIC" if wide else "BIGINT"

    def div(a: str, b: str) -> str:
        return f"div({a}, {b})" if wide else f"({a}) / ({b})"

    def mod(a: str, b: str) -> str:
        return f"mod({a}, {b})" if wide else f"({a}) % ({b})"

    share = div(f"CAST(x.received AS {big}) * x.w", "x.w_total")
    rem = mod(f"CAST(x.received AS {big}) * x.w", "x.w_total")
    if split == "none":
        fee_s, order = "0", "z.placed_at"
    elif split == "even":  # every line weighs 1: F // n each, one more for the first F % n
        fee_s = "(:fee / count(*) OVER f) + CASE WHEN row_number() OVER f <= :fee % count(*) OVER f THEN 1 ELSE 0 END"
        order = "z.placed_at"
    else:  # by line value in satang, of the order's value V
        fee_base = div(f"CAST(:fee AS {big}) * z.alloc * z.price_s", ":value")
        fee_s = f"{fee_base} + CASE WHEN row_number() OVER f <= :fee - sum({fee_base}) OVER f THEN 1 ELSE 0 END"
        order = mod(f"CAST(:fee AS {big}) * z.alloc * z.price_s", ":value") + " DESC, z.placed_at"
    return text(f"""
WITH r (offer_id, received, w_total, price_s) AS (VALUES {values})
UPDATE allocations
SET allocated = s.alloc, fee_share_satang = s.fee_s
FROM (
  SELECT z.group_id, z.order_line_id, z.alloc, {fee_s} AS fee_s
  FROM (
    SELECT y.group_id, y.order_line_id, y.placed_at, y.price_s,
           CASE WHEN y.short = 0 THEN y.w
                ELSE y.share + CASE WHEN row_number() OVER a <= y.received - sum(y.share) OVER a THEN 1 ELSE 0 END
           END AS alloc
    FROM (
      SELECT x.group_id, x.order_line_id, x.offer_id, x.placed_at, x.w, x.received, x.price_s,
             CASE WHEN x.received < x.w_total THEN 1 ELSE 0 END AS short,
             CASE WHEN x.received < x.w_total THEN {share} ELSE 0 END AS share,
             CASE WHEN x.received < x.w_total THEN {rem} ELSE 0 END AS rem
      FROM (
        SELECT a.group_id, a.order_line_id, a.offer_id, l.placed_at, a.ordered_allocation AS w, r.received,
               r.w_total, r.price_s
        FROM allocations a
        JOIN r ON r.offer_id = a.offer_id
        JOIN order_lines l ON l.id = a.order_line_id AND l.offer_id = a.offer_id
        WHERE a.round_id = :round_id AND a.purchase_order_id = :po_id
      ) x
    ) y
    WINDOW a AS (PARTITION BY y.offer_id ORDER BY y.rem DESC, y.placed_at, y.order_line_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ) z
  WINDOW f AS (ORDER BY {order}, z.order_line_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
) s
WHERE allocations.round_id = :round_id AND allocations.group_id = s.group_id
  AND allocations.order_line_id = s.order_line_id
  AND (allocations.allocated <> s.alloc OR allocations.fee_share_satang <> s.fee_s)
""")
