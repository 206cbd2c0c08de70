"""Benchmark of the monthly summary over generated data, beside the bare aggregate query.

    python -m bench.summary_bench --rows 1000000          # 1M allocations + 100k market purchases
    python -m bench.summary_bench                          # quick: 100k allocations

A throwaway PostgreSQL database is created, built by the migrations, and filled with COPY (not the
ORM): one network, groups, suppliers, products, four delivered buying rounds with three-tier offers,
group orders, order lines, purchase orders and one allocation per order line, all received in the
benchmark month (Asia/Bangkok), plus marketplace purchases (90 % in that month). The rows are
written by COPY, behind the receipt and delivery services, so the child first fills the per-month roll-ups
the way the migration's backfill does (``reports.rollup_reads.rebuild``: every purchase order's receipt
statements, every month's delivery statement), and times that. Then it times, in the same run and over the
same rows, the median of 3 of:
  * the bare aggregate (the floor): allocations of the month GROUP BY group, and market purchases GROUP BY buyer;
  * ``reports.services.build_summary`` (every figure, 12-month trend, stored snapshot), from the roll-ups;
  * the month read while in progress (``reports.services._live``: computed, stored nowhere), from the roll-ups;
  * the same figures by the scan of every line (``compute_summary(..., scan=True)``), the reference;
and prints the ratios and the child's peak RSS (so data generation does not count). The database is
dropped afterwards unless --keep.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from orders.models import allocation_amount_sql
from pricing.money import CENT, to_satang

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MONTH = "2026-03"
MONTH_START = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)  # 1 March 00:00 in Bangkok
OFFERS_PER_ROUND = 125
LINES_PER_ORDER = 100
ROUNDS = 4
SUPPLIERS = 20
PRODUCTS = 200


def _q(i: int) -> int:
    """A deterministic, well spread quantity 1..50 for line i (no big lists in memory)."""
    return 1 + ((i * 2654435761) % 4294967296) % 50


def _db_url(name: str, driver: str = "postgresql") -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0].replace('postgresql', driver, 1)}/{name}"


def _tiers(price: Decimal) -> list[tuple[int, Decimal]]:
    return [(0, price), (500, (price * Decimal("0.95")).quantize(CENT)), (2000, (price * Decimal("0.90")).quantize(CENT))]


def _tier_for(tiers: list[tuple[int, Decimal]], qty: int) -> tuple[int, Decimal]:
    best = tiers[0]
    for tier in tiers:
        if tier[0] <= qty:
            best = tier
    return best


def generate(conn: Any, rows: int, purchases: int) -> dict[str, int]:
    groups = max(50, rows // (ROUNDS * LINES_PER_ORDER))
    now = datetime(2026, 2, 1, tzinfo=UTC)
    cur = conn.cursor()

    def copy(table: str, columns: str, gen: Iterable[tuple[Any, ...]]) -> int:
        n = 0
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
            for row in gen:
                cp.write_row(row)
                n += 1
        return n

    copy("networks", "id, name, timezone, fee_percent, created_at",
         [(1, "เครือข่ายทดสอบ", "Asia/Bangkok", Decimal("1.50"), now - timedelta(days=400))])
    copy("groups", "id, network_id, name, kind, district, subdistrict, members, registered_poor_members, created_at",
         ((g, 1, f"กลุ่มที่ {g}", "cooperative", "", "", 20 + g % 180, (20 + g % 180) // 3, now)
          for g in range(1, groups + 1)))
    copy("suppliers", "id, network_id, name, phone", ((s, 1, f"Supplier {s}", "") for s in range(1, SUPPLIERS + 1)))
    copy("products", "id, network_id, name, unit, category",
         ((p, 1, f"สินค้า {p}", "kg", "") for p in range(1, PRODUCTS + 1)))
    copy("buying_rounds", "id, network_id, name, state, closes_at, created_at, opened_at, closed_at, combined_at, "
         "delivered_at", ((r, 1, f"Round {r}", "delivered", now, now, now, now, now, now) for r in range(1, ROUNDS + 1)))

    offers = {}  # offer id -> (round, product, supplier, reference, tiers)
    for r in range(1, ROUNDS + 1):
        for k in range(OFFERS_PER_ROUND):
            oid = (r - 1) * OFFERS_PER_ROUND + k + 1
            price = Decimal(20 + (oid * 37) % 900).quantize(CENT)
            offers[oid] = (r, k % PRODUCTS + 1, k % SUPPLIERS + 1, (price * Decimal("1.12")).quantize(CENT),
                           _tiers(price))
    copy("offers", "id, round_id, product_id, supplier_id, pack_size, min_quantity, reference_price, delivery_fee",
         ((oid, o[0], o[1], o[2], 1, 0, o[3], Decimal("30.00")) for oid, o in offers.items()))
    copy("price_tiers", "offer_id, min_quantity, unit_price",
         ((oid, q, p) for oid, o in offers.items() for q, p in o[4]))

    # Which offers each group orders in a round: 100 consecutive of the round's 125.
    def lines() -> Iterator[tuple[int, int, int, int, int, int]]:
        line_id = 0
        for r in range(1, ROUNDS + 1):
            for g in range(1, groups + 1):
                order_id = (r - 1) * groups + g
                offset = g % (OFFERS_PER_ROUND - LINES_PER_ORDER + 1)
                for k in range(offset, offset + LINES_PER_ORDER):
                    line_id += 1
                    yield line_id, order_id, r, g, (r - 1) * OFFERS_PER_ROUND + k + 1, _q(line_id)

    totals: dict[int, int] = {}
    for _, _, _, _, oid, qty in lines():
        totals[oid] = totals.get(oid, 0) + qty
    copy("group_orders", "id, round_id, group_id, created_at, updated_at",
         (((r - 1) * groups + g, r, g, now, now) for r in range(1, ROUNDS + 1) for g in range(1, groups + 1)))
    copy("order_lines", "id, group_order_id, offer_id, quantity, tolerance, placed_at",
         ((lid, order, oid, qty, 0, now) for lid, order, _, _, oid, qty in lines()))

    # One purchase order per (round, supplier), received at spread times inside the month.
    po_of = {}
    po_rows = []
    for r in range(1, ROUNDS + 1):
        for s in range(1, SUPPLIERS + 1):
            pid = (r - 1) * SUPPLIERS + s
            po_of[(r, s)] = pid
            po_rows.append((pid, r, s, now, MONTH_START + timedelta(days=(pid * 3) % 28, hours=pid % 24)))
    price_of = {oid: _tier_for(o[4], totals.get(oid, 0)) for oid, o in offers.items()}
    po_value: dict[int, Decimal] = {}
    for oid, o in offers.items():
        pid = po_of[(o[0], o[2])]
        po_value[pid] = po_value.get(pid, Decimal(0)) + totals.get(oid, 0) * price_of[oid][1]
    copy("purchase_orders", "id, round_id, supplier_id, value, delivery_fee, network_fee, total, created_at, received_at",
         ((pid, r, s, po_value.get(pid, Decimal(0)), Decimal("0"), Decimal("0"), po_value.get(pid, Decimal(0)),
           created, received) for pid, r, s, created, received in po_rows))
    copy("purchase_order_lines", "purchase_order_id, offer_id, total_quantity, total_tolerance, packs, "
         "ordered_quantity, unit_price, tier_min_quantity, received_quantity",
         ((po_of[(o[0], o[2])], oid, totals[oid], 0, totals[oid], totals[oid], price_of[oid][1], price_of[oid][0],
           totals[oid]) for oid, o in offers.items() if oid in totals))

    def allocations() -> Iterator[tuple[Any, ...]]:
        for lid, _, r, g, oid, qty in lines():
            o = offers[oid]
            price = price_of[oid][1]
            alone = _tier_for(o[4], qty)[1]
            fee = (qty * price * Decimal("0.015")).quantize(CENT)
            # Money in satang; amount and savings follow from these (orders.models.Allocation).
            yield (lid, r, g, oid, po_of[(r, o[2])], qty, qty, qty, to_satang(price), to_satang(o[3]),
                   to_satang(alone), to_satang(fee))

    n_alloc = copy("allocations", "order_line_id, round_id, group_id, offer_id, purchase_order_id, quantity, "
                   "ordered_allocation, allocated, unit_price_satang, reference_price_satang, alone_price_satang, "
                   "fee_share_satang", allocations())

    listings = 500
    copy("listings", "id, network_id, group_id, name, unit, category, price, outside_price, reference_price, stock, "
         "district, description, state, created_at, updated_at",
         ((i, 1, i % groups + 1, f"ของดี {i}", "kg", "", Decimal(10 + i % 90), Decimal(8 + i % 90) if i % 3 else None,
           Decimal(12 + i % 90) if i % 4 else None, 1000, "", "", "active", now, now) for i in range(1, listings + 1)))

    def market() -> Iterator[tuple[Any, ...]]:
        for i in range(1, purchases + 1):
            lst = i % listings + 1
            seller = lst % groups + 1
            buyer = (seller + 1 + i % (groups - 1)) % groups + 1
            if buyer == seller:
                buyer = seller % groups + 1
            price = Decimal(10 + lst % 90)
            outside = Decimal(8 + lst % 90) if lst % 3 else None
            reference = Decimal(12 + lst % 90) if lst % 4 else None
            qty = _q(i)
            when = MONTH_START + timedelta(minutes=(i * 7) % (28 * 24 * 60))
            if i % 10 == 0:
                when -= timedelta(days=40)  # an earlier month, for the trend
            yield (i, 1, lst, buyer, seller, qty, price, outside, reference, qty * price,
                   qty * (price - outside) if outside is not None else Decimal(0),
                   qty * (reference - price) if reference is not None else Decimal(0),
                   "delivered", when, when, when)

    n_market = copy("market_purchases", "id, network_id, listing_id, buyer_group_id, seller_group_id, quantity, "
                    "unit_price, outside_price, reference_price, amount, income_gain, buyer_saving, state, placed_at, "
                    "confirmed_at, delivered_at", market())
    for table in ("networks", "groups", "suppliers", "products", "buying_rounds", "offers", "price_tiers",
                  "group_orders", "order_lines", "purchase_orders", "purchase_order_lines", "listings", "market_purchases"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    conn.autocommit = True
    cur.execute("VACUUM ANALYZE")
    conn.autocommit = False
    return {"groups": groups, "offers": len(offers), "allocations": n_alloc, "market_purchases": n_market}


BARE_SQL = [
    f"""SELECT a.group_id, sum({allocation_amount_sql('a')}), sum(a.allocated * a.reference_price_satang),
              sum(a.fee_share_satang), sum(a.allocated * (a.alone_price_satang - coalesce(a.unit_price_satang, 0)))
       FROM allocations a JOIN purchase_orders po ON po.round_id = a.round_id AND po.id = a.purchase_order_id
       JOIN buying_rounds r ON r.id = po.round_id
       WHERE r.network_id = 1 AND po.received_at >= %(start)s AND po.received_at < %(end)s
       GROUP BY a.group_id""",
    """SELECT buyer_group_id, sum(amount), sum(buyer_saving), count(*) FROM market_purchases
       WHERE network_id = 1 AND state = 'delivered' AND delivered_at >= %(start)s AND delivered_at < %(end)s
       GROUP BY buyer_group_id""",
]


def measure(db_name: str, runs: int) -> dict[str, object]:
    """In a fresh process: the bare aggregate and build_summary, median of `runs`, and peak RSS."""
    os.environ["DATABASE_URL"] = _db_url(db_name)
    os.environ.pop("REDIS_URL", None)
    from core import create_app
    from core.db import db
    from network.models import User
    from reports import periods, rollup_reads, services
    from reports.figures import compute_summary

    app = create_app({"JOBS_MODE": "manual", "TESTING": True})
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict[str, object] = {}
    with app.app_context():
        tz = periods.zone("Asia/Bangkok")
        start, end = periods.start_of(tz, 2026, 3), periods.start_of(tz, 2026, 4)
        t = time.perf_counter()
        rollup_reads.rebuild(1)  # the backfill: every purchase order's and month's statements
        db.session.commit()
        out["backfill"] = time.perf_counter() - t
        actor = User(network_id=1, email=f"c-{uuid.uuid4().hex[:6]}@bench.example.org", name="C", role="committee",
                     password_hash="!", session_version=0, active=True)
        db.session.add(actor)
        db.session.commit()
        actor_id = actor.id
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE allocation_month_offers")
            conn.exec_driver_sql("ANALYZE allocation_month_groups")
            conn.exec_driver_sql("ANALYZE market_month_groups")
            conn.commit()
        bare, build, live, scan = [], [], [], []
        result_rows = 0
        for _ in range(runs):
            t = time.perf_counter()
            with db.engine.connect() as conn:
                raw: Any = conn.connection.dbapi_connection  # psycopg's own connection: COPY and plain cursors
                with raw.cursor() as cur:
                    result_rows = 0
                    for sql in BARE_SQL:
                        cur.execute(sql, {"start": start, "end": end})
                        result_rows += len(cur.fetchall())
            bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            summary, _ = services.build_summary(1, MONTH)
            build.append(time.perf_counter() - t)
            db.session.remove()
            reader = db.session.get_one(User, actor_id)
            t = time.perf_counter()
            services._live(reader, MONTH)
            live.append(time.perf_counter() - t)
            db.session.remove()
            t = time.perf_counter()
            scanned = compute_summary(1, MONTH, scan=True)
            scan.append(time.perf_counter() - t)
            db.session.remove()
        same = dict(compute_summary(1, MONTH)) == dict(scanned)
        db.session.remove()
        with db.engine.connect() as conn:
            data = conn.exec_driver_sql(
                "SELECT data FROM monthly_summaries WHERE network_id = 1 AND month = %s ORDER BY version DESC "
                "LIMIT 1", (MONTH,)).scalar_one()
        data = data if isinstance(data, dict) else json.loads(data)
        out.update({
            "bare_runs": bare, "build_runs": build, "bare_median": statistics.median(bare),
            "build_median": statistics.median(build), "bare_result_rows": result_rows,
            "live_runs": live, "live_median": statistics.median(live), "scan_runs": scan,
            "scan_median": statistics.median(scan), "same_as_scan": same,
            "summary_groups": len(data["groups"]), "summary_products": len(data["products"]),
            "network": {k: data["network"][k] for k in ("spend", "savings", "price_reduction", "tier_attainment")},
        })
    out["rss_after_startup_kb"] = rss_start
    out["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="allocations to generate (default 100000)")
    parser.add_argument("--purchases", type=int, default=None, help="market purchases (default rows/10)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--measure", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return 0

    import psycopg

    name = f"ruamsue_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = dict(os.environ, DATABASE_URL=_db_url(name))
        env.pop("REDIS_URL", None)
        env.setdefault("RUAMSUE_INSTANCE", "/tmp/ruamsue-bench-instance")
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        t = time.perf_counter()
        with psycopg.connect(_db_url(name)) as conn:
            counts = generate(conn, args.rows, args.purchases if args.purchases is not None else args.rows // 10)
        generated = time.perf_counter() - t
        print(f"generated with COPY in {generated:.1f}s: {counts}")
        child = subprocess.run([sys.executable, "-m", "bench.summary_bench", "--measure", name, "--runs",
                                str(args.runs)], cwd=ROOT, env=env, capture_output=True, text=True)
        if child.returncode != 0:
            raise RuntimeError(child.stderr[-3000:])
        result = json.loads(child.stdout.strip().splitlines()[-1])
        bare, build = result["bare_median"], result["build_median"]
        print(f"bare aggregate (GROUP BY group over allocations + market purchases): median {bare * 1000:.0f} ms "
              f"of {[round(x * 1000) for x in result['bare_runs']]}")
        print(f"build_summary from the roll-ups (all figures, trend, stored):        median {build * 1000:.0f} ms "
              f"of {[round(x * 1000) for x in result['build_runs']]}")
        print(f"ratio build_summary / bare aggregate: {build / bare:.2f}x (target <= 1.0)")
        live = result["live_median"]
        print(f"month in progress read live from the roll-ups:                     median {live * 1000:.0f} ms "
              f"of {[round(x * 1000) for x in result['live_runs']]} (target <= 100 ms)")
        scan = result["scan_median"]
        print(f"the same figures by the scan of every line (the reference):        median {scan * 1000:.0f} ms "
              f"of {[round(x * 1000) for x in result['scan_runs']]} ({scan / bare:.2f}x the bare aggregate)")
        print(f"roll-ups equal to the scan, every figure: {result['same_as_scan']}; backfill of the roll-ups from "
              f"these rows (what migration rollups1 does): {result['backfill']:.2f} s; load average "
              f"{os.getloadavg()[0]:.1f}")
        print(f"peak RSS of the measuring process: {result['peak_rss_kb'] / 1024:.0f} MiB "
              f"(after app start-up: {result['rss_after_startup_kb'] / 1024:.0f} MiB)")
        print(f"summary: {result['summary_groups']} group lines, {result['summary_products']} product lines; "
              f"network {result['network']}")
    finally:
        if not args.keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
