"""Splitting a round's allocations over its households, set-based, beside its physical floor, on PostgreSQL.

    python -m bench.household_bench [--groups 1000] [--households 100] [--offers 10] [--runs 3]

A throwaway database is built by the migrations and filled by ``generate_series``: one round, ``--offers``
offers, ``--groups`` groups of ``--households`` households, every household asking for every offer (by
default 1,000,000 household lines), one allocation per (group, offer), a third of them short. Timed, the
median of ``--runs`` runs, each writing its rows into a fresh table and committed:

* the PHYSICAL floor: one row per household line and per allocation (the bill rows), straight from the tables;
* the split (``households/split_sql.py``): the same rows with the rule's units and satang computed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import psycopg

from bench.combine_bench import ADMIN, INSTANCE, ROOT
from orders.models import allocation_amount_sql, allocation_savings_sql

FILL = """
INSERT INTO networks (name, timezone, fee_percent, created_at) VALUES ('Bench households', 'Asia/Bangkok', 1, now());
INSERT INTO groups (network_id, name, kind, district, subdistrict, members, registered_poor_members, created_at)
  SELECT (SELECT max(id) FROM networks), 'G' || g, 'other', '', '', 300, 90, now() FROM generate_series(1, %(groups)s) g;
INSERT INTO suppliers (network_id, name, phone) VALUES ((SELECT max(id) FROM networks), 'S', '');
INSERT INTO products (network_id, name, unit, category)
  SELECT (SELECT max(id) FROM networks), 'P' || p, 'kg', '' FROM generate_series(1, %(offers)s) p;
INSERT INTO buying_rounds (network_id, name, state, closes_at, created_at)
  VALUES ((SELECT max(id) FROM networks), 'R', 'combined', now(), now());
INSERT INTO offers (round_id, product_id, supplier_id, pack_size, min_quantity, reference_price, delivery_fee)
  SELECT (SELECT max(id) FROM buying_rounds), p.id, (SELECT max(id) FROM suppliers), 1, 0, 50, 0 FROM products p;
INSERT INTO households (network_id, group_id, name, registered_poor, created_at)
  SELECT g.network_id, g.id, 'H' || h, h %% 3 = 0, now() FROM groups g, generate_series(1, %(households)s) h;
INSERT INTO household_lines (round_id, group_id, household_id, offer_id, quantity, updated_at)
  SELECT o.round_id, h.group_id, h.id, o.id, 1 + (h.id * 7 + o.id * 3) %% 9, now() FROM households h, offers o;
INSERT INTO allocations (round_id, group_id, order_line_id, offer_id, purchase_order_id, quantity, ordered_allocation,
                         allocated, unit_price_satang, reference_price_satang, alone_price_satang, fee_share_satang)
  SELECT t.round_id, t.group_id, row_number() OVER (), t.offer_id, 1, t.r, t.a, t.a, 4500, 5000, 4700,
         (t.group_id %% 97) * 100 + 37
  FROM (SELECT round_id, group_id, offer_id, sum(quantity) AS r,
               CASE WHEN (group_id + offer_id) %% 3 = 0 THEN sum(quantity) * 9 / 10 ELSE sum(quantity) + 2 END AS a
        FROM household_lines GROUP BY round_id, group_id, offer_id) t;
"""

FLOOR = """CREATE TABLE bench_bill_rows AS
SELECT h.round_id, h.group_id, h.offer_id, a.purchase_order_id, h.household_id, h.quantity AS requested,
       h.quantity AS allocated, a.fee_share_satang, {amount} AS amount, {savings} AS savings
FROM household_lines h JOIN allocations a ON a.round_id = h.round_id AND a.group_id = h.group_id
     AND a.offer_id = h.offer_id WHERE h.round_id = %(r)s
UNION ALL
SELECT round_id, group_id, offer_id, purchase_order_id, NULL, 0, allocated, fee_share_satang, {amount}, {savings}
FROM allocations a WHERE round_id = %(r)s""".format(amount=allocation_amount_sql("a"), savings=allocation_savings_sql("a"))


def _time(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> tuple[float, int]:
    conn.execute("DROP TABLE IF EXISTS bench_bill_rows")
    conn.execute("CHECKPOINT")
    start = time.perf_counter()
    with conn.transaction():
        conn.execute(sql, params)
    elapsed = time.perf_counter() - start
    rows = conn.execute("SELECT count(*) FROM bench_bill_rows").fetchone()
    return elapsed, int(rows[0]) if rows else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--households", type=int, default=100)
    parser.add_argument("--offers", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from households.split_sql import SPLIT_SQL

    name = f"bench_households_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        env = dict(os.environ, DATABASE_URL=url, RUAMSUE_INSTANCE=INSTANCE)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        with psycopg.connect(url, autocommit=True) as conn:
            start = time.perf_counter()
            with conn.transaction():
                for statement in filter(str.strip, FILL.split(";\n")):
                    conn.execute(statement, {"groups": args.groups, "households": args.households,
                                             "offers": args.offers})
            conn.execute("VACUUM ANALYZE")
            filled = time.perf_counter() - start
            rnd = conn.execute("SELECT max(id) FROM buying_rounds").fetchone()[0]  # type: ignore[index]
            lines = conn.execute("SELECT count(*) FROM household_lines").fetchone()[0]  # type: ignore[index]
            split = "CREATE TABLE bench_bill_rows AS " + SPLIT_SQL.replace("%", "%%").replace(":round_ids", "%(ids)s")
            floors, splits, rows = [], [], (0, 0)
            for _ in range(args.runs):
                f, fr = _time(conn, FLOOR, {"r": rnd})
                s, sr = _time(conn, split, {"ids": [rnd]})
                floors.append(f)
                splits.append(s)
                rows = (fr, sr)
            assert rows[0] == rows[1], rows  # the same rows written by both
            floor, measured = statistics.median(floors), statistics.median(splits)
            print(f"household lines: {lines:,} (filled in {filled:.1f} s); bill rows written: {rows[1]:,}")
            print(f"physical floor (write the rows): {floor:.2f} s   split (the rule, set-based): {measured:.2f} s"
                  f"   ratio {measured / floor:.2f}x   (median of {args.runs})")
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
