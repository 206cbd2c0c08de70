"""A short delivery of one purchase order of N lines, beside its physical floor, on PostgreSQL.

    python -m bench.receipt_bench [--lines 100000] [--runs 3]

A throwaway database is built by the migrations and filled with COPY as ``bench.combine_bench``
does, with one supplier (so one purchase order holds every line), and combined once by
``orders.combine.combine_round``. Then a fresh child process times, over the same rows, the median
of ``--runs`` runs of:

* the PHYSICAL floor: ``INSERT ... SELECT`` of one row per allocation of the purchase order, with
  the allocation's columns, into a table with only a primary key, committed;
* ``orders.delivery.record_receipt`` of a delivery short on every offer (a tenth missing): the
  shortage re-allocated over every line, fee shares re-split, amounts, savings and invoices updated;

restoring the combined allocations (untimed) before each run.
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
from typing import Any

import psycopg

from bench import combine_bench
from bench.combine_bench import ADMIN, FLOOR_TABLE, FLOOR_TABLE_NOW, INSTANCE, ROOT
from orders.models import allocation_amount_sql, allocation_savings_sql


def _child(url: str, rnd: int, runs: int) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = url
    os.environ["RUAMSUE_INSTANCE"] = INSTANCE
    from sqlalchemy import select

    from core import create_app
    from core.db import db
    from network.models import User
    from orders.combine import combine_round
    from orders.delivery import record_receipt
    from orders.models import PurchaseOrder, PurchaseOrderLine

    app = create_app({"JOBS_MODE": "manual"})
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(FLOOR_TABLE)
    conn.execute(FLOOR_TABLE_NOW)
    with app.app_context():
        combine_round(rnd, parts=False)
        db.session.remove()
        net = conn.execute("SELECT network_id FROM buying_rounds WHERE id = %s", (rnd,)).fetchone()[0]  # type: ignore[index]
        user_id = conn.execute(
            "INSERT INTO users (network_id, email, name, role, password_hash, session_version, active, locale, "
            "created_at) "
            "VALUES (%s, %s, 'C', 'committee', '!', 0, true, 'th', now()) RETURNING id",
            (net, f"c-{uuid.uuid4().hex[:6]}@bench.example.org")).fetchone()[0]  # type: ignore[index]
    po_id = conn.execute("SELECT id FROM purchase_orders WHERE round_id = %s", (rnd,)).fetchone()[0]  # type: ignore[index]
    lines = conn.execute("SELECT count(*) FROM allocations WHERE round_id = %s AND purchase_order_id = %s",
                         (rnd, po_id)).fetchone()[0]  # type: ignore[index]
    conn.execute("CREATE TABLE bench_allocations AS SELECT * FROM allocations")
    conn.execute("CREATE TABLE bench_invoices AS SELECT * FROM invoices")

    def reset() -> None:
        conn.execute("UPDATE allocations a SET allocated = b.allocated, fee_share_satang = b.fee_share_satang "
                     "FROM bench_allocations b WHERE a.round_id = b.round_id "
                     "AND a.group_id = b.group_id AND a.order_line_id = b.order_line_id")
        conn.execute("UPDATE invoices i SET total = b.total, savings = b.savings FROM bench_invoices b "
                     "WHERE i.id = b.id")
        conn.execute("UPDATE purchase_orders SET received_at = NULL WHERE id = %s", (po_id,))
        conn.execute("UPDATE purchase_order_lines SET received_quantity = NULL WHERE purchase_order_id = %s", (po_id,))
        conn.execute("UPDATE buying_rounds SET state = 'combined', delivered_at = NULL WHERE id = %s", (rnd,))
        conn.execute("DELETE FROM allocation_month_offers")
        conn.execute("DELETE FROM allocation_month_groups")
        conn.execute("VACUUM ANALYZE allocations")  # as autovacuum has done by the day the truck comes
        conn.execute("CHECKPOINT")

    def physical() -> float:
        # The floor: the allocation's 14 columns as they were (numeric money, amount and savings).
        conn.execute("TRUNCATE bench_floor")
        conn.execute("CHECKPOINT")
        start = time.perf_counter()
        conn.execute("INSERT INTO bench_floor SELECT order_line_id, round_id, group_id, offer_id, purchase_order_id, "
                     "quantity, ordered_allocation, allocated, unit_price_satang * 0.01, reference_price_satang * 0.01, "
                     "alone_price_satang * 0.01, fee_share_satang * 0.01, "
                     f"{allocation_amount_sql('a')} * 0.01, {allocation_savings_sql('a')} * 0.01 "
                     "FROM allocations a WHERE round_id = %s AND purchase_order_id = %s", (rnd, po_id))
        return time.perf_counter() - start

    def physical_now() -> float:
        # The same rows as they are stored now (12 columns, satang).
        conn.execute("TRUNCATE bench_floor_now")
        conn.execute("CHECKPOINT")
        start = time.perf_counter()
        conn.execute("INSERT INTO bench_floor_now SELECT order_line_id, round_id, group_id, offer_id, "
                     "purchase_order_id, quantity, ordered_allocation, allocated, unit_price_satang, "
                     "reference_price_satang, alone_price_satang, fee_share_satang "
                     "FROM allocations WHERE round_id = %s AND purchase_order_id = %s", (rnd, po_id))
        return time.perf_counter() - start

    def receipt() -> float:
        with app.app_context():
            actor = db.session.get(User, user_id)
            short = [{"offer_id": ln.offer_id, "received_quantity": ln.ordered_quantity - ln.ordered_quantity // 10}
                     for ln in db.session.scalars(select(PurchaseOrderLine).where(
                         PurchaseOrderLine.purchase_order_id == po_id))]
            db.session.rollback()
            start = time.perf_counter()
            assert actor is not None
            record_receipt(actor, po_id, short)
            elapsed = time.perf_counter() - start
            received = db.session.get(PurchaseOrder, po_id)
            assert received is not None and received.received_at is not None
            db.session.remove()
        return elapsed

    def rollup() -> float:
        """The receipt's roll-up statements alone (orders.rollups.count_receipt), committed: what they add."""
        from orders import rollups

        conn.execute("UPDATE purchase_orders SET received_at = now() WHERE id = %s", (po_id,))
        with app.app_context():
            start = time.perf_counter()
            rollups.count_receipt(po_id)
            db.session.commit()
            elapsed = time.perf_counter() - start
            db.session.remove()
        return elapsed

    reset()
    receipt()  # warm-up
    out: dict[str, list[float]] = {"physical": [], "physical_now": [], "receipt": [], "rollup": []}
    for _ in range(runs):
        reset()
        out["physical"].append(physical())
        out["physical_now"].append(physical_now())
        reset()
        out["receipt"].append(receipt())
        reset()
        out["rollup"].append(rollup())
    return {**out, "lines": lines, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(_child(argv[1], int(argv[2]), int(argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    name = f"ruamsue_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        env = dict(os.environ, DATABASE_URL=url, RUAMSUE_INSTANCE=INSTANCE)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        combine_bench.SUPPLIERS = 1  # one purchase order holds every line
        with psycopg.connect(url) as conn:
            rnd = combine_bench._generate(conn, args.lines)
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
        child = subprocess.run([sys.executable, "-m", "bench.receipt_bench", "--child", url, str(rnd), str(args.runs)],
                               cwd=ROOT, env=env, capture_output=True, text=True)
        if child.returncode != 0:
            raise RuntimeError(child.stderr[-3000:])
        r = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    p, t = statistics.median(r["physical"]), statistics.median(r["receipt"])
    print(f"\nReceipt benchmark: one purchase order of {r['lines']} lines, every offer short by a tenth; "
          f"medians of {args.runs} runs (load average {os.getloadavg()[0]:.1f})")
    print(f"  PHYSICAL floor (INSERT ... SELECT into a primary-key-only table): {p:7.3f} s  "
          f"{[round(x, 3) for x in r['physical']]}")
    print(f"  record_receipt (re-allocation, fee split, invoices):             {t:7.3f} s  "
          f"{[round(x, 3) for x in r['receipt']]}")
    pn = statistics.median(r["physical_now"])
    print(f"  PHYSICAL floor, today's 12 columns (satang):                   {pn:7.3f} s  "
          f"{[round(x, 3) for x in r['physical_now']]}")
    print(f"  ratio: {t / p:.2f}x (target <= 3.0); against today's columns {t / pn:.2f}x; "
          f"peak RSS of the process: {r['rss_kb'] / 1024:.0f} MB")
    u = statistics.median(r["rollup"])
    print(f"  of which the monthly roll-ups (orders.rollups.count_receipt):    {u:7.3f} s  "
          f"{[round(x, 3) for x in r['rollup']]} ({u / t:.0%} of the receipt; without them {(t - u) / p:.2f}x, "
          f"{(t - u) / pn:.2f}x against today's columns)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
