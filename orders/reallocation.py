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
    """One UPDATE of the order's allocations that change, each computed from its own row.

    As in the combine (``orders.combine_sql``), the largest-remainder ranking is decided on classes of
    lines: per offer the lines counted by their combined allocation (their weight), the remainder where
    the units received run out (the cut) and, numbered by ``placed_at`` then id, only the lines at the
    cut; the fee split likewise over the classes of new line values. The UPDATE then scans the order's
    allocations once and computes each row's new figures from its offer's constants and the two short
    lists of lines at a cut that get one more: no sort of every line, no second pass to match the rows.
    """
    big = "NUMERIC" if wide else "BIGINT"

    def div(a: str, b: str) -> str:
        return f"div({a}, {b})" if wide else f"({a}) / ({b})"

    def mod(a: str, b: str) -> str:
        return f"mod({a}, {b})" if wide else f"({a}) % ({b})"

    def share(w: str) -> str:  # pricing.reallocate_shortage: floor of received × w / Σ w ...
        return div(f"CAST(r.received AS {big}) * {w}", "r.w_total")

    def rem(w: str) -> str:  # ... and its remainder
        return mod(f"CAST(r.received AS {big}) * {w}", "r.w_total")

    mine = "a.round_id = :round_id AND a.purchase_order_id = :po_id"
    # A line's new allocation, for a row ``t`` of allocations joined to its offer's ``r`` and cut ``c``: its
    # combined allocation when the offer came in full, else its floor, plus one above the cut or among the
    # lines at the cut that win one.
    def new_alloc(t: str) -> str:
        w = f"{t}.ordered_allocation"
        return (f"(CASE WHEN r.received < r.w_total THEN {share(w)} + CASE WHEN {rem(w)} > c.cut_rem "
                f"OR {t}.order_line_id IN (SELECT order_line_id FROM winners) THEN 1 ELSE 0 END ELSE {w} END)")

    def fee_weight(t: str) -> str:  # pricing.split_fee weighs a line by its value in satang (or 1 each)
        return "1" if split == "even" else f"({new_alloc(t)} * r.price_s)"

    fee_floor = div(f"CAST(:fee AS {big}) * {{}}", ":value")
    fee_rem = mod(f"CAST(:fee AS {big}) * {{}}", ":value")
    if split == "none":
        fee_steps = ""
        new_fee = "0"
    else:
        fee_steps = f"""
-- The fee split over the new line values (pricing.split_fee), the same way: the lines counted by value, from the
-- classes above; the remainder where the satang left run out; only the lines at that cut numbered.
allocation_classes AS (
  SELECT w.offer_id, w.share + CASE WHEN w.rem > c.cut_rem THEN 1 ELSE 0 END AS alloc, w.n
  FROM weight_classes w LEFT JOIN remainder_cuts c ON c.offer_id = w.offer_id
  WHERE c.cut_rem IS NULL OR w.rem <> c.cut_rem
  UNION ALL
  SELECT offer_id, share + CASE WHEN k <= take THEN 1 ELSE 0 END, 1 FROM cut_lines
),
fee_classes AS (
  SELECT fee_floor, fee_rem, sum(n) AS n
  FROM (SELECT {fee_floor.format("fw")} AS fee_floor, {fee_rem.format("fw")} AS fee_rem, n
        FROM (SELECT {"1" if split == "even" else "x.alloc * r.price_s"} AS fw, x.n
              FROM allocation_classes x JOIN r ON r.offer_id = x.offer_id) y) z
  GROUP BY fee_floor, fee_rem
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
),
fee_cut_lines AS (
  SELECT x.order_line_id, f.take, row_number() OVER (ORDER BY l.placed_at, x.order_line_id) AS k
  FROM (SELECT a.order_line_id, a.offer_id, {fee_weight("a")} AS fw
        FROM allocations a JOIN r ON r.offer_id = a.offer_id LEFT JOIN remainder_cuts c ON c.offer_id = a.offer_id
        WHERE {mine}) x
  JOIN fee_cut f ON {fee_rem.format("x.fw")} = f.cut_rem
  JOIN order_lines l ON l.id = x.order_line_id AND l.offer_id = x.offer_id
),
fee_winners AS (SELECT order_line_id FROM fee_cut_lines WHERE k <= take),"""
        weight = fee_weight("allocations")
        new_fee = (f"({fee_floor.format(weight)} + CASE WHEN {fee_rem.format(weight)} > (SELECT cut_rem FROM fee_cut) "
                   "OR allocations.order_line_id IN (SELECT order_line_id FROM fee_winners) THEN 1 ELSE 0 END)")
    alloc = new_alloc("allocations")
    return text(f"""
WITH r (offer_id, received, w_total, price_s) AS (VALUES {values}),

-- pricing.reallocate_shortage per offer short (largest remainder over the allocations as combined): the order's
-- allocations counted by weight per offer, each class's floor and remainder (an offer in full keeps its own).
weight_classes AS (
  SELECT x.offer_id, x.n,
         CASE WHEN r.received < r.w_total THEN {share("x.w")} ELSE x.w END AS share,
         CASE WHEN r.received < r.w_total THEN {rem("x.w")} ELSE 0 END AS rem
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
-- Only the lines at the cut are numbered: the earlier placed_at, then the lower line id.
cut_lines AS (
  SELECT a.offer_id, a.order_line_id, {share("a.ordered_allocation")} AS share, c.take,
         row_number() OVER (PARTITION BY a.offer_id ORDER BY l.placed_at, a.order_line_id) AS k
  FROM allocations a JOIN r ON r.offer_id = a.offer_id JOIN remainder_cuts c ON c.offer_id = a.offer_id
  JOIN order_lines l ON l.id = a.order_line_id AND l.offer_id = a.offer_id
  WHERE {mine} AND {rem("a.ordered_allocation")} = c.cut_rem
),
winners AS (SELECT order_line_id FROM cut_lines WHERE k <= take),{fee_steps}
done AS (SELECT 1)

-- Each allocation of the order computed from its own row; only the lines whose figures change are written.
UPDATE allocations
SET allocated = {alloc}, fee_share_satang = {new_fee}
FROM r LEFT JOIN remainder_cuts c ON c.offer_id = r.offer_id
WHERE allocations.round_id = :round_id AND allocations.purchase_order_id = :po_id
  AND r.offer_id = allocations.offer_id
  AND (allocations.allocated <> {alloc} OR allocations.fee_share_satang <> {new_fee})
""")
