"""A short delivery re-allocated over a purchase order's lines in one set-based statement.

``pricing.reallocate_shortage`` per offer (largest remainder over the combined allocations, ties to
the earlier ``placed_at``, then the lower line id), then ``pricing.split_fee`` of the purchase
order's fees over the new line values: the same rules, computed by the database for every line at
once in integer units and satang (exact on SQLite too) and written with one ``UPDATE ... FROM``
(the amount and savings follow from those, ``orders.models.Allocation``). Only lines whose figures
change are written. ``tests/integration/test_reallocation_sql.py`` compares it with ``pricing`` on random
receipts, on PostgreSQL and SQLite.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

import pricing
from core.db import db, is_postgres
from core.errors import Conflict, Msg
from orders.models import Allocation, PurchaseOrder

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
        # The numbering of the lines at a cut stays in memory.
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    # Lines worth nothing still share a fee rather than leaving it unpaid (pricing.split_fee): every line
    # then weighs 1, of as many as the order has lines.
    split = "none" if fee == 0 else ("even" if value == 0 else "value")
    if split == "even":
        value = db.session.scalar(select(func.count()).select_from(Allocation).where(
            Allocation.round_id == po.round_id, Allocation.purchase_order_id == po.id)) or 0
    db.session.execute(_statement(values, wide, split),
                       {"round_id": po.round_id, "po_id": po.id, "fee": fee, "value": value})


def _statement(values: str, wide: bool, split: str) -> Any:
    """One UPDATE of the order's allocations that change, each computed from its own row and its class.

    As in the combine (``orders.combine_sql``), the largest-remainder ranking is decided on classes of
    lines, not lines: per offer the lines counted by their combined allocation (their weight); the
    remainder where the units received run out (the cut); whether a class gets one more unit (all its
    lines, none, or line by line at the cut: only those lines are numbered, by ``placed_at`` then id).
    The fee split the same way over the classes of new line values, each class's fee floor and remainder
    worked out for both of its possible allocations. The UPDATE then scans the order's allocations once,
    each row joined to its class: no sort of every line, no second pass to match the rows to update.
    """
    big = "NUMERIC" if wide else "BIGINT"

    def div(a: str, b: str) -> str:
        return f"div({a}, {b})" if wide else f"({a}) / ({b})"

    def mod(a: str, b: str) -> str:
        return f"mod({a}, {b})" if wide else f"({a}) % ({b})"

    def standing(rem: str, cut: str) -> str:  # 1: one more for every line, 0: for none, 2: line by line
        return f"CASE WHEN {cut} IS NULL OR {rem} < {cut} THEN 0 WHEN {rem} > {cut} THEN 1 ELSE 2 END"

    mine = "a.round_id = :round_id AND a.purchase_order_id = :po_id"
    if split == "none":
        fee_steps, fee_columns = "", "0 AS ff0, 0 AS fs0, 0 AS ff1, 0 AS fs1"
    else:
        def fee_weight(alloc: str) -> str:  # pricing.split_fee weighs a line by its value in satang (or 1 each)
            return "1" if split == "even" else f"({alloc}) * r.price_s"

        def fee_floor(weight: str) -> str:
            return div(f"CAST(:fee AS {big}) * {weight}", ":value")

        def fee_rem(weight: str) -> str:
            return mod(f"CAST(:fee AS {big}) * {weight}", ":value")

        cut = "(SELECT cut_rem FROM fee_cut)"
        fee_columns = ", ".join(
            f"{fee_floor(fee_weight(alloc))} AS ff{b}, {standing(fee_rem(fee_weight(alloc)), cut)} AS fs{b}"
            for b, alloc in ((0, "k.share"), (1, "k.share + 1")))
        fee_steps = f"""
-- The fee split over the new line values (pricing.split_fee), the same way: the lines counted by value, from
-- the classes (the lines at the cut one by one); the remainder where the satang left run out.
fee_classes AS (
  SELECT {fee_floor("fw")} AS fee_floor, {fee_rem("fw")} AS fee_rem, sum(n) AS n
  FROM (SELECT {fee_weight("x.alloc")} AS fw, x.n
        FROM (SELECT offer_id, share + standing AS alloc, n FROM classes WHERE standing < 2
              UNION ALL
              SELECT offer_id, share + CASE WHEN k <= take THEN 1 ELSE 0 END, 1 FROM cut_lines) x
        JOIN r ON r.offer_id = x.offer_id) y
  GROUP BY fw
),
fee_ranks AS (
  SELECT fee_rem, n,
         sum(n) OVER (ORDER BY fee_rem DESC ROWS UNBOUNDED PRECEDING) - n AS ranked_before,
         :fee - sum(floors) OVER () AS satang_left
  FROM (SELECT fee_rem, sum(n) AS n, sum(n * fee_floor) AS floors FROM fee_classes GROUP BY fee_rem) q
),
fee_cut AS (
  SELECT fee_rem AS cut_rem, satang_left - ranked_before AS take
  FROM fee_ranks WHERE ranked_before < satang_left AND satang_left <= ranked_before + n
),"""
    # A row's extra unit: its class's standing, or at the cut whether it is among the winners.
    bonus = ("CASE WHEN k.standing = 2 THEN CASE WHEN {t}.order_line_id IN (SELECT order_line_id FROM winners) "
             "THEN 1 ELSE 0 END ELSE k.standing END")
    # A row's fee share: its class's fee floor for that allocation, plus one above the fee cut or among its winners.
    fee = ("CASE WHEN {bonus} = 1 THEN k.ff1 + {extra1} ELSE k.ff0 + {extra0} END")
    extra = ("CASE WHEN k.fs{b} = 2 THEN CASE WHEN {t}.order_line_id IN (SELECT order_line_id FROM fee_winners) "
             "THEN 1 ELSE 0 END ELSE k.fs{b} END")

    def row_fee(t: str) -> str:
        return fee.format(bonus=bonus.format(t=t), extra0=extra.format(b=0, t=t), extra1=extra.format(b=1, t=t))

    fee_cut_lines = "" if split == "none" else f""",
-- Only the lines at the fee cut are numbered: the earlier placed_at, then the lower line id.
fee_cut_lines AS (
  SELECT a.order_line_id, row_number() OVER (ORDER BY l.placed_at, a.order_line_id) AS k
  FROM class_fees k JOIN allocations a ON a.offer_id = k.offer_id AND a.ordered_allocation = k.w
  JOIN order_lines l ON l.id = a.order_line_id AND l.offer_id = a.offer_id
  WHERE {mine} AND (k.fs0 = 2 OR k.fs1 = 2)
    AND CASE WHEN {bonus.format(t="a")} = 1 THEN k.fs1 ELSE k.fs0 END = 2
),
fee_winners AS (SELECT order_line_id FROM fee_cut_lines WHERE k <= (SELECT take FROM fee_cut))"""
    alloc = f"k.share + {bonus.format(t='allocations')}"
    new_fee = "0" if split == "none" else row_fee("allocations")
    return text(f"""
WITH r (offer_id, received, w_total, price_s) AS (VALUES {values}),

-- pricing.reallocate_shortage per offer short (largest remainder over the allocations as combined): the order's
-- allocations counted by weight per offer, each class's floor and remainder (an offer in full keeps its own).
weight_classes AS (
  SELECT x.offer_id, x.w, x.n,
         CASE WHEN r.received < r.w_total THEN {div(f"CAST(r.received AS {big}) * x.w", "r.w_total")}
              ELSE x.w END AS share,
         CASE WHEN r.received < r.w_total THEN {mod(f"CAST(r.received AS {big}) * x.w", "r.w_total")}
              ELSE 0 END AS rem
  FROM (SELECT a.offer_id, a.ordered_allocation AS w, count(*) AS n FROM allocations a WHERE {mine}
        GROUP BY a.offer_id, a.ordered_allocation) x
  JOIN r ON r.offer_id = x.offer_id
),
-- The remainders ranked per offer, largest first: the cut where the units left run out, and how many of the
-- lines there still get one.
remainder_ranks AS (
  SELECT q.offer_id, q.rem, q.n,
         sum(q.n) OVER (PARTITION BY q.offer_id ORDER BY q.rem DESC ROWS UNBOUNDED PRECEDING) - q.n AS ranked_before,
         CASE WHEN r.received < r.w_total THEN r.received - sum(q.floors) OVER (PARTITION BY q.offer_id)
              ELSE 0 END AS units_left
  FROM (SELECT offer_id, rem, sum(n) AS n, sum(n * share) AS floors FROM weight_classes GROUP BY offer_id, rem) q
  JOIN r ON r.offer_id = q.offer_id
),
remainder_cuts AS (
  SELECT offer_id, rem AS cut_rem, units_left - ranked_before AS take
  FROM remainder_ranks WHERE ranked_before < units_left AND units_left <= ranked_before + n
),
classes AS (
  SELECT w.offer_id, w.w, w.n, w.share, {standing("w.rem", "c.cut_rem")} AS standing, c.take
  FROM weight_classes w LEFT JOIN remainder_cuts c ON c.offer_id = w.offer_id
),
-- Only the lines at the cut are numbered: the earlier placed_at, then the lower line id.
cut_lines AS (
  SELECT a.offer_id, a.order_line_id, k.share, k.take,
         row_number() OVER (PARTITION BY a.offer_id ORDER BY l.placed_at, a.order_line_id) AS k
  FROM classes k JOIN allocations a ON a.offer_id = k.offer_id AND a.ordered_allocation = k.w
  JOIN order_lines l ON l.id = a.order_line_id AND l.offer_id = a.offer_id
  WHERE k.standing = 2 AND {mine}
),
winners AS (SELECT order_line_id FROM cut_lines WHERE k <= take),{fee_steps}
-- Per class: its allocation's floor and standing, and for either allocation its fee floor and fee standing.
class_fees AS (
  SELECT k.offer_id, k.w, k.share, k.standing, {fee_columns}
  FROM classes k JOIN r ON r.offer_id = k.offer_id
){fee_cut_lines}

-- Each allocation of the order from its own row and its class; only the lines whose figures change are written.
UPDATE allocations
SET allocated = {alloc}, fee_share_satang = {new_fee}
FROM class_fees k
WHERE allocations.round_id = :round_id AND allocations.purchase_order_id = :po_id
  AND k.offer_id = allocations.offer_id AND k.w = allocations.ordered_allocation
  AND (allocations.allocated <> {alloc} OR allocations.fee_share_satang <> {new_fee})
""")
