"""The split rule of ``pricing.households`` as one set-based statement (PostgreSQL), for whole rounds at once.

The monthly summary measures the reach of every group's households over every round of the month: 30,000
households a round in a province. One statement splits every allocation of the rounds named over their
households, floor + largest remainder in whole units (ties to the smaller household id), then the fee share
in satang by allocated quantity (ties to the smaller household id, the group's own row last). Exact: bigint
units and numeric satang, never float. tests/integration/test_household_split_sql.py checks it row by row
against the pure function; bench/household_bench.py measures it against writing the rows at all.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text

# Rows: (round_id, group_id, offer_id, purchase_order_id, household_id (NULL: the group's own row), requested,
# allocated, fee_share, amount, savings) for every allocation of :round_ids with households' requests or not.
SPLIT_SQL = """
WITH tot AS (
  SELECT round_id, group_id, offer_id, sum(quantity) AS rsum FROM household_lines
  WHERE round_id = ANY(:round_ids) GROUP BY round_id, group_id, offer_id
), alloc AS (
  SELECT a.round_id, a.group_id, a.offer_id, a.purchase_order_id, CAST(a.allocated AS BIGINT) AS a,
         coalesce(a.unit_price_satang, 0) * 0.01 AS unit_price, a.reference_price_satang * 0.01 AS reference_price,
         CAST(a.fee_share_satang AS NUMERIC) AS fee, coalesce(t.rsum, 0) AS rsum
  FROM allocations a LEFT JOIN tot t ON t.round_id = a.round_id AND t.group_id = a.group_id
       AND t.offer_id = a.offer_id
  WHERE a.round_id = ANY(:round_ids)
), req AS (
  SELECT al.round_id, al.group_id, al.offer_id, h.household_id, CAST(h.quantity AS BIGINT) AS r, al.a, al.rsum,
         CASE WHEN al.a >= al.rsum THEN h.quantity ELSE (al.a * h.quantity) / al.rsum END AS base,
         CASE WHEN al.a >= al.rsum THEN 0 ELSE (al.a * h.quantity) % al.rsum END AS rem
  FROM alloc al JOIN household_lines h ON h.round_id = al.round_id AND h.group_id = al.group_id
       AND h.offer_id = al.offer_id
), units AS (
  SELECT round_id, group_id, offer_id, household_id, r AS requested,
         base + CASE WHEN a < rsum AND row_number() OVER w <= a - sum(base) OVER p THEN 1 ELSE 0 END AS allocated,
         0 AS last
  FROM req
  WINDOW p AS (PARTITION BY round_id, group_id, offer_id),
         w AS (PARTITION BY round_id, group_id, offer_id ORDER BY rem DESC, household_id)
  UNION ALL
  SELECT round_id, group_id, offer_id, NULL, 0, CASE WHEN a > rsum THEN a - rsum ELSE 0 END, 1 FROM alloc
), fees AS (
  SELECT u.*, al.fee, al.a, al.unit_price, al.reference_price, al.purchase_order_id,
         CASE WHEN al.a = 0 THEN CASE WHEN u.last = 1 THEN al.fee ELSE 0 END
              ELSE div(al.fee * u.allocated, al.a) END AS fbase,
         CASE WHEN al.a = 0 THEN 0 ELSE mod(al.fee * u.allocated, al.a) END AS frem
  FROM units u JOIN alloc al USING (round_id, group_id, offer_id)
), shared AS (
  SELECT round_id, group_id, offer_id, purchase_order_id, household_id, requested, allocated, unit_price,
         reference_price,
         (fbase + CASE WHEN a > 0 AND row_number() OVER w <= fee - sum(fbase) OVER p THEN 1 ELSE 0 END) / 100
           AS fee_share
  FROM fees
  WINDOW p AS (PARTITION BY round_id, group_id, offer_id),
         w AS (PARTITION BY round_id, group_id, offer_id ORDER BY frem DESC, last, household_id)
)
SELECT round_id, group_id, offer_id, purchase_order_id, household_id, requested, allocated,
       CAST(fee_share AS NUMERIC(14, 2)) AS fee_share,
       CAST(allocated * unit_price + fee_share AS NUMERIC(14, 2)) AS amount,
       CAST(allocated * reference_price - (allocated * unit_price + fee_share) AS NUMERIC(14, 2)) AS savings
FROM shared
"""


def split_rows() -> Any:
    """The statement; bind ``round_ids`` (a list): every row of every bill of those rounds."""
    return text(SPLIT_SQL)
