"""The combine's one statement: every line's allocation and fee share, written in the lines' own order.

``orders.combine`` works out per offer, in Python, the pack rounding, the tier and the fees
(``pricing``); this statement then applies the largest-remainder rule to every line of the round at
once and inserts the allocations. Per line with weight w of W (quantity of Σ quantity when short,
tolerance of Σ tolerance when there is a surplus), of A units to share: floor(A*w/W), plus one for the
lines ranked within the A - Σ floor left over by remainder (A*w) mod W descending, then the earlier
``placed_at``, then the lower id. The fee (F satang) follows the same rule over line values in satang
per purchase order. Integer units and satang throughout, so SQLite is exact too.

**No sort of the lines.** A line's remainder depends only on its weight, and a round's lines have few
distinct weights, so the ranking is decided on *classes* of lines, not lines: per offer, the lines are
counted by weight (one hash aggregate); the classes, ranked by remainder, show the one remainder where
the units left run out (the *cut*) and how many of its lines still get one. Every line above the cut
gets one, every line below none; only the lines *at* the cut are numbered by (``placed_at``, id), and
the last one to get a unit is kept as a threshold. The fee split is the same twice over: its classes
are line values per purchase order, counted from the allocation classes. The final pass reads the
lines once more and compares each with its offer's and its order's thresholds, so the rows are written
in the order the lines are read, without the two window sorts of a million lines this replaced (nor a
third to write in key order). Where every line of an offer has the same weight the cut class is the
whole offer, and the numbering is the old sort; the result is the same either way.

Each named step below is headed by the rule it applies and the ``pricing`` function it must equal;
``tests/integration/test_combine_sql.py`` checks the whole against those functions on random rounds.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text


def allocation_sql(constants: list[tuple[int | None, ...]], wide: bool, depth: int) -> Any:
    """The INSERT ... SELECT of every allocation; bind ``round_id``.

    ``constants``: per offer (offer id, purchase order id, surplus, units to share, their weight, price,
    reference price, fee of its order, the order's fee weight, even, ordered, then ``depth`` pairs of
    tier minimum and price, NULL-padded), all in units and satang. ``wide``: the fee times a line's
    value may exceed 64 bits (PostgreSQL only: exact NUMERIC for those products).
    """
    values = ",\n".join("(" + ", ".join("NULL" if v is None else str(int(v)) for v in row) + ")"
                         for row in constants)
    tier_columns = "".join(f", lo{i}, p{i}" for i in range(depth))
    # The tier with the largest minimum the line's own quantity reaches (pricing.alone_price).
    alone = "CASE " + " ".join(f"WHEN l.quantity >= o.lo{i} THEN o.p{i}" for i in reversed(range(depth))) + " END"
    if wide:
        fee_floor = "div(CAST(fee AS NUMERIC) * fee_weight, fee_w)"
        fee_rem = "mod(CAST(fee AS NUMERIC) * fee_weight, fee_w)"
    else:
        fee_floor = "fee * fee_weight / fee_w"
        fee_rem = "fee * fee_weight % fee_w"
    # A line's weight in its offer's share: its tolerance when there is a surplus, else its quantity; with a
    # surplus every line first gets its quantity (its base).
    weight = "CASE WHEN o.surplus = 1 THEN l.tolerance ELSE l.quantity END"
    base = "CASE WHEN o.surplus = 1 THEN l.quantity ELSE 0 END"
    share = f"CAST(o.share_units AS BIGINT) * {weight} / o.share_weight"
    rem = f"CAST(o.share_units AS BIGINT) * {weight} % o.share_weight"
    # Ranked before the last line at the cut to get one more (or that line): earlier placed_at, then lower id.
    before_offer_cut = "(l.placed_at < o.cut_at OR (l.placed_at = o.cut_at AND l.id <= o.cut_id))"
    # Each line's allocation (pricing.allocate), given its offer's cut (offer_cuts below).
    line_alloc = f"""
    SELECT l.id, l.group_order_id, l.offer_id, l.quantity, l.placed_at, o.po_id, o.price_s, o.ref_s, o.ordered,
           o.fee, o.fee_w, o.even, {alone} AS alone_s,
           {base} + {share} + CASE WHEN {rem} > o.cut_rem OR ({rem} = o.cut_rem AND {before_offer_cut})
                                   THEN 1 ELSE 0 END AS alloc
    FROM order_lines l JOIN offer_cuts o ON o.offer_id = l.offer_id"""
    # ... and its fee weight, floor and remainder (pricing.split_fee).
    line_fee = f"""
    SELECT w.*, {fee_floor} AS fee_floor, {fee_rem} AS fee_rem
    FROM (SELECT z.*, CASE WHEN z.even = 1 THEN 1 ELSE z.alloc * z.price_s END AS fee_weight
          FROM ({line_alloc}) z) w"""
    sql = f"""
-- Per offer, what Python worked out with pricing.round_to_packs, pricing.tier_for and the fees
-- (pricing.network_fee, pricing.purchase_order_delivery_fee), in units and satang; then its tiers.
WITH offer_constants (offer_id, po_id, surplus, share_units, share_weight, price_s, ref_s, fee, fee_w, even,
                      ordered{tier_columns})
AS (VALUES {values}),

-- Largest remainder (pricing.allocate, pricing.largest_remainder), first step: per offer, its lines counted
-- by base and weight (one hash aggregate over the lines), each class's floor and remainder.
weight_classes AS (
  SELECT c.offer_id, c.base, c.w, c.n,
         CAST(o.share_units AS BIGINT) * c.w / o.share_weight AS share,
         CAST(o.share_units AS BIGINT) * c.w % o.share_weight AS rem
  FROM (SELECT l.offer_id, {base} AS base, {weight} AS w, count(*) AS n
        FROM order_lines l JOIN offer_constants o ON o.offer_id = l.offer_id
        GROUP BY l.offer_id, {base}, {weight}) c
  JOIN offer_constants o ON o.offer_id = c.offer_id
),

-- Second step: the remainders ranked per offer, largest first; the cut is the remainder at which the
-- units left after every floor run out, and ``take`` how many of its lines still get one more.
remainder_ranks AS (
  SELECT offer_id, rem, n,
         sum(n) OVER (PARTITION BY offer_id ORDER BY rem DESC ROWS UNBOUNDED PRECEDING) - n AS ranked_before,
         max(share_units) OVER (PARTITION BY offer_id) - sum(floors) OVER (PARTITION BY offer_id) AS units_left
  FROM (SELECT w.offer_id, w.rem, sum(w.n) AS n, sum(w.n * w.share) AS floors, max(o.share_units) AS share_units
        FROM weight_classes w JOIN offer_constants o ON o.offer_id = w.offer_id
        GROUP BY w.offer_id, w.rem) r
),
remainder_cuts AS (
  SELECT offer_id, rem AS cut_rem, units_left - ranked_before AS take
  FROM remainder_ranks WHERE ranked_before < units_left AND units_left <= ranked_before + n
),

-- Third step: only the lines at the cut are numbered, by the earlier placed_at, then the lower id.
cut_lines AS (
  SELECT l.offer_id, l.id, l.placed_at, {base} AS base, {share} AS share, c.take,
         row_number() OVER (PARTITION BY l.offer_id ORDER BY l.placed_at, l.id) AS k
  FROM order_lines l JOIN offer_constants o ON o.offer_id = l.offer_id
  JOIN remainder_cuts c ON c.offer_id = l.offer_id
  WHERE {rem} = c.cut_rem
),

-- Per offer: its constants and its cut (remainder, and the last line there to get one more unit).
offer_cuts AS (
  SELECT o.*, c.cut_rem, t.placed_at AS cut_at, t.id AS cut_id
  FROM offer_constants o
  LEFT JOIN remainder_cuts c ON c.offer_id = o.offer_id
  LEFT JOIN cut_lines t ON t.offer_id = o.offer_id AND t.k = t.take
),

-- The fee split (pricing.split_fee) by line value in satang per purchase order: a line's weight is
-- allocated × price, or 1 for every line when the order's value is 0 (``even``). First step: the lines
-- counted by allocation, from the classes (a class away from the cut gets one more unit or none as a
-- whole; the lines at the cut one by one), then by fee weight per purchase order.
allocation_classes AS (
  SELECT w.offer_id, w.base + w.share + CASE WHEN w.rem > c.cut_rem THEN 1 ELSE 0 END AS alloc, w.n
  FROM weight_classes w LEFT JOIN remainder_cuts c ON c.offer_id = w.offer_id
  WHERE c.cut_rem IS NULL OR w.rem <> c.cut_rem
  UNION ALL
  SELECT offer_id, base + share + CASE WHEN k <= take THEN 1 ELSE 0 END, 1 FROM cut_lines
),
fee_classes AS (
  SELECT po_id, n, fee, {fee_floor} AS fee_floor, {fee_rem} AS fee_rem
  FROM (SELECT po_id, fee_weight, max(fee) AS fee, max(fee_w) AS fee_w, sum(n) AS n
        FROM (SELECT o.po_id, o.fee, o.fee_w, a.n,
                     CASE WHEN o.even = 1 THEN 1 ELSE a.alloc * o.price_s END AS fee_weight
              FROM allocation_classes a JOIN offer_constants o ON o.offer_id = a.offer_id) y
        GROUP BY po_id, fee_weight) f
),

-- Second step: the fee remainders ranked per purchase order; the cut, and how many of its lines take one
-- more satang.
fee_ranks AS (
  SELECT po_id, fee_rem, n,
         sum(n) OVER (PARTITION BY po_id ORDER BY fee_rem DESC ROWS UNBOUNDED PRECEDING) - n AS ranked_before,
         max(fee) OVER (PARTITION BY po_id) - sum(floors) OVER (PARTITION BY po_id) AS satang_left
  FROM (SELECT po_id, fee_rem, sum(n) AS n, sum(n * fee_floor) AS floors, max(fee) AS fee
        FROM fee_classes GROUP BY po_id, fee_rem) r
),
fee_cuts AS (
  SELECT po_id, fee_rem AS cut_rem, satang_left - ranked_before AS take
  FROM fee_ranks WHERE ranked_before < satang_left AND satang_left <= ranked_before + n
),

-- Third step: only the lines at the fee cut are numbered, by the earlier placed_at, then the lower id.
fee_cut_lines AS (
  SELECT x.po_id, x.id, x.placed_at, c.take,
         row_number() OVER (PARTITION BY x.po_id ORDER BY x.placed_at, x.id) AS k
  FROM ({line_fee}) x JOIN fee_cuts c ON c.po_id = x.po_id
  WHERE x.fee_rem = c.cut_rem
),
po_cuts AS (
  SELECT c.po_id, c.cut_rem, t.placed_at AS cut_at, t.id AS cut_id
  FROM fee_cuts c JOIN fee_cut_lines t ON t.po_id = c.po_id AND t.k = c.take
)

-- Each line's allocation, its money in satang, in the order the lines are read. The amount
-- (pricing.line_amount: allocated × price + fee share) and the savings (pricing.line_savings: allocated ×
-- (reference price − price) − fee share) are computed when read (orders.models.Allocation).
INSERT INTO allocations (round_id, group_id, order_line_id, offer_id, purchase_order_id, quantity,
                         ordered_allocation, allocated, unit_price_satang, reference_price_satang,
                         alone_price_satang, fee_share_satang)
SELECT :round_id, g.group_id, x.id, x.offer_id, x.po_id, x.quantity, x.alloc, x.alloc,
       CASE WHEN x.ordered = 1 THEN x.price_s END, x.ref_s, x.alone_s,
       x.fee_floor + CASE WHEN x.fee_rem > p.cut_rem
                            OR (x.fee_rem = p.cut_rem AND (x.placed_at < p.cut_at
                                                           OR (x.placed_at = p.cut_at AND x.id <= p.cut_id)))
                          THEN 1 ELSE 0 END
FROM ({line_fee}) x
JOIN group_orders g ON g.id = x.group_order_id
LEFT JOIN po_cuts p ON p.po_id = x.po_id
"""
    return text(sql)
