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


def allocation_sql(constants: list[tuple[int | None, ...]], wide: bool, depth: int, postgres: bool,
                   key: tuple[int, int] | None = None) -> list[Any]:
    """The statements, in order, that insert every allocation (bind ``round_id``).

    The classes are two small temporary tables, analysed on PostgreSQL so the planner knows their size and
    joins the million lines to them by hash (a common table expression has no statistics: it took the
    classes for a handful of rows and hashed the lines instead). They are dropped at the end.

    ``constants``: per offer (offer id, purchase order id, surplus, units to share, their weight, price,
    reference price, fee of its order, the order's fee weight, even, ordered, then ``depth`` pairs of
    tier minimum and price, NULL-padded), all in units and satang. ``wide``: the fee times a line's
    value may exceed 64 bits (PostgreSQL only: exact NUMERIC for those products). ``key``: (per offer, per
    quantity) when offer id × per offer + quantity × per quantity + tolerance numbers the classes within 64
    bits: the lines are then joined to their class on that one number, which the planner, knowing it is
    distinct among the classes, hashes on the classes' side (on three columns it hashed the million lines).
    """
    values = ",\n".join("(" + ", ".join("NULL" if v is None else str(int(v)) for v in row) + ")"
                         for row in constants)
    tier_columns = "".join(f", lo{i}, p{i}" for i in range(depth))
    # The tier with the largest minimum the line's own quantity reaches (pricing.alone_price).
    alone = "CASE " + " ".join(f"WHEN c.quantity >= o.lo{i} THEN o.p{i}" for i in reversed(range(depth))) + " END"

    def fee_floor(weight: str) -> str:
        return f"div(CAST(fee AS NUMERIC) * {weight}, fee_w)" if wide else f"fee * {weight} / fee_w"

    def fee_rem(weight: str) -> str:
        return f"mod(CAST(fee AS NUMERIC) * {weight}, fee_w)" if wide else f"fee * {weight} % fee_w"

    def fee_weight(alloc: str) -> str:
        return f"CASE WHEN even = 1 THEN 1 ELSE ({alloc}) * price_s END"

    def standing(rem: str, cut: str) -> str:  # 1: one more for every line of the class, 0: none, 2: line by line
        return f"CASE WHEN {cut} IS NULL OR {rem} < {cut} THEN 0 WHEN {rem} > {cut} THEN 1 ELSE 2 END"

    # A line's weight in its offer's share: its tolerance when there is a surplus, else its quantity; with a
    # surplus every line first gets its quantity (its base).
    weight = "CASE WHEN o.surplus = 1 THEN c.tolerance ELSE c.quantity END"
    base = "CASE WHEN o.surplus = 1 THEN c.quantity ELSE 0 END"
    if key is not None:
        class_key = (f"CAST({{t}}.offer_id AS BIGINT) * {key[0]} + CAST({{t}}.quantity AS BIGINT) * {key[1]}"
                     " + {t}.tolerance")
        # The offer too: a line of another round or part is not bounded by this part's largest quantity.
        same_class = f"k.class_key = {class_key.format(t='l')} AND k.offer_id = l.offer_id"
    else:
        class_key = "0"
        same_class = "k.offer_id = l.offer_id AND k.quantity = l.quantity AND k.tolerance = l.tolerance"

    def ranked_before(at: str, line_id: str) -> str:  # the earlier placed_at, then the lower id
        return f"(l.placed_at < {at} OR (l.placed_at = {at} AND l.id <= {line_id}))"

    bonus = f"CASE WHEN k.standing = 2 THEN CASE WHEN {ranked_before('k.cut_at', 'k.cut_id')} THEN 1 ELSE 0 END " \
            "ELSE k.standing END"

    def fee_extra(b: int) -> str:
        return (f"CASE WHEN k.fs{b} = 2 THEN CASE WHEN {ranked_before('k.fee_cut_at', 'k.fee_cut_id')} THEN 1 ELSE 0 END "
                f"ELSE k.fs{b} END")

    classes_sql = f"""
CREATE TEMPORARY TABLE combine_classes AS
-- Per offer, what Python worked out with pricing.round_to_packs, pricing.tier_for and the fees
-- (pricing.network_fee, pricing.purchase_order_delivery_fee), in units and satang; then its tiers.
WITH offer_constants (offer_id, po_id, surplus, share_units, share_weight, price_s, ref_s, fee, fee_w, even,
                      ordered{tier_columns})
AS (VALUES {values}),

-- Classes of lines: per offer, the lines counted by quantity and tolerance (one hash aggregate over the lines).
-- Everything a line's allocation depends on but its placed_at and id is its class's: its base and its share of
-- the units (pricing.allocate: short, the ordered quantity is shared by quantity; surplus, every line gets its
-- quantity and the extra is shared by tolerance), the remainder of that share, and the price its own quantity
-- reaches buying alone (pricing.alone_price).
line_classes AS (
  SELECT c.offer_id, c.quantity, c.tolerance, c.n, o.po_id, o.price_s, o.ref_s, o.ordered, o.fee, o.fee_w, o.even,
         o.share_units, {base} AS base, {alone} AS alone_s, {class_key.format(t="c")} AS class_key,
         CAST(o.share_units AS BIGINT) * {weight} / o.share_weight AS share,
         CAST(o.share_units AS BIGINT) * {weight} % o.share_weight AS rem
  FROM (SELECT l.offer_id, l.quantity, l.tolerance, count(*) AS n
        FROM order_lines l JOIN offer_constants o ON o.offer_id = l.offer_id
        GROUP BY l.offer_id, l.quantity, l.tolerance) c
  JOIN offer_constants o ON o.offer_id = c.offer_id
),

-- Largest remainder (pricing.largest_remainder): the remainders ranked per offer, largest first; the cut is the
-- remainder at which the units left after every floor run out, ``take`` how many of its lines still get one.
remainder_ranks AS (
  SELECT offer_id, rem, n,
         sum(n) OVER (PARTITION BY offer_id ORDER BY rem DESC ROWS UNBOUNDED PRECEDING) - n AS ranked_before,
         max(share_units) OVER (PARTITION BY offer_id) - sum(floors) OVER (PARTITION BY offer_id) AS units_left
  FROM (SELECT offer_id, rem, sum(n) AS n, sum(n * share) AS floors, max(share_units) AS share_units
        FROM line_classes GROUP BY offer_id, rem) r
),
remainder_cuts AS (
  SELECT offer_id, rem AS cut_rem, units_left - ranked_before AS take
  FROM remainder_ranks WHERE ranked_before < units_left AND units_left <= ranked_before + n
)
SELECT k.*, {standing("k.rem", "c.cut_rem")} AS standing, c.take
FROM line_classes k LEFT JOIN remainder_cuts c ON c.offer_id = k.offer_id
"""
    class_fees_sql = f"""
CREATE TEMPORARY TABLE combine_class_fees AS
-- Only the lines at the cut are numbered, by the earlier placed_at, then the lower id; the last of them to get
-- one more unit is the offer's threshold.
WITH cut_lines AS (
  SELECT l.offer_id, l.id, l.placed_at, k.po_id, k.base + k.share AS floor_alloc, k.take,
         row_number() OVER (PARTITION BY l.offer_id ORDER BY l.placed_at, l.id) AS k
  FROM order_lines l JOIN combine_classes k ON {same_class}
  WHERE k.standing = 2
),

-- The fees are split by line value in satang (pricing.split_fee): a line's weight is allocated × price, or 1
-- for every line when the purchase order's value is 0 (``even``). The lines counted by value per purchase
-- order, from the classes (a class away from the cut gets one more unit or none as a whole; the lines at the
-- cut one by one); the fee remainders ranked; the fee's cut.
fee_classes AS (
  SELECT po_id, n, fee, {fee_floor("fee_weight")} AS fee_floor, {fee_rem("fee_weight")} AS fee_rem
  FROM (SELECT po_id, fee_weight, max(fee) AS fee, max(fee_w) AS fee_w, sum(n) AS n
        FROM (SELECT po_id, fee, fee_w, n, {fee_weight("base + share + standing")} AS fee_weight
              FROM combine_classes WHERE standing < 2
              UNION ALL
              SELECT k.po_id, k.fee, k.fee_w, t.n, {fee_weight("t.alloc")}
              FROM (SELECT offer_id, floor_alloc + CASE WHEN k <= take THEN 1 ELSE 0 END AS alloc, count(*) AS n
                    FROM cut_lines GROUP BY offer_id, floor_alloc + CASE WHEN k <= take THEN 1 ELSE 0 END) t
              JOIN (SELECT DISTINCT po_id, fee, fee_w, even, price_s, offer_id FROM combine_classes) k
                ON k.offer_id = t.offer_id) y
        GROUP BY po_id, fee_weight) f
),
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
)

-- Per class, for either of its allocations (floor, floor + 1): the fee floor and its standing against the
-- fee's cut; and the offer's threshold. The order's threshold is filled in next.
SELECT x.*, {fee_floor(fee_weight("x.alloc0"))} AS ff0, {fee_floor(fee_weight("x.alloc0 + 1"))} AS ff1,
       {standing(fee_rem(fee_weight("x.alloc0")), "f.cut_rem")} AS fs0,
       {standing(fee_rem(fee_weight("x.alloc0 + 1")), "f.cut_rem")} AS fs1, f.take AS fee_take,
       CASE WHEN 1 = 0 THEN x.cut_at END AS fee_cut_at, CASE WHEN 1 = 0 THEN x.cut_id END AS fee_cut_id
FROM (SELECT k.*, k.base + k.share AS alloc0, t.placed_at AS cut_at, t.id AS cut_id
      FROM combine_classes k LEFT JOIN cut_lines t ON t.offer_id = k.offer_id AND t.k = t.take) x
LEFT JOIN fee_cuts f ON f.po_id = x.po_id
"""
    # Only the lines at the fee's cut are numbered, by the earlier placed_at, then the lower id; the last of them
    # to get one more satang is the purchase order's threshold.
    fee_threshold_sql = f"""
UPDATE combine_class_fees SET fee_cut_at = t.placed_at, fee_cut_id = t.id
FROM (SELECT po_id, placed_at, id, fee_take, r FROM (
        SELECT k.po_id, l.id, l.placed_at, k.fee_take,
               row_number() OVER (PARTITION BY k.po_id ORDER BY l.placed_at, l.id) AS r
        FROM order_lines l JOIN combine_class_fees k ON {same_class}
        WHERE (k.fs0 = 2 OR k.fs1 = 2) AND CASE WHEN {bonus} = 1 THEN k.fs1 ELSE k.fs0 END = 2) n
      WHERE r = fee_take) t
WHERE combine_class_fees.po_id = t.po_id
"""
    insert_sql = f"""
-- Each line's allocation from its class and, at a cut, its place against the threshold; its money in satang,
-- in the order the lines are read. The amount (pricing.line_amount: allocated × price + fee share) and the
-- savings (pricing.line_savings: allocated × (reference price − price) − fee share) are computed when read
-- (orders.models.Allocation).
INSERT INTO allocations (round_id, group_id, order_line_id, offer_id, purchase_order_id, quantity,
                         ordered_allocation, allocated, unit_price_satang, reference_price_satang,
                         alone_price_satang, fee_share_satang)
SELECT :round_id, g.group_id, l.id, l.offer_id, k.po_id, l.quantity, k.alloc0 + {bonus}, k.alloc0 + {bonus},
       CASE WHEN k.ordered = 1 THEN k.price_s END, k.ref_s, k.alone_s,
       CASE WHEN {bonus} = 1 THEN k.ff1 + {fee_extra(1)} ELSE k.ff0 + {fee_extra(0)} END
FROM order_lines l
JOIN combine_class_fees k ON {same_class}
JOIN group_orders g ON g.id = l.group_order_id
"""
    statements = ["DROP TABLE IF EXISTS combine_classes", "DROP TABLE IF EXISTS combine_class_fees", classes_sql]
    if postgres:
        statements.append("ANALYZE combine_classes")
    statements.append(class_fees_sql)
    if postgres:
        statements.append("ANALYZE combine_class_fees")
    statements += [fee_threshold_sql, insert_sql, "DROP TABLE combine_classes", "DROP TABLE combine_class_fees"]
    return [text(sql) for sql in statements]
