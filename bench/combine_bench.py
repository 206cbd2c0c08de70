"""Combine a generated round on PostgreSQL and print its time beside two floors from the same run.

    python -m bench.combine_bench --lines 100000 [--runs 3]

Floors, over the same rows: the bare ``SELECT offer_id, sum(quantity) ... GROUP BY offer_id`` and the
copy-through ``INSERT INTO allocations SELECT ... FROM order_lines`` (one row per line: the least any
combine must write). Data is generated here and loaded with COPY into a throwaway database.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OFFERS = 40
SUPPLIERS = 4


def _generate(conn: psycopg.Connection, lines: int) -> int:
    groups = max(1, lines // OFFERS)
    cur = conn.cursor()
    cur.execute("INSERT INTO networks (name, timezone, fee_percent, created_at) "
                "VALUES ('bench', 'Asia/Bangkok', 1, now()) RETURNING id")
    net = cur.fetchone()[0]
    cur.execute("INSERT INTO products (network_id, name, unit, category) VALUES (%s, 'urea', 'sack', '') "
                "RETURNING id", (net,))
    product = cur.fetchone()[0]
    suppliers = []
    for i in range(SUPPLIERS):
        cur.execute("INSERT INTO suppliers (network_id, name, phone) VALUES (%s, %s, '') RETURNING id",
                    (net, f"S{i}"))
        suppliers.append(cur.fetchone()[0])
    cur.execute("INSERT INTO buying_rounds (network_id, name, state, closes_at, created_at) "
                "VALUES (%s, 'bench', 'closed', now(), now()) RETURNING id", (net,))
    rnd = cur.fetchone()[0]
    offers = []
    for i in range(OFFERS):
        cur.execute("INSERT INTO offers (round_id, product_id, supplier_id, pack_size, min_quantity, "
                    "reference_price, delivery_fee) VALUES (%s, %s, %s, %s, 0, 50.00, 100.00) RETURNING id",
                    (rnd, product, suppliers[i % SUPPLIERS], 5 + i % 7))
        offer = cur.fetchone()[0]
        offers.append(offer)
        cur.execute("INSERT INTO price_tiers (offer_id, min_quantity, unit_price) VALUES "
                    "(%s, 0, 45.00), (%s, 1000, 43.00), (%s, 10000, 41.25)", (offer, offer, offer))
    with cur.copy("COPY groups (network_id, name, kind, district, subdistrict, members, registered_poor_members, "
                  "created_at) FROM STDIN") as copy:
        for g in range(groups):
            copy.write_row((net, f"G{g}", "other", "", "", 20, 5, "2026-11-01 00:00:00+00"))
    cur.execute("SELECT min(id) FROM groups WHERE network_id = %s", (net,))
    first_group = cur.fetchone()[0]
    with cur.copy("COPY group_orders (round_id, group_id, created_at, updated_at) FROM STDIN") as copy:
        for g in range(groups):
            copy.write_row((rnd, first_group + g, "2026-11-01 00:00:00+00", "2026-11-01 00:00:00+00"))
    cur.execute("SELECT min(id) FROM group_orders WHERE round_id = %s", (rnd,))
    first_order = cur.fetchone()[0]
    with cur.copy("COPY order_lines (group_order_id, offer_id, quantity, tolerance, placed_at) FROM STDIN") as copy:
        n = 0
        for g in range(groups):
            for o in offers:
                if n >= lines:
                    break
                copy.write_row((first_order + g, o, 1 + (g * 7 + o) % 23, (g + o) % 4,
                                f"2026-11-01 00:{(g // 60) % 60:02d}:{g % 60:02d}+00"))
                n += 1
    # A purchase order of another round for the copy-through floor's rows to point at.
    cur.execute("INSERT INTO buying_rounds (network_id, name, state, closes_at, created_at) "
                "VALUES (%s, 'floor', 'combined', now(), now()) RETURNING id", (net,))
    cur.execute("INSERT INTO purchase_orders (round_id, supplier_id, value, delivery_fee, network_fee, total, "
                "created_at) VALUES (%s, %s, 0, 0, 0, 0, now())", (cur.fetchone()[0], suppliers[0]))
    conn.commit()
    return rnd


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    name = f"ruamsue_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        env = dict(os.environ, DATABASE_URL=url, RUAMSUE_INSTANCE="/tmp/ruamsue-bench-instance")
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        with psycopg.connect(url) as conn:
            rnd = _generate(conn, args.lines)
            conn.autocommit = True
            conn.execute("ANALYZE")

            def group_by() -> None:
                conn.execute("SELECT o.id, sum(l.quantity) FROM order_lines l JOIN offers o ON o.id = l.offer_id "
                             "WHERE o.round_id = %s GROUP BY o.id", (rnd,)).fetchall()

            def copy_through() -> None:
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO allocations (order_line_id, round_id, group_id, offer_id, purchase_order_id, "
                        "quantity, ordered_allocation, allocated, unit_price, reference_price, alone_price, "
                        "fee_share, amount, savings) "
                        "SELECT l.id, go.round_id, go.group_id, l.offer_id, po.id, l.quantity, l.quantity, "
                        "l.quantity, 45.00, 50.00, 45.00, 0, 0, 0 FROM order_lines l "
                        "JOIN group_orders go ON go.id = l.group_order_id, "
                        "(SELECT min(id) AS id FROM purchase_orders) po WHERE go.round_id = %s", (rnd,))
                    raise _Rollback

            def reset() -> None:
                conn.execute("DELETE FROM invoices WHERE round_id = %s", (rnd,))
                conn.execute("DELETE FROM allocations WHERE round_id = %s", (rnd,))
                conn.execute("DELETE FROM purchase_order_lines WHERE purchase_order_id IN "
                             "(SELECT id FROM purchase_orders WHERE round_id = %s)", (rnd,))
                conn.execute("DELETE FROM purchase_orders WHERE round_id = %s", (rnd,))
                conn.execute("UPDATE buying_rounds SET state = 'closed' WHERE id = %s", (rnd,))

            from core import create_app
            from core.db import db
            from orders.combine import combine_round

            os.environ["DATABASE_URL"] = url
            app = create_app({"JOBS_MODE": "manual"})

            def combine() -> None:
                with app.app_context():
                    combine_round(rnd)
                    db.session.remove()

            combine()  # warm-up
            floors_g, floors_c, times = [], [], []
            for _ in range(args.runs):
                reset()
                floors_g.append(_timed(group_by))
                floors_c.append(_measure_raise(copy_through))
                times.append(_timed(combine))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        g, c, t = statistics.median(floors_g), statistics.median(floors_c), statistics.median(times)
        print(f"lines={args.lines} runs={args.runs} (medians; spread of combine runs "
              f"{min(times):.3f}-{max(times):.3f}s)")
        print(f"  floor GROUP BY offer_id      {g:8.3f} s")
        print(f"  floor copy-through INSERT    {c:8.3f} s")
        print(f"  combine_round                {t:8.3f} s   = {t / c:5.1f}x copy-through, {t / g:6.1f}x GROUP BY")
        print(f"  peak RSS of this process     {peak_mb:8.0f} MB")
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Rollback(Exception):
    pass


def _measure_raise(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        fn()
    except _Rollback:
        pass
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
